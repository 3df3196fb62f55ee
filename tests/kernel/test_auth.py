"""Token verification: pinned algorithms, required claims, size cap, dev-only signing."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from jose import jwt

from shared.auth import DEV_KID, Principal, ServiceTokenProvider, TokenVerifier, ensure_dev_key, issue_dev_token
from shared.errors import Forbidden, Unauthorized
from shared.settings import AuthSettings


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over):
    now = int(time.time())
    claims = {"iss": "civicsocial-dev", "aud": "civicsocial", "sub": "u1", "iat": now, "nbf": now,
              "exp": now + 600, "roles": ["investigator"], "department": "Police"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(auth: AuthSettings, claims: dict, **headers) -> str:
    key = ensure_dev_key(auth.dev_key_file).decode()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": DEV_KID, **headers})


@pytest.fixture
def verifier(auth_settings: AuthSettings) -> TokenVerifier:
    return TokenVerifier(auth_settings, "dev")


def test_valid_token_gives_principal(verifier, auth_settings):
    p = verifier.verify(_sign(auth_settings, _claims()))
    assert p == Principal(subject="u1", roles=frozenset({"investigator"}), department="Police")


def test_alg_none_refused(verifier):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(token)


def test_hs256_signed_with_public_key_refused(verifier, auth_settings):
    """The classic RS/HS confusion: an attacker signs with HMAC using the public key as secret."""
    private = serialization.load_pem_private_key(ensure_dev_key(auth_settings.dev_key_file), None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": DEV_KID})
    body = _b64(_claims(roles=["admin"]))
    import hashlib
    import hmac

    sig = base64.urlsafe_b64encode(
        hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    ).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(f"{header}.{body}.{sig}")


# The claims are made when the test runs, not at collection: a token made at collection expired
# (exp = now + 600) before this module ran in a long one-process run, and every case then failed
# with "The token has expired" instead of its own reason.
@pytest.mark.parametrize(
    ("make_claims", "message"),
    [
        (lambda: _claims(exp=int(time.time()) - 3600), "expired"),
        (lambda: _claims(aud="someone-else"), "claims"),
        (lambda: _claims(iss="https://evil.example"), "claims"),
        (lambda: _claims(exp=None), "claims|expired|exp"),
        (lambda: _claims(sub=None), "claims|sub"),
        (lambda: _claims(nbf=int(time.time()) + 3600), "claims|nbf|not yet"),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "no-exp", "no-sub", "not-yet-valid"],
)
def test_bad_claims_refused(verifier, auth_settings, make_claims, message):
    with pytest.raises(Unauthorized, match=f"(?i){message}"):
        verifier.verify(_sign(auth_settings, make_claims()))


def test_token_signed_by_another_key_refused(verifier, tmp_path: Path):
    other = AuthSettings(dev_key_file=tmp_path / "other.pem")
    with pytest.raises(Unauthorized, match=r"(?i)signature"):
        verifier.verify(_sign(other, _claims()))


def test_oversized_token_refused_unread(verifier, auth_settings):
    token = _sign(auth_settings, _claims(padding="x" * 10_000))
    with pytest.raises(Unauthorized, match="too large"):
        verifier.verify(token)


def test_garbage_refused(verifier):
    with pytest.raises(Unauthorized):
        verifier.verify("not-a-jwt")


def test_only_dev_mode_signs(auth_settings):
    with pytest.raises(RuntimeError, match="dev mode"):
        issue_dev_token(auth_settings, "production", subject="x", roles=["admin"])


def test_service_token_provider_caches_and_verifies(verifier, auth_settings):
    provider = ServiceTokenProvider(auth_settings, "dev", "feedback_api", ["service:feedback_api"])
    first = provider.token()
    assert provider.token() == first
    p = verifier.verify(first)
    assert p.is_service and p.roles == {"service:feedback_api"}


def test_jwks_file_is_used_in_production(auth_settings, tmp_path):
    from shared.auth import dev_jwks

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(dev_jwks(auth_settings.dev_key_file)))
    prod = AuthSettings(jwks_file=jwks, issuer="civicsocial-dev")
    verifier = TokenVerifier(prod, "production")
    assert verifier.verify(_sign(auth_settings, _claims())).subject == "u1"


def test_role_check():
    p = Principal(subject="u", roles=frozenset({"pio"}))
    assert p.require("pio", "admin") is p
    with pytest.raises(Forbidden):
        p.require("hr")


# --- over HTTP, on case_api ---------------------------------------------------------------


async def test_case_api_refuses_expired_and_alg_none(make_app, client, auth_settings, token):
    c = client(make_app("case_api"))
    ok = await c.get("/auth/whoami", headers=token("investigator", department="Police"))
    assert ok.status_code == 200 and ok.json()["roles"] == ["investigator"]

    expired = _sign(auth_settings, _claims(exp=int(time.time()) - 120))
    none = f"{_b64({'alg': 'none'})}.{_b64(_claims())}."
    for bad in (expired, none):
        r = await c.get("/auth/whoami", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["status"] == 401

    anonymous = await c.get("/auth/whoami")
    assert anonymous.status_code == 401
