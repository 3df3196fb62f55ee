"""Issue 21 items 3 and 4: the JWKS cannot be used as an amplifier, the IdP being down is a
503 not a 500, and tokens signed with the real key are still refused when their claims are odd."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from jose import jwt

from shared.auth import DEV_KID, KeysUnavailable, TokenVerifier, dev_jwks, ensure_dev_key
from shared.errors import Unauthorized
from shared.settings import AuthSettings


def _claims(**over):
    now = int(time.time())
    claims = {"iss": "civicsocial-dev", "aud": "civicsocial", "sub": "u1", "iat": now, "nbf": now,
              "exp": now + 600, "roles": ["investigator"]}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(auth: AuthSettings, claims: dict, kid: str = DEV_KID, **headers) -> str:
    key = ensure_dev_key(auth.dev_key_file).decode()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, **headers})


# The times are taken when the test runs, not at collection (a long one-process run reaches this
# module long after collection; see test_auth.test_bad_claims_refused).
@pytest.mark.parametrize(("over", "headers", "why"), [
    (lambda: {}, {"crit": ["exp"]}, "critical"),
    (lambda: {"exp": str(int(time.time()) + 600)}, {}, "exp"),
    (lambda: {"iat": "yesterday"}, {}, "iat"),
    (lambda: {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 4000}, {}, "future"),
    (lambda: {"sub": ""}, {}, "subject"),
    (lambda: {"sub": "   "}, {}, "subject"),
    (lambda: {"exp": int(time.time()) + 30 * 86400}, {}, "lifetime"),
])
def test_odd_claims_signed_with_the_real_key_are_refused(auth_settings, over, headers, why):
    verifier = TokenVerifier(auth_settings, "dev")
    with pytest.raises(Unauthorized, match=why):
        verifier.verify(_sign(auth_settings, _claims(**over()), **headers))


def test_id_tokens_are_refused_where_the_idp_marks_access_tokens(auth_settings):
    strict = TokenVerifier(auth_settings.model_copy(update={"require_access_token_typ": True}), "dev")
    with pytest.raises(Unauthorized, match="access token"):
        strict.verify(_sign(auth_settings, _claims(), typ="JWT"))
    assert strict.verify(_sign(auth_settings, _claims(), typ="at+jwt")).subject == "u1"


def test_a_token_use_claim_can_be_required(auth_settings):
    strict = TokenVerifier(auth_settings.model_copy(update={"token_use_claim": "token_use"}), "dev")
    with pytest.raises(Unauthorized, match="access token"):
        strict.verify(_sign(auth_settings, _claims(token_use="id")))
    assert strict.verify(_sign(auth_settings, _claims(token_use="access"))).subject == "u1"


class _Idp:
    """A JWKS endpoint on loopback that counts its fetches and can be taken down."""

    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks
        self.fetches = 0
        self.up = True
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                idp.fetches += 1
                time.sleep(0.05)  # a real IdP is not instant: concurrent misses overlap
                if not idp.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(idp.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp(auth_settings):
    server = _Idp(dev_jwks(auth_settings.dev_key_file))
    yield server
    server.close()


def _production(auth_settings: AuthSettings, url: str) -> TokenVerifier:
    return TokenVerifier(auth_settings.model_copy(update={"jwks_url": url}), "production")


def test_fifty_unknown_kids_cause_at_most_one_fetch(auth_settings, idp):
    verifier = _production(auth_settings, idp.url)
    assert verifier.verify(_sign(auth_settings, _claims())).subject == "u1"
    assert idp.fetches == 1
    errors: list[Exception] = []

    def forged(i: int) -> None:
        try:
            verifier.verify(_sign(auth_settings, _claims(), kid=f"attacker-{i}"))
        except Unauthorized as exc:
            errors.append(exc)

    threads = [threading.Thread(target=forged, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 50
    assert idp.fetches <= 2  # the first load, then at most one refresh for all 50
    assert verifier.verify(_sign(auth_settings, _claims())).subject == "u1"  # the real key still works


def test_the_last_good_keys_serve_while_the_idp_is_down(auth_settings, idp):
    verifier = _production(auth_settings, idp.url)
    verifier.verify(_sign(auth_settings, _claims()))
    idp.up = False
    verifier.keyset._fetched_at = 0  # stale: a background refresh is attempted and fails
    assert verifier.verify(_sign(auth_settings, _claims())).subject == "u1"
    with pytest.raises(Unauthorized):
        verifier.verify(_sign(auth_settings, _claims(), kid="rotated"))


def test_no_keys_at_all_is_503_not_500(auth_settings, idp):
    idp.up = False
    verifier = _production(auth_settings, idp.url)
    with pytest.raises(KeysUnavailable) as info:
        verifier.verify(_sign(auth_settings, _claims()))
    assert info.value.status == 503 and info.value.headers == {"Retry-After": "5"}


def test_a_rotated_key_is_picked_up_by_one_refresh(auth_settings, idp, tmp_path):
    verifier = _production(auth_settings, idp.url)
    verifier.verify(_sign(auth_settings, _claims()))
    new_key = AuthSettings(dev_key_file=tmp_path / "k2.pem")
    rotated = dev_jwks(new_key.dev_key_file)
    rotated["keys"][0]["kid"] = "k2"
    idp.jwks = {"keys": idp.jwks["keys"] + rotated["keys"]}
    verifier.keyset._last_attempt = -1e9  # the refresh interval has passed
    assert verifier.verify(_sign(new_key, _claims(), kid="k2")).subject == "u1"
