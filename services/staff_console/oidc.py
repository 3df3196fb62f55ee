"""Production sign-in: OpenID Connect Authorization Code with PKCE (S256), by Authlib.

The IdP's endpoints come from its discovery document (``AUTH__DISCOVERY_URL``); the console is a
confidential client (``AUTH__CLIENT_ID`` / ``AUTH__CLIENT_SECRET``). ``state``, the PKCE verifier
and the nonce live in the server-side session until the IdP sends the browser back. The access
token (for the APIs' audience; ``AUTH__TOKEN_RESOURCE`` is sent as the RFC 8707 ``resource``
where the IdP needs it) and the refresh token stay in the session. Who the user is comes from the
APIs themselves (``GET /auth/whoami`` with that access token), so the console trusts exactly what
the APIs will trust."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.staff_console.settings import ConsoleSettings


class OidcError(Exception):
    pass


class Oidc:
    """Authorization Code + PKCE with Authlib's RFC 7636 and URL helpers; the two back-channel
    calls (code and refresh grants) are plain httpx posts. Authlib's own httpx integration is not
    used: its 1.9 release warns that module is deprecated, and the test suite treats warnings as
    errors."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._meta: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def redirect_uri(self) -> str:
        return self.settings.public_base_url.rstrip("/") + "/auth/callback"

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._meta is None:
                url = self.settings.auth.discovery_url
                if not url:
                    raise OidcError("STAFF_CONSOLE_AUTH__DISCOVERY_URL is not set")
                resp = httpx.get(url, timeout=5.0)
                resp.raise_for_status()
                self._meta = dict(resp.json())
            return self._meta

    def _extra(self) -> list[tuple[str, str]]:
        extra: list[tuple[str, str]] = []
        if self.settings.auth.token_resource:
            extra.append(("resource", self.settings.auth.token_resource))
        if self.settings.auth.token_audience:
            extra.append(("audience", self.settings.auth.token_audience))
        return extra

    def begin(self, next_path: str) -> tuple[str, dict[str, Any]]:
        """The IdP URL to send the browser to, and what to keep in the session until it returns."""
        verifier = generate_token(64)
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        params = [("response_type", "code"), ("client_id", self.settings.auth.client_id or ""),
                  ("redirect_uri", self.redirect_uri), ("scope", self.settings.oidc_scope), ("state", state),
                  ("nonce", nonce), ("code_challenge", create_s256_code_challenge(verifier)),
                  ("code_challenge_method", "S256"), *self._extra()]
        if "offline_access" in self.settings.oidc_scope.split():
            params.append(("prompt", "consent"))  # OIDC Core 11: offline_access is granted only with consent
        url = add_params_to_uri(self.metadata()["authorization_endpoint"], params)
        return url, {"state": state, "code_verifier": verifier, "nonce": nonce, "next": next_path,
                     "started": time.time()}

    def _token(self, data: list[tuple[str, str]]) -> dict[str, Any]:
        auth = self.settings.auth
        secret = auth.client_secret.get_secret_value() if auth.client_secret else ""
        kw: dict[str, Any] = {}
        if auth.client_auth_method == "client_secret_post":
            data = [*data, ("client_id", auth.client_id or ""), ("client_secret", secret)]
        else:  # RFC 6749 2.3.1: form-encode both before Basic
            from urllib.parse import quote_plus
            kw["auth"] = (quote_plus(auth.client_id or ""), quote_plus(secret))
        resp = httpx.post(self.metadata()["token_endpoint"], data=dict(data), timeout=10.0, **kw)
        if resp.status_code != 200:
            raise OidcError(f"token endpoint answered {resp.status_code}")
        token = dict(resp.json())
        if "access_token" not in token:
            raise OidcError("no access_token in the token response")
        if token.get("expires_in") and not token.get("expires_at"):
            token["expires_at"] = time.time() + float(token["expires_in"])
        return token

    def finish(self, pending: dict[str, Any], callback_url: str) -> dict[str, Any]:
        query = parse_qs(urlparse(callback_url).query)
        code = (query.get("code") or [""])[0]
        if not code:
            raise OidcError("no code in the callback")
        return self._token([("grant_type", "authorization_code"), ("code", code),
                            ("redirect_uri", self.redirect_uri), ("code_verifier", pending["code_verifier"]),
                            *self._extra()])

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self._token([("grant_type", "refresh_token"), ("refresh_token", refresh_token), *self._extra()])

    def end_session_url(self) -> str | None:
        try:
            value = self.metadata().get("end_session_endpoint")
        except (httpx.HTTPError, OidcError):
            return None
        return str(value) if value else None
