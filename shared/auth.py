"""JWT authentication. The only module that touches the JWT library (python-jose >= 3.5.0).

Tokens are verified against a JWKS: the City IdP's in production (URL or file), a
local RSA key in dev mode. Algorithms are pinned to ``settings.auth.algorithms``
(RS256/ES256): ``alg: none`` and HMAC algorithms are refused before any key is
looked at, which closes the HS/RS key-confusion attack. ``exp``, ``iss``, ``aud``
and ``sub`` are required; ``nbf`` is checked when present; tokens over
``max_token_bytes`` are refused unread. Only dev mode can sign.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from jose.backends.base import Key
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError, JWTError

from shared.errors import Forbidden, Unauthorized, Unavailable
from shared.settings import AuthSettings, Mode

DEV_KID = "civicsocial-dev-1"
log = structlog.get_logger("shared.auth")


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
        """A service identity: it holds a ``service:*`` role (a real IdP's client-credentials ``sub``
        is the client's id, whatever it is; dev tokens also use ``service:<name>`` as subject)."""
        return any(r.startswith("service:") for r in self.roles)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> Principal:
        if not self.has_any(*roles):
            raise Forbidden(f"This action needs one of the roles: {', '.join(sorted(roles))}.")
        return self


# --- the IdP's discovery document ---------------------------------------------------------


class Discovery:
    """``jwks_uri`` and ``token_endpoint`` from the IdP's OIDC discovery document, fetched once
    (and again after a failure) when the settings name a discovery URL instead of the endpoints."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._doc: dict[str, Any] | None = None

    def endpoint(self, name: str, explicit: str | None) -> str | None:
        if explicit or not self._settings.discovery_url:
            return explicit
        with self._lock:
            if self._doc is None:
                resp = httpx.get(self._settings.discovery_url, timeout=5.0)
                resp.raise_for_status()
                doc = resp.json()
                if not isinstance(doc, dict):
                    raise ValueError("the discovery document is not a JSON object")
                self._doc = doc
            value = self._doc.get(name)
        return str(value) if value else None


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


class KeysUnavailable(Unavailable):
    """No verification key can be had (the IdP's JWKS never answered): 503, not 500."""


class KeySet:
    """The verification keys, from the dev key, a JWKS file, or a JWKS URL.

    Why this is ours and not a library's: python-jose has no key-set cache, and the failure
    modes matter here (an anonymous request must never make us call the IdP):
    - keys are loaded once, then refreshed in the background when older than
      ``jwks_cache_seconds``; requests keep using the last good keys meanwhile, and while the
      IdP is down;
    - a token with an unknown ``kid`` triggers at most one refresh per
      ``jwks_min_refresh_seconds`` (single flight: concurrent requests wait for the same fetch),
      and the unknown kid is remembered for that long (negative cache);
    - with no key at all, ``KeysUnavailable`` (503 with Retry-After).
    """

    def __init__(self, settings: AuthSettings, mode: Mode, discovery: Discovery | None = None) -> None:
        self._settings = settings
        self._mode = mode
        self._discovery = discovery or Discovery(settings)
        self._lock = threading.Lock()  # single flight for fetches
        self._cached: list[dict[str, Any]] | None = None
        self._fetched_at = 0.0
        self._last_attempt = -1e9
        self._refreshing = False
        self._unknown: dict[str, float] = {}  # kid -> when it was found unknown
        self.fetches = 0  # observable in tests and metrics

    @property
    def loaded(self) -> list[dict[str, Any]] | None:
        """The key list as last loaded (None before the first load), without loading: a new
        list object after every fetch, so callers can tell that the keys changed."""
        return self._cached

    def keys(self) -> list[dict[str, Any]]:
        cached = self._cached
        if cached is None:
            return self._load_now()
        if time.monotonic() - self._fetched_at >= self._settings.jwks_cache_seconds:
            self._refresh_in_background()
        return cached

    def would_fetch(self, kid: str | None) -> bool:
        """Whether finding the key for ``kid`` could make a network call now (the first load, or
        a refresh for an unknown kid whose interval has passed). Stale keys never block: they
        refresh in the background."""
        cached = self._cached
        if cached is None:
            return True
        if kid is None or any(k.get("kid") == kid for k in cached):
            return False
        now = time.monotonic()
        interval = self._settings.jwks_min_refresh_seconds
        seen = self._unknown.get(kid)
        recently_unknown = seen is not None and now - seen < interval
        return not recently_unknown and now - self._last_attempt >= interval

    def keys_for_unknown_kid(self, kid: str) -> list[dict[str, Any]]:
        """A token names a kid we do not have: refresh once per interval, for all of them."""
        now = time.monotonic()
        interval = self._settings.jwks_min_refresh_seconds
        seen = self._unknown.get(kid)
        if seen is not None and now - seen < interval:
            return self._cached or []
        with self._lock:
            if time.monotonic() - self._last_attempt >= interval:
                self._fetch_locked()
        keys = self._cached or []
        if not any(k.get("kid") == kid for k in keys):
            if len(self._unknown) > 1000:
                self._unknown.clear()
            self._unknown[kid] = time.monotonic()
        return keys

    def _load_now(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._cached is None and time.monotonic() - self._last_attempt >= 1.0:
                self._fetch_locked()
            if self._cached is None:
                raise KeysUnavailable("The identity provider's signing keys cannot be loaded. Please retry shortly.",
                                      headers={"Retry-After": "5"})
            return self._cached

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run() -> None:
            try:
                with self._lock:
                    self._fetch_locked()
            finally:
                self._refreshing = False

        threading.Thread(target=run, name="jwks-refresh", daemon=True).start()

    def _fetch_locked(self) -> None:
        self._last_attempt = time.monotonic()
        self.fetches += 1
        try:
            keys = self._load().get("keys", [])
        except Exception as exc:  # noqa: BLE001 - keep serving the last good keys
            log.warning("jwks_fetch_failed", error=type(exc).__name__, have_keys=self._cached is not None)
            return
        if not isinstance(keys, list):
            log.warning("jwks_fetch_failed", error="no keys list")
            return
        self._cached = keys
        self._fetched_at = time.monotonic()
        self._unknown.clear()

    def _load(self) -> dict[str, Any]:
        s = self._settings
        if s.jwks_file:
            data: dict[str, Any] = json.loads(Path(s.jwks_file).read_text())
            return data
        jwks_url = self._discovery.endpoint("jwks_uri", s.jwks_url)
        if jwks_url:
            resp = httpx.get(jwks_url, timeout=5.0)
            resp.raise_for_status()
            fetched: dict[str, Any] = resp.json()
            return fetched
        if self._mode == "dev":
            return dev_jwks(s.dev_key_file)
        raise RuntimeError("no verification keys configured")


# Header parameters we understand; a token that marks anything as critical is refused (RFC 7515
# section 4.1.11: a recipient MUST reject a crit it does not understand, and we understand none).
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_NUMERIC_DATES = ("exp", "nbf", "iat")


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    exp: float
    keys: list[dict[str, Any]]  # the key list it was verified against


class TokenVerifier:
    """Verifies bearer tokens and remembers the ones it verified.

    Why a cache of verified tokens: a staff client sends the same token with every request until
    it expires, and verifying it again each time (base64 and JSON of header and claims, an RSA
    signature check, the claim rules) cost 100-110 µs in a loop and 190-480 µs inside a request,
    the largest single cost of an authenticated GET after its database work (``GET /v1/cases``,
    in-process, SQLite). A token's verdict depends only on its bytes, the keys and the clock: an
    entry holds the principal, the token's ``exp`` and the key list it was checked against; a hit
    is used only while ``exp`` (with the leeway) has not passed and the key set is still that very
    list, so a key refresh (rotation, a key withdrawn) makes every token be verified again. Refused
    tokens are never cached. Envoy's ``jwt_authn`` filter keeps the same kind of cache. Bounded at
    ``MAX_VERIFIED`` entries (oldest dropped first).
    """

    MAX_VERIFIED = 4096

    def __init__(self, settings: AuthSettings, mode: Mode) -> None:
        self.settings = settings
        self.keyset = KeySet(settings, mode)
        self._verified: dict[str, _Verified] = {}
        self._verified_lock = threading.Lock()
        # python-jose builds a key object from the JWK on every decode (about 0.3 ms of RSA
        # number parsing, more than the signature check itself): each JWK the key set hands out
        # is built once. The entry holds the JWK itself, so its id() is not reused while cached;
        # a refresh hands out new dicts, and the memo is dropped when it outgrows the key set.
        self._built: dict[tuple[int, str], tuple[dict[str, Any], Key]] = {}

    def verifies_without_io(self, token: str) -> bool:
        """True when ``verify(token)`` will not touch the network (so it may run on the event
        loop): the token was verified before, or the keys are loaded and the token's kid is known
        or was just found unknown."""
        if self._remembered(token) is not None:
            return True
        try:
            kid = jwt.get_unverified_header(token).get("kid") if len(token) <= self.settings.max_token_bytes else None
        except JWTError:
            return True  # refused without looking at any key
        return not self.keyset.would_fetch(kid)

    def _remembered(self, token: str) -> Principal | None:
        hit = self._verified.get(token)
        if hit is None:
            return None
        if hit.keys is not self.keyset.loaded or time.time() >= hit.exp + self.settings.leeway_seconds:
            self._verified.pop(token, None)
            return None
        return hit.principal

    def _remember(self, token: str, principal: Principal, claims: dict[str, Any],
                  keys: list[dict[str, Any]]) -> None:
        with self._verified_lock:
            while len(self._verified) >= self.MAX_VERIFIED:
                self._verified.pop(next(iter(self._verified)), None)
            self._verified[token] = _Verified(principal=principal, exp=float(claims["exp"]), keys=keys)

    def verify(self, token: str) -> Principal:
        remembered = self._remembered(token)
        if remembered is not None:
            return remembered
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
        if "crit" in header:
            raise Unauthorized("The token marks header parameters as critical that are not understood.")
        typ = str(header.get("typ") or "").lower()
        if s.require_access_token_typ and typ not in _ACCESS_TOKEN_TYPES:
            raise Unauthorized("The token is not an access token (typ at+jwt).")
        key, keys = self._key_for(header.get("kid"), alg)
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
                    "verify_iat": True,
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
        self._check_claims(claims)
        principal = self._principal(claims)
        self._remember(token, principal, claims, keys)
        return principal

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """What python-jose does not check (docs/security.md)."""
        s = self.settings
        for name in _NUMERIC_DATES:
            value = claims.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise Unauthorized(f"The token's {name} claim is not a number.")
        now = time.time()
        iat = claims.get("iat")
        if iat is not None and iat > now + s.leeway_seconds:
            raise Unauthorized("The token was issued in the future.")
        if not str(claims.get("sub") or "").strip():
            raise Unauthorized("The token has an empty subject.")
        exp = float(claims["exp"])
        start = float(iat) if iat is not None else now
        if exp - start > s.max_token_lifetime_seconds + s.leeway_seconds:
            raise Unauthorized("The token's lifetime is longer than this service accepts.")
        if s.token_use_claim and claims.get(s.token_use_claim) != s.token_use_value:
            raise Unauthorized("The token is not an access token.")

    def _key_for(self, kid: str | None, alg: str) -> tuple[Key, list[dict[str, Any]]]:
        """The key for ``kid`` and the key list it was found in."""
        keys = self.keyset.keys()
        found = _pick(keys, kid, alg)
        if found is None and kid is not None:
            keys = self.keyset.keys_for_unknown_kid(kid)
            found = _pick(keys, kid, alg)
        if found is None:
            raise Unauthorized("The token was signed with an unknown key.")
        return self._built_key(found, alg), keys

    def _built_key(self, jwk_dict: dict[str, Any], alg: str) -> Key:
        entry = self._built.get((id(jwk_dict), alg))
        if entry is not None and entry[0] is jwk_dict:
            return entry[1]
        try:
            built = jwk.construct(jwk_dict, alg)
        except JOSEError as exc:  # a JWK in the set that jose cannot build (wrong kty for alg...)
            raise Unauthorized("The token was signed with a key we cannot use.") from exc
        if len(self._built) > 64:
            self._built = {}
        self._built[(id(jwk_dict), alg)] = (jwk_dict, built)
        return built

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


def _pick(keys: list[dict[str, Any]], kid: str | None, alg: str) -> dict[str, Any] | None:
    usable = [k for k in keys if k.get("alg", alg) == alg]
    if kid is None:
        return usable[0] if len(keys) == 1 and usable else None
    return next((k for k in usable if k.get("kid") == kid), None)


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

    def __init__(self, settings: AuthSettings, mode: Mode, service: str, roles: list[str],
                 discovery: Discovery | None = None) -> None:
        self._settings = settings
        self._discovery = discovery or Discovery(settings)
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
        token_url = self._discovery.endpoint("token_endpoint", s.token_url)
        if not (token_url and s.client_id and s.client_secret):
            raise RuntimeError("production service calls need auth.token_url (or discovery_url), client_id and "
                               "client_secret")
        form = {"grant_type": "client_credentials", "scope": s.token_scope or " ".join(self._roles)}
        if s.token_audience:
            form["audience"] = s.token_audience
        if s.token_resource:
            form["resource"] = s.token_resource
        secret = s.client_secret.get_secret_value()
        headers = {"Accept": "application/json"}
        if s.client_auth_method == "client_secret_post":
            form.update(client_id=s.client_id, client_secret=secret)
        else:
            # RFC 6749 section 2.3.1: id and secret are form-urlencoded before they are joined
            # and base64-encoded (httpx's auth=(id, secret) skips that step).
            pair = f"{quote_plus(s.client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        resp = httpx.post(token_url, data=form, headers=headers, timeout=5.0)
        resp.raise_for_status()
        body = resp.json()
        return str(body["access_token"]), int(body.get("expires_in", 300))
