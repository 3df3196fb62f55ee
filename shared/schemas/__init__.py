"""Wire models the services exchange over REST.

These are contracts: change them additively (new optional fields) and keep the
exported OpenAPI specs in ``openapi/`` in step (``civicsocial openapi``).
"""

from shared.schemas.base import InputModel, OutputModel
from shared.schemas.page import Page
from shared.schemas.problem import Problem

__all__ = ["InputModel", "OutputModel", "Page", "Problem"]
