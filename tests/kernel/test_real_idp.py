"""The kernel against a real, certified OpenID Connect provider (node oidc-provider on
loopback): discovery, client credentials with RFC 6749 encoding, RFC 9068 access tokens
verified, and a signing-key rotation survived without a restart."""

from __future__ import annotations

import time

import httpx
import pytest

from shared.auth import ServiceTokenProvider, TokenVerifier
from shared.errors import Unauthorized
from shared.settings import AuthSettings
from tests.support.idp import IdpClient, OidcProvider

pytestmark = pytest.mark.slow

CASE = IdpClient("service:case_api", roles=["service:case_api"])  # a colon: needs RFC 6749 encoding
STAFF = IdpClient("staff-investigator", roles=["investigator"], department="Police")


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    provider = OidcProvider(tmp_path_factory.mktemp("idp"), [CASE, STAFF]).start()
    yield provider
    provider.stop()


def _auth(idp: OidcProvider, **over) -> AuthSettings:
    values = {"issuer": idp.issuer, "audience": idp.audience, "discovery_url": idp.discovery_url,
              "require_access_token_typ": True, "jwks_min_refresh_seconds": 1, **over}
    return AuthSettings(**values)


def test_a_staff_token_from_the_idp_is_verified(idp):
    principal = TokenVerifier(_auth(idp), "production").verify(idp.token(STAFF))
    assert principal.subject == "staff-investigator"
    assert principal.roles == {"investigator"} and principal.department == "Police"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_service_gets_its_token_by_client_credentials_and_peers_accept_it(idp, method):
    auth = _auth(idp, client_id=CASE.client_id, client_secret=CASE.client_secret, token_resource=idp.audience,
                 client_auth_method=method)
    token = ServiceTokenProvider(auth, "production", "case_api", ["service:case_api"]).token()
    principal = TokenVerifier(auth, "production").verify(token)
    assert principal.roles == {"service:case_api"}


def test_a_wrong_secret_gets_no_token(idp):
    auth = _auth(idp, client_id=CASE.client_id, client_secret="wrong", token_resource=idp.audience)
    with pytest.raises(httpx.HTTPStatusError) as info:
        ServiceTokenProvider(auth, "production", "case_api", ["service:case_api"]).token()
    assert info.value.response.status_code in (400, 401)


def test_a_signing_key_rotation_is_survived_without_restart(idp):
    verifier = TokenVerifier(_auth(idp), "production")
    old = idp.token(STAFF)
    assert verifier.verify(old).subject == "staff-investigator"
    idp.rotate_key()
    time.sleep(1.1)  # at most one refresh per jwks_min_refresh_seconds (1 s here, 60 s by default)
    new = idp.token(STAFF)
    assert verifier.verify(new).subject == "staff-investigator"  # the unknown kid triggered one refresh
    with pytest.raises(Unauthorized):
        TokenVerifier(_auth(idp), "production").verify(old)  # the old key is gone from the IdP
