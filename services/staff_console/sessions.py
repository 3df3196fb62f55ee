"""Server-side sessions. The browser holds only a random session id (256 bits) in a cookie; the
session (the user's identity, their tokens, the CSRF token, one-shot messages) lives in Redis, or
in this process in dev and tests. Keys are the SHA-256 of the id, so a copy of the store holds no
usable cookie.

Timeouts: idle (``session_idle_minutes`` since the last request) and absolute
(``session_absolute_hours`` since sign-in); either ends the session, whatever the browser sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.staff_console.settings import ConsoleSettings


def new_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    id: str
    created: float
    seen: float
    csrf: str
    user: dict[str, Any] | None = None  # subject, roles, department, name (from the API's whoami)
    access_token: str | None = None
    refresh_token: str | None = None
    token_expires: float | None = None
    login: dict[str, Any] | None = None  # a pending OIDC login: state, code_verifier, nonce, next
    flash: list[dict[str, str]] = field(default_factory=list)
    form: dict[str, Any] | None = None  # a refused form: its id, errors and the values to show again
    expired: bool = False  # set for one request when an old session was ended by a timeout
    old_id: str | None = None  # the id this session replaced (rotation at sign-in), to delete

    @property
    def who(self) -> dict[str, Any]:
        """The signed-in user (routes behind ``require_user`` only)."""
        if self.user is None:
            raise RuntimeError("no user in this session")
        return self.user

    @classmethod
    def fresh(cls, now: float) -> Session:
        return cls(id=new_id(), created=now, seen=now, csrf=secrets.token_urlsafe(32))

    def rotate(self) -> None:
        """A new id and CSRF token at every change of privilege (sign-in), against fixation."""
        self.old_id = self.old_id or self.id
        self.id = new_id()
        self.csrf = secrets.token_urlsafe(32)

    def sign_in(self, *, user: dict[str, Any], access_token: str, refresh_token: str | None,
                expires_at: float | None, now: float) -> None:
        self.rotate()
        self.user, self.access_token, self.refresh_token, self.token_expires = user, access_token, refresh_token, \
            expires_at
        self.created = now  # the absolute timeout counts from sign-in
        self.login = None

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf.encode(), str(presented).encode())

    def add_flash(self, text: str, kind: str = "success") -> None:
        self.flash.append({"text": text, "kind": kind})

    def pop_flash(self) -> list[dict[str, str]]:
        items, self.flash = self.flash, []
        return items

    def pop_form(self) -> dict[str, Any] | None:
        form, self.form = self.form, None
        return form

    def dump(self) -> str:
        data = asdict(self)
        for transient in ("id", "expired", "old_id"):
            data.pop(transient)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, sid: str, text: str) -> Session:
        return cls(id=sid, **json.loads(text))


class Store(Protocol):
    def get(self, key: str) -> str | None: ...
    def put(self, key: str, value: str, ttl: int) -> None: ...
    def delete(self, key: str) -> None: ...


class MemoryStore:
    """Dev and tests only: one process, lost on restart."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < time.time():
                self._data.pop(key, None)
                return None
            return item[1]

    def put(self, key: str, value: str, ttl: int) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                now = time.time()
                self._data = {k: v for k, v in self._data.items() if v[0] >= now}
            self._data[key] = (time.time() + ttl, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)

    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        return str(value) if value is not None else None

    def put(self, key: str, value: str, ttl: int) -> None:
        self._redis.set(key, value, ex=max(ttl, 1))

    def delete(self, key: str) -> None:
        self._redis.delete(key)


def build_store(settings: ConsoleSettings) -> Store:
    return RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()


def _key(sid: str) -> str:
    return "staff_console:session:" + hashlib.sha256(sid.encode()).hexdigest()


class Sessions:
    def __init__(self, settings: ConsoleSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.idle = settings.session_idle_minutes * 60
        self.absolute = int(settings.session_absolute_hours * 3600)

    def open(self, sid: str | None, now: float) -> Session:
        if sid and len(sid) <= 100:
            text = self.store.get(_key(sid))
            if text is not None:
                session = Session.load(sid, text)
                if now - session.seen > self.idle or now - session.created > self.absolute:
                    self.store.delete(_key(sid))
                    fresh = Session.fresh(now)
                    fresh.expired = session.user is not None
                    return fresh
                session.seen = now
                return session
        return Session.fresh(now)

    def save(self, session: Session, now: float) -> None:
        if session.old_id:
            self.store.delete(_key(session.old_id))
            session.old_id = None
        remaining = min(self.idle, int(self.absolute - (now - session.created)))
        self.store.put(_key(session.id), session.dump(), remaining)

    def end(self, session: Session) -> None:
        self.store.delete(_key(session.id))


class SessionMiddleware:
    """Opens the session before the app runs (``scope['state']['session']``), saves it and sets
    the cookie when the response starts. Static files get no session."""

    def __init__(self, app: ASGIApp, *, sessions: Sessions,
                 skip_prefixes: tuple[str, ...] = ("/static/", "/healthz", "/readyz")) -> None:
        self.app = app
        self.sessions = sessions
        self.skip = skip_prefixes
        s = sessions.settings
        self.cookie = s.cookie_name
        self.secure = s.https

    def _sid(self, scope: Scope) -> str | None:
        for k, v in scope["headers"]:
            if k == b"cookie":
                for part in v.decode("latin-1").split(";"):
                    name, _, value = part.strip().partition("=")
                    if name == self.cookie:
                        return str(value)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        now = time.time()
        session = await run_in_threadpool(self.sessions.open, self._sid(scope), now)
        scope.setdefault("state", {})["session"] = session

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if scope["state"].get("session_ended"):
                    await run_in_threadpool(self.sessions.end, session)
                    cookie = f"{self.cookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
                else:
                    await run_in_threadpool(self.sessions.save, session, time.time())
                    cookie = f"{self.cookie}={session.id}; Path=/; HttpOnly; SameSite=Lax"
                if self.secure:
                    cookie += "; Secure"
                message["headers"] = [*message.get("headers", ()), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_wrapper)
