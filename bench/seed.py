"""Test data for the scenarios: the services' own demo loaders (over HTTP, as `civicsocial dev`
does) and 100k cases written straight through case_api's models (SQLAlchemy Core bulk inserts,
the case_api DB layer), so the list query is measured on a realistic table size."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Enum, Float, Integer, Numeric, String, Table, Text, func, select
from sqlalchemy.types import JSON

from services.devkit import DemoContext
from services.registry import SERVICES
from shared.auth import issue_dev_token
from shared.db import make_engine
from shared.ids import new_id
from shared.settings import AuthSettings


def run_demo_loaders(urls: dict[str, str], key_file: Any) -> list[str]:
    auth = AuthSettings(dev_key_file=key_file)

    def sign(*, roles: list[str], department: str | None = None, subject: str = "bench-loader") -> str:
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    notes = []
    ctx = DemoContext(urls=urls, token=sign)
    for name, spec in SERVICES.items():
        try:
            loader = importlib.import_module(f"{spec.package}.demo")
        except ModuleNotFoundError:
            notes.append(f"{name}: no demo loader")
            continue
        try:
            loader.load(ctx)
        except Exception as exc:
            notes.append(f"{name}: demo loader failed: {type(exc).__name__}: {str(exc)[:120]}")
    return notes


def _type(col: Any) -> Any:
    t = col.type
    return getattr(t, "impl_instance", None) or t  # sqlmodel's AutoString is a TypeDecorator


def _value(col: Any, i: int, now: datetime) -> Any:
    t = _type(col)
    if isinstance(t, Enum):
        enums = list(t.enums)
        return enums[i % len(enums)]
    if isinstance(t, DateTime):
        return now - timedelta(minutes=i)
    if isinstance(t, Date):
        return (now - timedelta(minutes=i)).date()
    if isinstance(t, Boolean):
        return False
    if isinstance(t, Integer):
        return i
    if isinstance(t, Float | Numeric):
        return 0.0
    if isinstance(t, JSON):
        return []
    if isinstance(t, String | Text):
        length = getattr(t, "length", None) or 64
        if col.name in ("id",) or col.primary_key:
            return new_id()[:length]
        return f"{col.name[:8]}-{i}"[:length]
    return None


def case_table() -> Table:
    models = importlib.import_module("services.case_api.domain.models")
    tables = models.Base.metadata.tables
    for name in ("cases", "case"):
        if name in tables:
            table: Table = tables[name]
            return table
    raise LookupError(f"no cases table in case_api models (tables: {', '.join(sorted(tables)) or 'none'})")


# Plausible values for the columns the list query filters and the response model validates.
CASE_VALUES: dict[str, list[Any]] = {
    "state": ["received", "triaged", "investigating", "finding_recorded", "closed"],
    "source": ["report", "report", "report", "staff", "monitoring"],
    "platform": ["facebook", "instagram", "x", "nextdoor"],
    "categories": [["personal_attack"], ["misleading_information"], ["arguing_with_public", "other"]],
    "summary": ["Seeded case for the list-query benchmark."],
    "links": [["https://www.facebook.com/cabq/posts/1"]],
    "evidence": [[]],
}


def seed_cases(db_url: str, n: int, *, batch: int = 5000) -> int:
    """Bulk-insert ``n`` plausible cases (spread over states, departments, dates). Columns with
    Python or server defaults keep them; required ones get type-appropriate values."""
    table = case_table()
    # IMMEDIATE on SQLite: each batch takes the write lock at BEGIN, waiting out case_api's own
    # writers (busy_timeout), instead of failing "database is locked" on a read-to-write upgrade
    engine = make_engine(db_url, sqlite_begin="IMMEDIATE")
    now = datetime.now(UTC)
    departments = ["Police", "Parks and Recreation", "Fire Rescue", "Transit", "Solid Waste", "Planning"]
    rnd = random.Random(9)
    with engine.begin() as conn:
        existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
    todo = max(0, n - existing)
    i = existing
    while todo > 0:
        rows = []
        for _ in range(min(batch, todo)):
            row: dict[str, Any] = {}
            for col in table.columns:
                if col.default is not None and not col.primary_key:
                    if getattr(col.default, "is_callable", False) or getattr(col.default, "is_scalar", False):
                        continue
                if col.server_default is not None:
                    continue
                if col.nullable and not col.primary_key:
                    if "department" in col.name:
                        row[col.name] = rnd.choice(departments)
                    continue
                if "department" in col.name and isinstance(_type(col), String):
                    row[col.name] = rnd.choice(departments)
                    continue
                if col.name in CASE_VALUES:
                    choices = CASE_VALUES[col.name]
                    row[col.name] = choices[rnd.randrange(len(choices))]
                    continue
                if col.name in ("reference", "case_reference"):
                    row[col.name] = f"C-B{i:07d}"
                    continue
                row[col.name] = _value(col, i + rnd.randint(0, 3), now)
            id_col = table.c.get("id")
            if id_col is not None and isinstance(_type(id_col), String):
                row["id"] = new_id()
            rows.append(row)
            i += 1
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
        todo -= len(rows)
    engine.dispose()
    return n




__all__ = ["case_table", "run_demo_loaders", "seed_cases"]
