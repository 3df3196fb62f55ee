"""Forged and malformed tokens, on every service: each is refused with 401 problem+json, and
nothing about the keys or the library leaks. ``/auth/whoami`` is the probe (it only
authenticates), plus one staff endpoint per service where it exists."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt

from shared.auth import DEV_KID, ensure_dev_key
from shared.settings import AuthSettings

SERVICES = ["policy_api", "feedback_api", "case_api"]
STAFF_PROBES = {"policy_api": "/v1/reviews/due", "feedback_api": "/v1/staff/feedback", "case_api": "/v1/cases"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings: AuthSettings, **over):
    now = int(time.time())
    c = {"iss": settings.issuer, "aud": settings.audience, "sub": "mallory", "iat": now, "nbf": now,
         "exp": now + 600, "roles": ["admin", "hr", "investigator", "service:feedback_api"]}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def forged_tokens(dev_key) -> dict[str, str]:
    settings = AuthSettings(dev_key_file=dev_key)
    private_pem = ensure_dev_key(dev_key)
    private = serialization.load_pem_private_key(private_pem, password=None)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    good = _claims(settings)
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    other_ec = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    rs = lambda claims, **h: jwt.encode(claims, private_pem.decode(), algorithm="RS256",  # noqa: E731
                                         headers={"kid": DEV_KID, **h})
    header_none = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": DEV_KID}).encode())
    body = _b64(json.dumps(good).encode())
    # HS256 with the public key as the HMAC secret (the RS/HS key-confusion attack). python-jose
    # refuses to use a PEM as an HMAC key, so this token is built by hand.
    import hashlib
    import hmac

    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": DEV_KID}).encode())
    hs_sig = _b64(hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest())
    valid = rs(good)
    head, _payload, sig = valid.split(".")
    tampered_payload = _b64(json.dumps({**good, "roles": ["admin"], "sub": "root"}).encode())
    return {
        "alg none": f"{header_none}.{body}.",
        "alg none, no dot": f"{header_none}.{body}",
        "alg NONE (case)": _b64(json.dumps({"alg": "NONE"}).encode()) + f".{body}.",
        "HS256 signed with the public key": f"{hs_header}.{body}.{hs_sig}",
        "RS256 by another key, our kid": jwt.encode(good, other_rsa.decode(), algorithm="RS256",
                                                    headers={"kid": DEV_KID}),
        "ES256 by another key": jwt.encode(good, other_ec.decode(), algorithm="ES256", headers={"kid": DEV_KID}),
        "unknown kid": rs(good, kid="attacker-key"),
        "expired": rs(_claims(settings, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200,
                              nbf=int(time.time()) - 7200)),
        "not yet valid": rs(_claims(settings, nbf=int(time.time()) + 3600)),
        "wrong audience": rs(_claims(settings, aud="some-other-api")),
        "wrong issuer": rs(_claims(settings, iss="https://evil.example")),
        "no exp": rs(_claims(settings, exp=None)),
        "no sub": rs(_claims(settings, sub=None)),
        "tampered payload": f"{head}.{tampered_payload}.{sig}",
        # over AUTH__MAX_TOKEN_BYTES (8 KiB) but under the header cap (16 KiB): the verifier refuses it
        "oversized": rs(_claims(settings, pad="A" * 9_000)),
        "garbage": "not.a.jwt",
        "empty segments": "..",
        "huge base64 header": _b64(b"{" + b'"a":"' + b"b" * 10_000 + b'"}') + ".e30.",
        "non-JSON header": _b64(b"\x00\xff\xfe") + f".{body}.sig",
        "roles not a list": rs(_claims(settings, roles={"admin": True})),
    }


@pytest.mark.parametrize("service", SERVICES)
async def test_forged_tokens_are_refused(service, make_app, client, dev_key):
    c = client(make_app(service))
    paths = ["/auth/whoami", STAFF_PROBES[service]]
    failures = []
    for name, tok in forged_tokens(dev_key).items():
        for path in paths:
            r = await c.get(path, headers={"Authorization": f"Bearer {tok}"})
            ok = (r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
                  and "BEGIN" not in r.text and "Traceback" not in r.text)
            if not ok:
                failures.append(f"{name} on {path}: {r.status_code} {r.text[:150]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("service", SERVICES)
async def test_malformed_authorization_headers(service, make_app, client):
    c = client(make_app(service))
    for value in ["Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer\x00x", "Bearer a b c", "Token abc"]:
        try:
            r = await c.get("/auth/whoami", headers={"Authorization": value})
        except Exception:  # the client itself refuses some header values (e.g. NUL): nothing to test
            continue
        assert r.status_code == 401, (value[:30], r.status_code, r.text[:200])
    # past the header cap (MAX_HEADER_BYTES, 16 KiB) the kernel refuses before any token is parsed
    r = await c.get("/auth/whoami", headers={"Authorization": "Bearer " + "A" * 70_000})
    assert r.status_code == 431 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("service", SERVICES)
async def test_a_valid_token_still_works(service, make_app, client, token):
    """The control: the same probe with a genuine dev token is accepted."""
    r = await client(make_app(service)).get("/auth/whoami", headers=token("auditor"))
    assert r.status_code == 200, r.text
