"""Kernel tests use a scratch table of their own (not a service's), created in a service's
test database for the test and dropped after it, so they do not change when a service's
schema does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db import normalise_url


class ScratchBase(SQLModel, registry=registry()):
    pass


class Thing(ScratchBase, table=True):
    __tablename__ = "kernel_thing"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    count: int = 0


@pytest.fixture
def scratch_url(databases) -> Iterator[str]:
    """The URL of a database holding an empty ``kernel_thing`` table."""
    url = databases["feedback_api"].url
    engine = create_engine(normalise_url(url))
    ScratchBase.metadata.drop_all(engine)
    ScratchBase.metadata.create_all(engine)
    engine.dispose()
    yield url
    engine = create_engine(normalise_url(url))
    ScratchBase.metadata.drop_all(engine)
    engine.dispose()
