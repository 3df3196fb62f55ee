"""A page of rows as the use-cases return it; routers turn it into ``shared.schemas.page.Page``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """``items`` (at most ``limit``), the ``total`` matching, and ``next_offset`` (None on the
    last page), decided by whether a row past the page exists. ``total_exact`` is false when the
    count stopped at a cap: then at least ``total`` match."""

    items: list[T]
    total: int
    next_offset: int | None
    total_exact: bool = True

    @classmethod
    def of(cls, rows: list[T], *, total: int, limit: int, offset: int, cap: int | None = None) -> Listing[T]:
        """``rows`` as fetched with ``LIMIT limit + 1``; ``total`` as counted with ``LIMIT cap + 1``
        when there is a ``cap`` (so a count past it means more than ``cap`` match)."""
        more = len(rows) > limit
        exact = cap is None or total <= cap
        if not exact and cap is not None:
            total = cap
        return cls(items=rows[:limit], total=max(total, offset + min(len(rows), limit)),
                   next_offset=offset + limit if more else None, total_exact=exact)


def page(session: Session, query: Select[Any], *, order_by: Sequence[Any], limit: int, offset: int) -> Listing[Any]:
    """Two statements whatever the page size: the exact ``COUNT(*)`` over the same filter (no
    subquery of every column) and the page (``LIMIT limit + 1 OFFSET offset``)."""
    total = session.execute(query.with_only_columns(func.count(), maintain_column_froms=True)
                            .order_by(None)).scalar_one()
    rows = list(session.execute(query.order_by(*order_by).limit(limit + 1).offset(offset)).scalars())
    return Listing.of(rows, total=int(total), limit=limit, offset=offset)
