"""One place at a time: a named lease row in the service's own database.

Background jobs that must not run twice at once when a service has two instances (the
notification scheduler of case_api and of policy_api) take a lease before each pass:
``try_acquire`` returns True for the holder, renews it, and hands it over once it has expired
(a holder that died stops renewing). Each service declares its table on its own registry:
``class SchedulerLease(Base, LeaseColumns, table=True): __tablename__ = "scheduler_leases"``.

Why a row and not ``pg_advisory_lock``: the same code serves SQLite and PostgreSQL; a session
advisory lock belongs to one pooled connection (it would have to be held outside any unit of
work, and is lost silently when the pool recycles that connection); and a row can be read by an
operator (who holds it, until when). The lease is taken in a short write transaction, using the
app clock, so tests move time to hand it over. Jobs must still be idempotent (the lease narrows
double work, a unique key forbids double effects): a paused holder may outlive its lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from shared.db import Database
from shared.timeutil import as_utc


class LeaseColumns(SQLModel):
    name: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=64)
    lease_until: datetime
    acquired_at: datetime


def try_acquire(db: Database, table: type[LeaseColumns], *, name: str, owner: str, ttl: timedelta,
                now: datetime) -> bool:
    """Take or renew the lease ``name`` for ``owner`` until ``now + ttl``. False while another
    owner holds an unexpired lease (or won the race to create it)."""
    try:
        with db.write() as s:
            row = s.get(table, name, with_for_update=True, populate_existing=True)
            if row is None:
                s.add(table(name=name, owner=owner, lease_until=now + ttl, acquired_at=now))
                s.flush()
                return True
            if row.owner != owner and as_utc(row.lease_until) > now:
                return False
            if row.owner != owner:
                row.acquired_at = now
            row.owner, row.lease_until = owner, now + ttl
            s.add(row)
            return True
    except IntegrityError:  # another instance created the row first
        return False


def release(db: Database, table: type[LeaseColumns], *, name: str, owner: str, now: datetime) -> None:
    """Give the lease up (on shutdown), so another instance need not wait for it to expire."""
    with db.write() as s:
        row = s.get(table, name, with_for_update=True, populate_existing=True)
        if row is not None and row.owner == owner:
            row.lease_until = now
            s.add(row)
