"""Timing privacy (issue 14 item 6): nothing a staff member can read gives a report's arrival more
precisely than its day. A report forwarded at 14:37:12.345678 is read back through every staff
view (case, list, export, reports, messages, audit trail) by a role that sees everything, and no
timestamp there is finer than midnight of the day; the SLA clock starts from the day; ids carry
no time; nothing logged at INFO names the moment."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.case_api.domain import timing
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward, idem

ARRIVAL = datetime(2026, 11, 20, 14, 37, 12, 345678, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)


def _timestamps(value: Any, path: str = "") -> list[tuple[str, datetime]]:
    """Every string in a JSON document that parses as a date-time with a time of day."""
    found: list[tuple[str, datetime]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _timestamps(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _timestamps(v, f"{path}[{i}]")
    elif isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return found
        found.append((path, parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)))
    return found


def test_day_of():
    assert timing.day_of(ARRIVAL) == MIDNIGHT
    assert timing.day_of(ARRIVAL.date()) == MIDNIGHT
    assert uuid.UUID(timing.opaque_id()).version == 4


async def test_no_staff_view_gives_the_arrival_finer_than_the_day(make_app, client, token, caplog):
    clock = FrozenClock(ARRIVAL)
    app = make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0)
    c = client(app)
    svc = token("service:feedback_api", subject="service:feedback_api")
    first = forward(received_on="2026-11-20", incident_key="post-5")
    caplog.set_level(logging.INFO)
    r = await c.post("/v1/intake/reports", json=first, headers={**svc, **idem(first["report_id"])})
    assert r.status_code == 201
    cid = r.json()["case_id"]
    clock.advance(timedelta(minutes=3, seconds=7, microseconds=1))
    second = forward(received_on="2026-11-20", incident_key="post-5")  # attaches to the same case
    assert (await c.post("/v1/intake/reports", json=second, headers={**svc, **idem(second["report_id"])})
            ).status_code == 200
    clock.advance(timedelta(minutes=1))
    r = await c.post(f"/v1/intake/reports/{first['report_id']}/messages", json={"message_id": "m-1", "body": "More."},
                     headers={**svc, **idem("m-1")})
    assert r.status_code == 201
    assert uuid.UUID(cid).version == 4

    admin = token("admin", subject="admin-1")  # sees every field
    views = {
        "case": (await c.get(f"/v1/cases/{cid}", headers=admin)).json(),
        "list": (await c.get("/v1/cases", headers=admin)).json(),
        "export": (await c.get("/v1/cases/export?format=json", headers=admin)).json(),
        "messages": (await c.get(f"/v1/cases/{cid}/messages", headers=admin)).json(),
        "audit": (await c.get(f"/v1/audit/cases/{cid}?limit=100", headers=admin)).json(),
    }
    assert views["case"]["created_at"].startswith("2026-11-20T00:00:00")
    assert views["case"]["due_at"].startswith("2026-11-22T00:00:00")  # 48 h from the day
    assert len(views["messages"]) == 1 and uuid.UUID(views["messages"][0]["id"]).version == 4
    intake_entries = [e for e in views["audit"] if e["actor"] == "service:feedback_api" or e["actor"] == "reporter"]
    assert {e["action"] for e in intake_entries} == {"case.created", "case.report_attached", "message.received"}
    for name, doc in views.items():
        docs = [e for e in doc if e in intake_entries] if name == "audit" else doc
        for path, at in _timestamps(docs):
            assert (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0), f"{name}{path} = {at.isoformat()}"
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    for moment in ("14:37", "14:40", "14:41"):
        assert moment not in logged
