"""JWT authentication. The only module that touches the JWT library (python-jose >= 3.5.0).

Tokens are verified against a JWKS: the City IdP's in production (URL or file), a
local RSA key in dev mode. Algorithms are pinned to ``settings.auth.algorithms``
(RS256/ES256): ``alg: none`` and HMAC algorithms are refused before any key is
looked at, which closes the HS/RS key-confusion attack. ``exp``, ``iss``, ``aud``
and ``sub`` are required; ``nbf`` is checked when present; tokens over
``max_token_bytes`` are refused unread. Only dev mode can sign.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from shared.errors import Forbidden, Unauthorized
from shared.settings import AuthSettings, Mode

DEV_KID = "civicsocial-dev-1"


class Role(StrEnum):
    # policy_api staff
    policy_editor = "policy_editor"
    policy_approver = "policy_approver"
    records_manager = "records_manager"
    # case_api staff
    intake = "intake"
    investigator = "investigator"
    hr = "hr"
    department_director = "department_director"
    pio = "pio"
    auditor = "auditor"
    monitor = "monitor"
    admin = "admin"
    # service identities (client credentials); each is scoped to what its service calls
    svc_feedback = "service:feedback_api"
    svc_case = "service:case_api"
    svc_policy = "service:policy_api"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    name: str | None = None

    @property
    def is_service(self) -> bool:
        return self.subject.startswith("service:")

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> Principal:
        if not self.has_any(*roles):
            raise Forbidden(f"This action needs one of the roles: {', '.join(sorted(roles))}.")
        return self


# --- keys ---------------------------------------------------------------------------


def ensure_dev_key(path: Path) -> bytes:
    """Create the dev signing key on first use (0600). Returns its PEM."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_bytes()


def dev_jwks(path: Path) -> dict[str, Any]:
    private = serialization.load_pem_private_key(ensure_dev_key(path), password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = jwk.construct(public_pem.decode(), "RS256").to_dict()
    key.update({"kid": DEV_KID, "use": "sig", "alg": "RS256"})
    key = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in key.items()}
    return {"keys": [key]}


class KeySet:
    """The verification keys, from the dev key, a JWKS file, or a JWKS URL (cached)."""

    def __init__(self, settings: AuthSettings, mode: Mode) -> None:
        self._settings = settings
        self._mode = mode
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._fetched_at = 0.0

    def keys(self, *, refresh: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            fresh = time.monotonic() - self._fetched_at < self._settings.jwks_cache_seconds
            if self._cached is None or refresh or not fresh:
                self._cached = self._load()
                self._fetched_at = time.monotonic()
            keys: list[dict[str, Any]] = self._cached.get("keys", [])
            return keys

    def _load(self) -> dict[str, Any]:
        s = self._settings
        if s.jwks_file:
            data: dict[str, Any] = json.loads(Path(s.jwks_file).read_text())
            return data
        if s.jwks_url:
            resp = httpx.get(s.jwks_url, timeout=5.0)
            resp.raise_for_status()
            fetched: dict[str, Any] = resp.json()
            return fetched
        if self._mode == "dev":
            return dev_jwks(s.dev_key_file)
        raise RuntimeError("no verification keys configured")


class TokenVerifier:
    def __init__(self, settings: AuthSettings, mode: Mode) -> None:
        self.settings = settings
        self.keyset = KeySet(settings, mode)

    def verify(self, token: str) -> Principal:
        s = self.settings
        if len(token) > s.max_token_bytes:
            raise Unauthorized("The token is too large.")
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise Unauthorized("The token is malformed.") from exc
        alg = header.get("alg")
        if alg not in s.algorithms:
            raise Unauthorized(f"Token algorithm {alg!r} is not accepted.")
        key = self._key_for(header.get("kid"), alg)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=s.audience,
                issuer=s.issuer,
                options={
                    "require_exp": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                    "verify_nbf": True,
                    "leeway": s.leeway_seconds,
                },
            )
        except ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except JWTClaimsError as exc:
            raise Unauthorized(f"The token's claims are not valid: {exc}.") from exc
        except JWTError as exc:
            # e.g. a bad signature, or a required claim missing ("Token is missing the exp claim")
            raise Unauthorized(f"The token is not valid: {str(exc).rstrip('.')}.") from exc
        return self._principal(claims)

    def _key_for(self, kid: str | None, alg: str) -> dict[str, Any]:
        for refresh in (False, True):
            keys = self.keyset.keys(refresh=refresh)
            for key in keys:
                if key.get("alg", alg) != alg:
                    continue
                if kid is None and len(keys) == 1:
                    return key
                if kid is not None and key.get("kid") == kid:
                    return key
        raise Unauthorized("The token was signed with an unknown key.")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        raw_roles = claims.get(self.settings.roles_claim) or []
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        if not isinstance(raw_roles, list):
            raise Unauthorized("The token's roles claim is not a list.")
        department = claims.get(self.settings.department_claim)
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(str(r) for r in raw_roles),
            department=str(department) if department else None,
            name=str(claims["name"]) if claims.get("name") else None,
        )


# --- signing: dev mode only -----------------------------------------------------------


def issue_dev_token(
    settings: AuthSettings,
    mode: Mode,
    *,
    subject: str,
    roles: list[str],
    department: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """Sign a token with the local dev key. Refuses outside dev mode."""
    if mode != "dev":
        raise RuntimeError("dev tokens can only be issued in dev mode")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        settings.roles_claim: roles,
    }
    if department:
        claims[settings.department_claim] = department
    if name:
        claims["name"] = name
    key = ensure_dev_key(settings.dev_key_file).decode()
    token: str = jwt.encode(claims, key, algorithm="RS256", headers={"kid": DEV_KID})
    return token


class ServiceTokenProvider:
    """Bearer tokens for service-to-service calls, cached until shortly before expiry.

    Dev mode signs them locally; production uses OAuth2 client credentials at the IdP.
    """

    def __init__(self, settings: AuthSettings, mode: Mode, service: str, roles: list[str]) -> None:
        self._settings = settings
        self._mode = mode
        self._service = service
        self._roles = roles
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token and time.time() < self._expires - 60:
                return self._token
            self._token, ttl = self._fetch()
            self._expires = time.time() + ttl
            return self._token

    def invalidate(self, token: str) -> None:
        """The peer refused ``token`` (401): the next ``token()`` fetches a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, int]:
        s = self._settings
        if self._mode == "dev":
            ttl = 3600
            token = issue_dev_token(
                s, self._mode, subject=f"service:{self._service}", roles=self._roles, ttl_seconds=ttl
            )
            return token, ttl
        if not (s.token_url and s.client_id and s.client_secret):
            raise RuntimeError("production service calls need auth.token_url, client_id and client_secret")
        resp = httpx.post(
            s.token_url,
            data={"grant_type": "client_credentials", "scope": " ".join(self._roles)},
            auth=(s.client_id, s.client_secret),
            timeout=5.0,
        )
        resp.raise_for_status()
        body = resp.json()
        return str(body["access_token"]), int(body.get("expires_in", 300))
