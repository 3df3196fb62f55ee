"""compose.yaml starts: every command in it is run with exactly that service's environment
(no Docker here), against real PostgreSQL (a private cluster with password auth, set up by
deploy/postgres-init.sh), Redis and a real OIDC provider on loopback. Compose's hostnames and
the container port are mapped to loopback, and nothing else is added. Then a report travels
from feedback_api to case_api with the IdP's client-credentials tokens."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from cryptography.fernet import Fernet

from shared import signing
from tests.drills.support import PrivatePostgres, report_json
from tests.support.idp import IdpClient, OidcProvider
from tests.support.live import free_port
from tests.support.polling import wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("policy_api", "feedback_api", "case_api")
# any character must work in a password (URLs are built from parts, psql quotes variables)
OWNER_PW = "own@r/pa%ss:wörd"
APP_PW = "app@p/a%ss:w#rd"
_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")


def substitute(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg if op == ":-" else ""

    return _VAR.sub(one, value)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, db_backend):
    if db_backend != "postgresql":
        pytest.skip("the compose start test runs once, in the PostgreSQL pass of `make test`")
    tmp = tmp_path_factory.mktemp("compose")
    pg = PrivatePostgres()
    (pg.data / "pg_hba.conf").write_text(
        "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    pg.start()
    ports = {name: free_port() for name in SERVICES}
    clients = {
        "feedback_api": IdpClient("feedback_api", roles=["service:feedback_api"]),
        "case_api": IdpClient("case_api", roles=["service:case_api"]),
        "staff": IdpClient("staff-intake", roles=["intake", "investigator"], department="Police"),
    }
    idp = OidcProvider(tmp, list(clients.values())).start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(["sh", str(REPO / "deploy/postgres-init.sh")], check=True, capture_output=True, env={
            "PATH": os.environ["PATH"], "PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": "postgres",
            "DB_OWNER_PASSWORD": OWNER_PW, "DB_APP_PASSWORD": APP_PW})
        variables = {
            "POSTGRES_PASSWORD": "unused-here", "DB_OWNER_PASSWORD": OWNER_PW, "DB_APP_PASSWORD": APP_PW,
            "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": idp.audience, "OIDC_TOKEN_RESOURCE": idp.audience,
            "FEEDBACK_CLIENT_SECRET": clients["feedback_api"].client_secret,
            "CASE_CLIENT_SECRET": clients["case_api"].client_secret,
            "POLICY_PUBLIC_URL": f"http://127.0.0.1:{ports['policy_api']}",
            "FEEDBACK_PUBLIC_URL": f"http://127.0.0.1:{ports['feedback_api']}",
            "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "RATE_LIMIT_KEY_SECRET": "compose-test-rate-limit-secret-0123456789",
            "RECEIPT_PEPPER": "compose-test-receipt-pepper-0123456789",
            "FORWARD_BATCH_WINDOW_SECONDS": "0",  # production holds reports up to two windows (an hour each)
        }
        compose_file = yaml.safe_load((REPO / "compose.yaml").read_text())
        compose = compose_file["services"]
        # compose's secrets are files mounted at /run/secrets/<name>; here they are files in tmp
        key = tmp / "audit-checkpoint-key.pem"
        (tmp / "audit-checkpoint-key.pem.pub").write_text(signing.public_pem(signing.generate_key_file(key)))
        variables["AUDIT_CHECKPOINT_KEY_FILE"] = str(key)
        secret_files = {f"/run/secrets/{name}": substitute(str(spec["file"]), variables)
                        for name, spec in compose_file["secrets"].items()}

        def loopback(value: str) -> str:
            value = substitute(value, variables)
            value = secret_files.get(value, value)
            if value == "postgres":
                return "127.0.0.1"
            value = value.replace("redis://redis:6379/0", "redis://127.0.0.1:6379/14")
            for name, port in ports.items():
                value = value.replace(f"http://{name}:8000", f"http://127.0.0.1:{port}")
            return value

        def env_of(service: str) -> dict[str, str]:
            env = {k: loopback(str(v)) for k, v in compose[service]["environment"].items()}
            for key in [k for k in env if k.endswith("_DB_HOST")]:
                env[key.replace("_DB_HOST", "_DB_PORT")] = str(pg.port)  # the private cluster's port
            return {"PATH": os.environ["PATH"], "HOME": str(tmp), **env}

        def command_of(service: str, port: int | None = None) -> list[str]:
            cmd = [str(c) for c in compose[service]["command"]]
            cmd = [shutil.which("civicsocial", path=str(Path(sys.executable).parent)) or "civicsocial"
                   if c == "civicsocial" else c for c in cmd]
            if cmd[0] == "uvicorn":
                cmd = [sys.executable, "-m", "uvicorn", *cmd[1:]]
                cmd[cmd.index("--host") + 1] = "127.0.0.1"
                cmd[cmd.index("--port") + 1] = str(port)
            return cmd

        migrated = subprocess.run(command_of("migrate"), env=env_of("migrate"), cwd=REPO, capture_output=True,
                                  text=True, timeout=180)
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
        for name in SERVICES:
            log = (tmp / f"{name}.log").open("wb")
            procs.append(subprocess.Popen(command_of(name, ports[name]), env=env_of(name), cwd=REPO,
                                          stdout=log, stderr=subprocess.STDOUT))
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        yield {"urls": urls, "idp": idp, "clients": clients, "pg": pg, "tmp": tmp}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        idp.stop()
        pg.destroy()



def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _logs(stack: dict[str, Any]) -> str:
    return "\n".join(f"--- {n}\n" + (stack["tmp"] / f"{n}.log").read_text()[-1500:] for n in SERVICES)


def test_every_service_comes_up_ready_with_its_compose_environment(stack):
    for name, url in stack["urls"].items():
        assert wait_for(lambda url=url: _ready(url), 60, interval=0.3), f"{name} not ready\n{_logs(stack)}"


def test_a_report_travels_to_case_api_with_the_idps_service_tokens(stack):
    urls = stack["urls"]
    for url in urls.values():
        assert wait_for(lambda url=url: _ready(url), 60, interval=0.3), _logs(stack)
    r = httpx.post(urls["feedback_api"] + "/v1/reports", json=report_json(1, "compose"), timeout=30)
    assert r.status_code == 201, r.text
    staff = {"Authorization": "Bearer " + stack["idp"].token(stack["clients"]["staff"])}

    def delivered() -> bool:
        resp = httpx.get(urls["case_api"] + "/v1/cases", headers=staff, timeout=5)
        return resp.status_code == 200 and resp.json()["total"] >= 1

    assert wait_for(delivered, 60, interval=0.3), _logs(stack)


def test_the_application_role_cannot_change_the_schema_or_truncate(stack):
    pg = stack["pg"]
    dsn = f"host=127.0.0.1 port={pg.port} dbname=case_api user=case_api_app password={APP_PW}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert tables, "migrations created no tables"
        for sql in ("CREATE TABLE x (n int)", f'TRUNCATE "{tables[0]}"',
                    f'ALTER TABLE "{tables[0]}" DISABLE TRIGGER ALL', f'DROP TABLE "{tables[0]}"'):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
