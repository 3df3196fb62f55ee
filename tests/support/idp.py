"""A real OpenID Connect provider on loopback: panva's certified node ``oidc-provider``
(tests/support/oidc/server.mjs), installed from npm with its lock file on first use.

    idp = OidcProvider(tmp_path, clients=[IdpClient("service:case_api", roles=[...])]).start()
    idp.discovery_url, idp.token(client) ... idp.rotate_key() ... idp.stop()
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.live import free_port

HERE = Path(__file__).parent / "oidc"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_jwk(kid: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = key.private_numbers()
    pub = priv.public_numbers
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": _b64(pub.n), "e": _b64(pub.e),
            "d": _b64(priv.d), "p": _b64(priv.p), "q": _b64(priv.q), "dp": _b64(priv.dmp1),
            "dq": _b64(priv.dmq1), "qi": _b64(priv.iqmp)}


@dataclass
class IdpClient:
    client_id: str
    roles: list[str]
    department: str | None = None
    client_secret: str = field(default_factory=lambda: "s3cr:t/" + uuid.uuid4().hex)  # RFC 6749 encoding matters


def ensure_installed() -> None:
    if (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for the OIDC provider tests (apt-get install npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=600)


def start_node(script: Path, env: dict[str, str], ready_url: str) -> subprocess.Popen[bytes]:
    """Run an oidc-provider script (the npm package installed beside tests/support/oidc) and wait
    until ``ready_url`` answers 200."""
    ensure_installed()
    proc = subprocess.Popen(["node", str(script)], env={**os.environ, "NODE_ENV": "production", **env},
                            cwd=script.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"oidc-provider exited: {out[-2000:]}")
    proc.kill()
    raise RuntimeError("oidc-provider did not start")


def stop_node(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.terminate()
        proc.wait(10)


class OidcProvider:
    def __init__(self, workdir: Path, clients: list[IdpClient], audience: str = "urn:civicsocial") -> None:
        self.workdir = workdir
        self.clients = clients
        self.audience = audience
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        self.keys_file = workdir / "idp-keys.json"
        self.kid = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._new_key()

    def _new_key(self) -> None:
        self.kid = "k-" + uuid.uuid4().hex[:8]
        self.keys_file.write_text(json.dumps({"keys": [private_jwk(self.kid)]}))

    def start(self) -> OidcProvider:
        env = {"PORT": str(self.port), "KEYS_FILE": str(self.keys_file), "AUDIENCE": self.audience,
               "CLIENTS": json.dumps([c.__dict__ for c in self.clients])}
        self._proc = start_node(HERE / "server.mjs", env, self.discovery_url)
        return self

    def stop(self) -> None:
        stop_node(self._proc)
        self._proc = None

    def rotate_key(self) -> None:
        """Restart with a new signing key (the old one is gone), on the same port."""
        self.stop()
        self._new_key()
        self.start()

    def token(self, client: IdpClient) -> str:
        """An access token for ``client`` by client credentials (what a staff login would yield)."""
        resp = httpx.post(
            self.discovery()["token_endpoint"],
            data={"grant_type": "client_credentials", "scope": " ".join(client.roles), "resource": self.audience},
            auth=(client.client_id.replace(":", "%3A"), client.client_secret.replace(":", "%3A").replace("/", "%2F")),
            timeout=5,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"oidc-provider refused the token request: {resp.status_code} {resp.text[:300]}")
        return str(resp.json()["access_token"])

    def discovery(self) -> dict[str, str]:
        return dict(httpx.get(self.discovery_url, timeout=5).json())
