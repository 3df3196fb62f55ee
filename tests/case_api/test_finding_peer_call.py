"""The finding asks policy_api (acknowledgement check) with no transaction open: while policy_api
accepts the connection and never answers, unrelated writes go through; and if the case changes
while the finding waits, the finding is refused (409) instead of being written on stale facts.

policy_api is stood in for by a TCP socket on loopback that accepts and never answers: not a
mock of any service's behaviour, just the network condition."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.case_api.helpers import move, staff_case


class Silent:
    """Accepts connections on loopback and never answers until ``release()`` closes them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.set()

    def release(self) -> None:
        for conn in self._conns:
            conn.close()
        self._conns.clear()

    def close(self) -> None:
        self.release()
        self.sock.close()


@pytest.fixture
def silent_policy_api() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


async def _investigating_case(c, token) -> str:
    case = await staff_case(c, token)
    cid = case["id"]
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-9"}, headers=token("investigator"))
    assert r.status_code == 200, r.text
    return cid


async def _wait_for(event: threading.Event) -> None:
    for _ in range(500):
        if event.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the finding never called policy_api")


async def test_unrelated_write_completes_while_the_finding_waits_for_policy_api(
        make_app, client, token, silent_policy_api):
    app = make_app("case_api", policy_api_url=silent_policy_api.url, acknowledgement_timeout_seconds=30)
    c = client(app)
    cid = await _investigating_case(c, token)

    finding = asyncio.create_task(c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 2},
                                         headers=token("investigator", subject="inv-1")))
    await _wait_for(silent_policy_api.accepted)  # the finding is now inside its policy_api call

    other = await staff_case(c, token, department="Parks")  # an unrelated write
    assert other["state"] == "received"
    assert not finding.done()  # it completed while the finding was still waiting for policy_api

    silent_policy_api.release()  # policy_api drops the connection: the check answers "unknown"
    r = await finding
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "finding_recorded"
    assert r.json()["recommendation"]["policy"]["status"] == "unknown"


async def test_a_case_changed_while_the_finding_waits_is_refused(make_app, client, token, silent_policy_api):
    app = make_app("case_api", policy_api_url=silent_policy_api.url, acknowledgement_timeout_seconds=30)
    c = client(app)
    cid = await _investigating_case(c, token)

    finding = asyncio.create_task(c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 2},
                                         headers=token("investigator", subject="inv-1")))
    await _wait_for(silent_policy_api.accepted)
    r = await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-10"}, headers=token("investigator"))
    assert r.status_code == 200, r.text  # not blocked by the finding either

    silent_policy_api.release()
    r = await finding
    assert r.status_code == 409, r.text
    case = (await c.get(f"/v1/cases/{cid}", headers=token("investigator"))).json()
    assert case["state"] == "investigating" and case["finding"] is None and case["employee_id"] == "emp-10"
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True
