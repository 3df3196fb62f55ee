"""The three APIs, called as the signed-in user. The console never decides what a user may do:
it sends the user's own bearer token and shows what the API answers (it only hides buttons the
API would refuse, see ``roles.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.http import ServiceClient


@dataclass
class ApiProblem(Exception):
    """A 4xx/5xx answer from an API, with its RFC 9457 body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or f"HTTP {self.status}")

    def field_errors(self) -> list[tuple[str | None, str]]:
        """(field name or None, message) for each ``errors[]`` entry of the problem."""
        out: list[tuple[str | None, str]] = []
        for err in self.body.get("errors") or []:
            loc = [p for p in err.get("loc", []) if isinstance(p, str) and p not in ("body", "query", "path")]
            out.append((loc[0] if loc else None, str(err.get("msg", ""))))
        return out


class Api:
    def __init__(self, client: ServiceClient, token: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    def call(self, peer: str, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        resp = self._client.request(peer, method, path, json=json, params=clean or None, authenticated=False,
                                    headers=dict(self._headers))
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            raise ApiProblem(resp.status_code, body if isinstance(body, dict) else {})
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def raw(self, peer: str, path: str) -> Any:
        resp = self._client.request(peer, "GET", path, authenticated=False, headers=dict(self._headers))
        if resp.status_code >= 400:
            raise ApiProblem(resp.status_code, {})
        return resp

    def get(self, peer: str, path: str, **params: Any) -> Any:
        return self.call(peer, "GET", path, params=params)

    def post(self, peer: str, path: str, body: Any = None) -> Any:
        return self.call(peer, "POST", path, json=body)
