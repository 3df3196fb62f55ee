"""The verifier's memo of verified tokens (shared.auth.TokenVerifier): a token is verified once,
and a remembered verdict never outlives the token's expiry or the key set it was checked against."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from jose import jwt

from shared.auth import DEV_KID, TokenVerifier, dev_jwks, ensure_dev_key
from shared.errors import Unauthorized
from shared.settings import AuthSettings


def _token(auth: AuthSettings, *, sub: str = "u1", ttl: int = 600, kid: str = DEV_KID) -> str:
    now = int(time.time())
    claims = {"iss": "civicsocial-dev", "aud": "civicsocial", "sub": sub, "iat": now, "nbf": now,
              "exp": now + ttl, "roles": ["investigator"]}
    return jwt.encode(claims, ensure_dev_key(auth.dev_key_file).decode(), algorithm="RS256", headers={"kid": kid})


class _CountingVerifier(TokenVerifier):
    """Counts the full verifications (jose's decode), which the memo exists to skip."""

    full = 0

    def _key_for(self, kid, alg):  # type: ignore[no-untyped-def]
        self.full += 1
        return super()._key_for(kid, alg)


def test_a_token_is_verified_once_then_remembered(auth_settings):
    verifier = _CountingVerifier(auth_settings, "dev")
    token = _token(auth_settings)
    first = verifier.verify(token)
    assert [verifier.verify(token) for _ in range(5)] == [first] * 5
    assert verifier.full == 1
    assert verifier.verifies_without_io(token)


def test_a_remembered_token_is_refused_once_it_expires(auth_settings):
    verifier = TokenVerifier(auth_settings.model_copy(update={"leeway_seconds": 0}), "dev")
    token = _token(auth_settings, ttl=1)
    assert verifier.verify(token).subject == "u1"
    time.sleep(2.1)  # jose counts in whole seconds: exp is valid through its own second
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


def test_a_key_refresh_makes_remembered_tokens_be_verified_again(auth_settings, tmp_path: Path):
    """The IdP withdraws the key a remembered token was signed with: after the key set's next
    load, that token is refused, though it has not expired."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(dev_jwks(auth_settings.dev_key_file)))
    verifier = TokenVerifier(AuthSettings(jwks_file=str(jwks), issuer="civicsocial-dev"), "production")
    token = _token(auth_settings)
    assert verifier.verify(token).subject == "u1"
    other = AuthSettings(dev_key_file=tmp_path / "k2.pem")
    replacement = dev_jwks(other.dev_key_file)
    replacement["keys"][0]["kid"] = "k2"
    jwks.write_text(json.dumps(replacement))
    verifier.keyset._fetch_locked()  # the periodic refresh, as KeySet does it in the background
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(token)
    assert verifier.verify(_token(other, kid="k2")).subject == "u1"


def test_refused_tokens_are_not_remembered_and_the_memo_is_bounded(auth_settings, tmp_path: Path):
    verifier = _CountingVerifier(auth_settings, "dev")
    stranger = AuthSettings(dev_key_file=tmp_path / "stranger.pem")
    forged = _token(stranger)  # the dev kid, another key: a bad signature
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
    assert verifier.full == 2
    verifier.MAX_VERIFIED = 8
    tokens = [_token(auth_settings, sub=f"u{i}") for i in range(20)]
    for t in tokens:
        verifier.verify(t)
    assert len(verifier._verified) == 8
    assert verifier.verify(tokens[0]).subject == "u0"  # dropped from the memo, verified again
    assert verifier.full == 2 + 20 + 1
