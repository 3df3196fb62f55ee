"""Sessions, CSRF, headers and settings of the console, against the real APIs on loopback."""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import httpx
import pytest
import redis
from pydantic import ValidationError

from services.staff_console.main import CSP, create_app
from services.staff_console.sessions import MemoryStore, RedisStore, Session, Sessions
from services.staff_console.settings import ConsoleSettings
from tests.staff_console.conftest import ConsoleUser

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_pages_carry_a_strict_csp_and_load_nothing_from_another_origin(console_stack):
    user = ConsoleUser(console_stack.console.url)
    page = user.sign_in("admin", subject="emp-admin")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    for path in ("/queue", "/cases", "/monitoring", "/policies", "/registry", "/login", "/account"):
        body = user.http.get(path).text
        loads = re.findall(r'(?:src|href)="([^"]+)"', body)
        stylesheets = re.findall(r'<link[^>]+href="([^"]+)"', body)
        assert all(u.startswith("/") for u in stylesheets), (path, stylesheets)
        assert not [u for u in re.findall(r'src="([^"]+)"', body) if not u.startswith("/")], path
        assert "<script" not in body, path  # no JavaScript at all: every journey is plain forms
        assert loads  # sanity: the page has links


def test_the_session_cookie_is_http_only_lax_and_the_token_never_reaches_the_browser(console_stack):
    user = ConsoleUser(console_stack.console.url)
    first = user.http.get("/login")
    before = user.http.cookies.get("console")
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    page = user.sign_in("investigator", subject="emp-5")
    assert user.http.cookies.get("console") != before  # a new id at sign-in (no fixation)
    session = console_stack.console.app.state.sessions.open(user.http.cookies.get("console"), time.time())
    assert session.access_token and session.access_token not in page.text
    assert session.access_token not in page.headers.get("set-cookie", "")


def test_every_form_needs_the_session_csrf_token(console_stack, token):
    r = httpx.post(console_stack.case.url + "/v1/cases", headers=token("intake"),
                   json={"categories": ["other"], "summary": "x", "department": "Police"})
    case_id = r.json()["id"]
    user = ConsoleUser(console_stack.console.url)
    user.sign_in("intake", subject="emp-1")
    for data in ({}, {"csrf_token": "wrong"}):
        resp = user.http.post(f"/cases/{case_id}/notes", data={**data, "body": "forged"})
        assert resp.status_code == 400 and "This form has expired" in resp.text
    other = ConsoleUser(console_stack.console.url)
    other.sign_in("intake", subject="emp-2")
    resp = user.http.post(f"/cases/{case_id}/notes", data={"csrf_token": other.csrf("/account"), "body": "x"})
    assert resp.status_code == 400  # another session's token is no good either
    notes = httpx.get(console_stack.case.url + f"/v1/cases/{case_id}/notes", headers=token("intake")).json()
    assert notes == []
    ok = user.post(f"/cases/{case_id}/notes", {"body": "A real note"})
    assert ok.status_code == 200 and "The note was added." in ok.text


def test_logout_ends_the_session_and_pages_then_ask_to_sign_in(console_stack):
    user = ConsoleUser(console_stack.console.url)
    user.sign_in("intake", subject="emp-1")
    sid = user.http.cookies.get("console")
    out = user.post("/logout", {})
    assert "You have signed out." in out.text
    assert console_stack.console.app.state.sessions.store.get(
        "staff_console:session:" + hashlib.sha256(sid.encode()).hexdigest()) is None
    again = user.http.get("/queue", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?next=/queue")


def test_sign_in_never_redirects_off_site(console_stack):
    user = ConsoleUser(console_stack.console.url)
    token = user.csrf("/login")
    resp = user.http.post("/login", data={"csrf_token": token, "role": "intake", "subject": "e1",
                                          "next": "//evil.example/x"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/queue"


def test_the_dev_picker_refuses_unknown_roles_with_a_focused_summary(console_stack):
    user = ConsoleUser(console_stack.console.url)
    token = user.csrf("/login")
    resp = user.http.post("/login", data={"csrf_token": token, "role": "superuser", "subject": ""})
    assert resp.url.path == "/login" and "There is a problem" in resp.text
    assert 'href="#login-role"' in resp.text and 'href="#login-subject"' in resp.text
    assert resp.text.count("autofocus") == 1


def _settings(**over):
    return ConsoleSettings(**{"log_json": True, **over})


def test_idle_and_absolute_timeouts_end_a_session():
    sessions = Sessions(_settings(session_idle_minutes=30, session_absolute_hours=10), MemoryStore())
    s = Session.fresh(1000.0)
    s.sign_in(user={"subject": "a", "roles": ["hr"]}, access_token="t", refresh_token=None, expires_at=None,
              now=1000.0)
    sessions.save(s, 1000.0)
    assert sessions.open(s.id, 1000.0 + 29 * 60).user is not None  # active: the idle clock restarts
    sessions.save(s, 1000.0 + 29 * 60)
    idle = sessions.open(s.id, 1000.0 + 29 * 60 + 31 * 60)
    assert idle.user is None and idle.expired and idle.id != s.id
    t = Session.fresh(0.0)
    t.sign_in(user={"subject": "b", "roles": ["hr"]}, access_token="t", refresh_token=None, expires_at=None, now=0.0)
    now = 0.0
    for _ in range(40):  # busy all day, a request every 20 minutes
        now += 20 * 60
        current = sessions.open(t.id, now)
        if current.user is None:
            break
        sessions.save(current, now)
    assert current.user is None and now <= 10 * 3600 + 20 * 60


def test_sessions_in_redis_store_only_hashed_ids():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI's service container provides one)")
    sessions = Sessions(_settings(redis_url=REDIS_URL), RedisStore(REDIS_URL))
    s = Session.fresh(time.time())
    s.user = {"subject": "emp-" + uuid.uuid4().hex[:6], "roles": ["hr"], "department": None}
    sessions.save(s, time.time())
    assert client.get(s.id) is None
    assert sessions.open(s.id, time.time()).user == s.user
    assert 0 < client.ttl("staff_console:session:" + hashlib.sha256(s.id.encode()).hexdigest()) <= 1800
    sessions.end(s)
    client.close()


def test_production_needs_redis_and_the_idp_and_turns_docs_off(monkeypatch):
    with pytest.raises(ValidationError, match="STAFF_CONSOLE_REDIS_URL"):
        _settings(mode="production", auth={"discovery_url": "https://idp.example/.well-known/openid-configuration"})
    prod = _settings(mode="production", redis_url=REDIS_URL, auth={
        "discovery_url": "https://idp.example/.well-known/openid-configuration", "client_id": "console",
        "client_secret": "s"}, public_base_url="https://console.example")
    assert prod.cookie_name == "__Host-console" and not prod.docs_on
    app = create_app(prod, store=MemoryStore())
    paths = {getattr(r, "path", None) for r in app.routes}
    assert "/docs" not in paths and app.openapi_url is None
    monkeypatch.setenv("STAFF_CONSOLE_REDIS_ULR", "redis://x")
    with pytest.raises(ValidationError, match="STAFF_CONSOLE_REDIS_ULR"):
        ConsoleSettings()


def test_dev_docs_list_the_console_routes(console_stack):
    user = ConsoleUser(console_stack.console.url)
    user.sign_in("intake", subject="e1")
    page = user.http.get("/docs")
    assert page.status_code == 200 and "/cases/{case_id}" in page.text
