"""The embeddable widget: loader script, sandboxed iframe document, static assets, full-page form.

Owned by the widget work (issue #8); everything under this folder is served from feedback_api's
own origin so a host page's scripts can never read what a reporter types.
"""

from fastapi import APIRouter

router = APIRouter(tags=["widget"])
