"""Production sign-in against a real OpenID Connect provider (npm oidc-provider on loopback):
Authorization Code with PKCE through the IdP's own login and consent pages, in Chromium, to the
queue; the access token is the IdP's (verified by case_api against the IdP's JWKS), and the
refresh token is used when the access token runs out."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.staff_console.main import create_app
from services.staff_console.sessions import MemoryStore
from tests.staff_console.conftest import console_settings, shoot
from tests.support.idp import private_jwk, start_node, stop_node
from tests.support.live import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HERE = Path(__file__).parent / "oidc"
AUDIENCE = "urn:civicsocial"


class CodeFlowIdp:
    def __init__(self, workdir: Path, redirect_uri: str, accounts: dict, ttl: int = 600) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        self.client = {"client_id": "staff-console", "client_secret": "s3cr:t/" + uuid.uuid4().hex,
                       "redirect_uri": redirect_uri}
        keys = workdir / "idp-keys.json"
        keys.write_text(json.dumps({"keys": [private_jwk("k-" + uuid.uuid4().hex[:8])]}))
        self.env = {"PORT": str(self.port), "KEYS_FILE": str(keys), "AUDIENCE": AUDIENCE,
                    "CLIENT": json.dumps(self.client), "ACCOUNTS": json.dumps(accounts),
                    "ACCESS_TOKEN_TTL": str(ttl)}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CodeFlowIdp:
        self._proc = start_node(HERE / "server.mjs", self.env, self.discovery_url)
        return self

    def stop(self) -> None:
        stop_node(self._proc)


def test_sign_in_with_the_city_idp_reaches_the_queue(browser, make_app, live, dev_key, tmp_path, token):
    console_port = free_port()
    console_url = f"http://127.0.0.1:{console_port}"
    idp = CodeFlowIdp(tmp_path, console_url + "/auth/callback",
                      {"emp-4242": {"roles": ["intake"], "department": "Police"}}, ttl=70).start()
    try:
        auth = {"issuer": idp.issuer, "audience": AUDIENCE, "discovery_url": idp.discovery_url,
                "dev_key_file": str(dev_key)}
        policy = live(make_app("policy_api", auth=auth))
        case = live(make_app("case_api", auth=auth, policy_api_url=policy.url, relay_enabled=False))
        r = httpx.post(case.url + "/v1/cases", headers=token("intake"), timeout=10,  # a dev token: refused ...
                       json={"categories": ["other"], "summary": "Seen by phone", "department": "Police"})
        assert r.status_code == 401  # ... case_api now trusts the IdP only
        settings = console_settings(
            {"policy": policy.url, "case": case.url, "feedback": "http://127.0.0.1:9"}, dev_key,
            mode="production", redis_url="redis://unused", public_base_url=console_url,
            auth={"issuer": idp.issuer, "audience": AUDIENCE, "discovery_url": idp.discovery_url,
                  "client_id": idp.client["client_id"], "client_secret": idp.client["client_secret"],
                  "token_resource": AUDIENCE})
        app = create_app(settings, store=MemoryStore())
        live(app, port=console_port)

        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(console_url + "/queue")
        assert page.title().startswith("Sign in")
        shoot(page, "login-oidc")
        page.click("text=Sign in with City account")
        page.wait_for_selector("input[name=login]")
        assert page.url.startswith(idp.issuer)  # the IdP's own page: the console never sees the password
        page.fill("input[name=login]", "emp-4242")
        page.fill("input[name=password]", "anything")
        page.click("button[type=submit]")
        page.wait_for_selector("button[type=submit]")
        if page.url.startswith(idp.issuer):  # consent (offline_access: a refresh token)
            page.click("button[type=submit]")
        page.wait_for_url(console_url + "/queue")
        assert page.title().startswith("Queue")
        assert "emp-4242" in page.text_content("header") and "Intake" in page.text_content("header")

        session = next(iter(app.state.sessions.store._data.values()))[1]
        stored = json.loads(session)
        assert stored["refresh_token"] and stored["access_token"].count(".") == 2
        assert stored["access_token"] not in page.content()
        first = stored["access_token"]
        # the access token lives 70 s; refreshed within 60 s of its end, by the refresh token
        time.sleep(11)
        page.goto(console_url + "/queue")
        assert page.title().startswith("Queue")
        stored = json.loads(next(iter(app.state.sessions.store._data.values()))[1])
        assert stored["access_token"] != first
    finally:
        idp.stop()
