"""The widget's lists from policy_api (``PolicyDirectory``), against a real running policy_api:
one load however many callers arrive at once, a stale list served while one background reload
runs, a failed reload not retried at once, and each list encoded once however often it is served."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.feedback_api.domain.directory import PolicyDirectory
from shared.http import ServiceClient
from tests.support.polling import wait_for


class CountingClient(ServiceClient):
    """The real client, counting the paths it asks policy_api for."""

    def __init__(self, url: str) -> None:
        super().__init__({"policy_api": url}, timeout=2.0)
        self.asked: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def get(self, peer: str, path: str, **kw: Any) -> httpx.Response:
        with self._count_lock:
            self.asked[path] += 1
        return super().get(peer, path, **kw)


@pytest.fixture
def policy(make_app, live):
    return live(make_app("policy_api"))


@pytest.fixture
def peers(policy) -> Iterator[CountingClient]:
    client = CountingClient(policy.url)
    yield client
    client.close()


def add_account(policy, token, handle: str) -> str:
    body = {"platform": "facebook", "handle": handle, "profile_url": f"https://facebook.com/{handle.strip('@')}",
            "department": "Parks and Recreation", "purpose": "Park news"}
    r = httpx.post(policy.url + "/v1/accounts", json=body, headers=token("records_manager", "admin"), timeout=10)
    assert r.status_code == 201, r.text
    account_id: str = r.json()["id"]
    return account_id


def test_callers_arriving_together_share_one_load(policy, peers, token):
    add_account(policy, token, "@abqparks")
    directory = PolicyDirectory(peers, ttl_seconds=60)
    assert directory.peek("accounts") is None  # cold: nothing to serve without asking
    start = threading.Barrier(8)
    seen: list[list[str]] = []

    def visitor() -> None:
        start.wait()
        seen.append([a["id"] for a in directory.active_accounts()])

    threads = [threading.Thread(target=visitor) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(seen) == 8 and all(ids == seen[0] and len(ids) == 1 for ids in seen)
    assert peers.asked["/v1/accounts"] == 1
    assert directory.peek("accounts") is not None  # warm: served without a thread or a request


def test_a_stale_list_is_served_while_one_background_reload_runs(policy, peers, token):
    first = add_account(policy, token, "@abqparks")
    directory = PolicyDirectory(peers, ttl_seconds=0.2, revalidate_seconds=30)
    old = directory.listing("accounts")
    assert [a["id"] for a in old.items] == [first]
    second = add_account(policy, token, "@abqpools")
    time.sleep(0.3)  # past the TTL, inside the revalidation window

    served = [directory.peek("accounts") for _ in range(20)]
    assert all(s is old for s in served)  # the old list, at once, to every caller
    assert wait_for(lambda: directory.peek("accounts") is not old, timeout=10, interval=0.02)
    assert {a["id"] for a in directory.peek("accounts").items} == {first, second}
    assert peers.asked["/v1/accounts"] == 2  # one reload for twenty stale reads


def test_while_policy_api_is_down_the_last_list_is_served_and_not_asked_for_at_every_request(policy, peers, token):
    add_account(policy, token, "@abqparks")
    directory = PolicyDirectory(peers, ttl_seconds=0.1, revalidate_seconds=0.1, retry_seconds=30)
    good = directory.listing("accounts")
    policy.stop()
    time.sleep(0.25)  # past the TTL and the revalidation window: the next caller must load
    assert directory.listing("accounts") is good  # the load failed: the last good list
    asked = peers.asked["/v1/accounts"]
    for _ in range(10):  # within retry_seconds of that failure nobody waits on policy_api again
        assert directory.listing("accounts") is good
        assert directory.peek("accounts") is good
    assert peers.asked["/v1/accounts"] == asked


def test_with_the_cache_off_every_call_loads(policy, peers, token):
    directory = PolicyDirectory(peers, ttl_seconds=0)
    assert directory.active_accounts() == []
    account = add_account(policy, token, "@abqparks")
    assert [a["id"] for a in directory.active_accounts()] == [account]  # not the empty list from before
    assert directory.peek("accounts") is None


def test_a_list_is_encoded_once_however_often_it_is_served(policy, peers, token):
    add_account(policy, token, "@abqparks")
    directory = PolicyDirectory(peers, ttl_seconds=60)
    calls: list[int] = []

    def encode(items: list[dict[str, Any]]) -> bytes:
        calls.append(len(items))
        return b"[...]"

    listing = directory.listing("accounts")
    bodies = {id(directory.listing("accounts").encoded("json", encode)) for _ in range(50)}
    assert calls == [1] and len(bodies) == 1 and listing.encoded("json", encode) == b"[...]"
