"""``civicsocial``: run, migrate and operate the three services.

    civicsocial dev                  # all three services on SQLite under ./data, with demo data
    civicsocial migrate              # apply migrations (production: run before starting)
    civicsocial token --role admin   # a dev token for trying the staff endpoints
    civicsocial openapi [--check]    # write (or check) openapi/<service>.json
    civicsocial makemigration case_api "add cases"   # autogenerate a migration (developers)

Services may add their own command groups by exposing ``COMMANDS: list[tuple[str, typer.Typer]]``
in ``services/<name>/commands.py`` (e.g. ``civicsocial audit verify`` from case_api).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from services.devkit import DemoContext
from services.registry import SERVICES, ServiceSpec
from shared import signing
from shared.auth import issue_dev_token
from shared.settings import AuthSettings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
REPO_ROOT = Path(__file__).resolve().parent.parent

# How every service runs, as in compose.yaml. Overload bounds: past this many concurrent
# connections and tasks uvicorn answers 503 at once; the listen backlog holds a burst of new
# connections (docs/architecture.md). No proxy headers: uvicorn would otherwise believe
# X-Forwarded-For from 127.0.0.1 whatever TRUSTED_PROXIES says; the app decides whom to trust.
# No Server banner.
# Web front ends started by ``civicsocial dev`` after the services: no database, so not in
# services/registry.py's SERVICES (the test harness creates a database for each of those).
FRONTENDS: dict[str, tuple[str, int, str]] = {
    "staff_console": ("services.staff_console", 8004, "STAFF_CONSOLE_"),
}
UVICORN_FLAGS = ("--limit-concurrency", "200", "--backlog", "2048", "--no-proxy-headers", "--no-server-header")


def _service_names(service: str) -> list[str]:
    if service == "all":
        return list(SERVICES)
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of: all, {', '.join(SERVICES)}")
    return [service]


@app.command()
def migrate(
    service: Annotated[str, typer.Option(help="all, or one service name")] = "all",
) -> None:
    """Apply each service's migrations to the database its settings name (env vars). Reads only
    the database settings (<PREFIX>DATABASE_URL or <PREFIX>DB_HOST, DB_NAME... and the owner role's
    DB_OWNER_USER / DB_OWNER_PASSWORD): no other secret is needed to migrate."""
    from pydantic import create_model

    from shared.migrations import upgrade
    from shared.settings import DatabaseSettings

    for name in _service_names(service):
        spec = SERVICES[name]
        default_url = spec.module("main").SETTINGS_CLASS.model_fields["database_url"].default
        only_database = create_model(f"{name}_migration_settings", __base__=DatabaseSettings,
                                     database_url=(str, default_url))
        settings = only_database(_env_prefix=spec.env_prefix)
        upgrade(spec.migrations_dir, settings.migration_url)
        typer.echo(f"{name}: migrated")


@app.command()
def token(
    role: Annotated[list[str], typer.Option("--role", "-r", help="a role; repeat for several")],
    department: Annotated[str | None, typer.Option(help="department claim, e.g. Police")] = None,
    subject: Annotated[str, typer.Option(help="the staff id (sub claim)")] = "dev-staff",
    key_file: Annotated[Path, typer.Option(help="dev signing key")] = Path("data/dev-signing-key.pem"),
    ttl: Annotated[int, typer.Option(help="lifetime in seconds")] = 8 * 3600,
) -> None:
    """Print a dev-mode staff token (refused by services in production mode)."""
    auth = AuthSettings(dev_key_file=key_file)
    typer.echo(issue_dev_token(auth, "dev", subject=subject, roles=role, department=department, ttl_seconds=ttl))


@app.command()
def openapi(
    out_dir: Annotated[Path, typer.Option(help="where to write")] = REPO_ROOT / "openapi",
    check: Annotated[bool, typer.Option(help="fail if the files are stale instead of writing")] = False,
) -> None:
    """Write each service's OpenAPI document to openapi/<service>.json."""
    stale = []
    for name, spec in SERVICES.items():
        text = render_openapi(spec)
        path = out_dir / f"{name}.json"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        typer.echo(f"wrote {path}")
    if stale:
        typer.echo("stale: " + ", ".join(stale) + " (run `civicsocial openapi`)", err=True)
        raise typer.Exit(1)


def render_openapi(spec: ServiceSpec) -> str:
    settings = spec.settings(database_url="sqlite://", mode="dev", log_json=True)
    doc = spec.create_app(settings).openapi()
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


@app.command()
def makemigration(
    service: Annotated[str, typer.Argument(help="service name")],
    message: Annotated[str, typer.Argument(help="what the migration does")],
) -> None:
    """Autogenerate the next migration of a service from its models (review it before committing)."""
    import tempfile

    from alembic import command

    from shared.migrations import alembic_config

    spec = SERVICES[_service_names(service)[0]]
    versions = sorted((spec.migrations_dir / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    rev_id = f"{len(versions) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(spec.migrations_dir, f"sqlite:///{tmp}/gen.db")
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


DEV_MAIL_PORT = 8025


def _dev_mail(data_dir: Path, host: str, env: dict[str, str],
              procs: list[subprocess.Popen[bytes]], logs: Path, detach: bool, port: int = DEV_MAIL_PORT) -> str:
    """Start the local mail sink (``services/devmail.py``) when aiosmtpd is installed (the dev extra)
    and point every service's notifications at it; say where dev mail goes either way."""
    mail_dir = (data_dir / "mail").resolve()
    if importlib.util.find_spec("aiosmtpd") is None:
        return ("Notifications: email is off (no mail sink: pip install -e '.[dev]' for aiosmtpd, or set "
                "<SERVICE>_NOTIFY__SMTP_HOST); each service still records what it would send.")
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "services.devmail", "--host", host, "--port", str(port),
         "--dir", str(mail_dir)],
        env=env, stdout=(logs / "devmail.log").open("ab"), stderr=subprocess.STDOUT, cwd=REPO_ROOT,
        start_new_session=detach))
    console = f"http://{host}:{FRONTENDS['staff_console'][1]}" if "staff_console" in FRONTENDS else ""
    for spec in SERVICES.values():
        p = spec.env_prefix
        for key, value in (("SMTP_HOST", host), ("SMTP_PORT", str(port)), ("SMTP_STARTTLS", "false"),
                           ("EMAIL_DOMAIN", "cabq.example"), ("POLL_SECONDS", "15"), ("CONSOLE_URL", console)):
            if value:
                env.setdefault(f"{p}NOTIFY__{key}", value)
    return (f"Notifications: dev mail goes to smtp://{host}:{port}; every message is kept in {mail_dir} "
            "(index.txt lists them). Staff hear of events after saving their preferences once "
            "(PUT /v1/notifications/preferences).")


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="SQLite files and the dev key live here")] = Path("data"),
    host: Annotated[str, typer.Option(help="bind address (loopback by default)")] = "127.0.0.1",
    demo: Annotated[bool, typer.Option(help="load demo data into empty databases")] = True,
    reset: Annotated[bool, typer.Option(help="delete the data folder first")] = False,
    detach: Annotated[bool, typer.Option(help="return once everything is up (for scripts)")] = False,
) -> None:
    """Run all three services on SQLite with migrations applied and demo data loaded."""
    if reset and data_dir.exists():
        for f in data_dir.iterdir():
            if f.is_file():
                f.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = (data_dir / "dev-signing-key.pem").resolve()
    urls = {name: f"http://{host}:{spec.port}" for name, spec in SERVICES.items()}
    env = dict(os.environ)
    for name, spec in SERVICES.items():
        p = spec.env_prefix
        env.update({
            f"{p}MODE": "dev",
            f"{p}DATABASE_URL": f"sqlite:///{(data_dir / f'{name}.db').resolve()}",
            f"{p}AUTH__DEV_KEY_FILE": str(key_file),
            f"{p}PUBLIC_BASE_URL": urls[name],
            f"{p}POLICY_API_URL": urls["policy_api"],
            f"{p}FEEDBACK_API_URL": urls["feedback_api"],
            f"{p}CASE_API_URL": urls["case_api"],
            f"{p}LOG_JSON": env.get(f"{p}LOG_JSON", "false"),
        })
    # issue 15: case_api signs checkpoints of its audit chain with a key outside its database; the
    # witness (policy_api) verifies them with its public half
    if "CASE_API_CHECKPOINT_KEY_FILE" not in env:
        checkpoint_key = (data_dir / "audit-checkpoint-key.pem").resolve()
        env["CASE_API_CHECKPOINT_KEY_FILE"] = str(checkpoint_key)
        public = signing.public_pem(signing.generate_key_file(checkpoint_key))
        env.setdefault("POLICY_API_CHECKPOINT_PUBLIC_KEY", public)
        env.setdefault("CASE_API_CHECKPOINT_SECONDS", "300")
    procs: list[subprocess.Popen[bytes]] = []
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    mail_note = _dev_mail(data_dir, host, env, procs, logs, detach)  # issue 17: where notifications go
    for name, spec in SERVICES.items():
        log_file = (logs / f"{name}.log").open("ab")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "uvicorn", f"{spec.package}.asgi:app", "--host", host,
                 "--port", str(spec.port), "--no-access-log", "--timeout-graceful-shutdown", "10",
                 *UVICORN_FLAGS],
                env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                start_new_session=detach,
            )
        )

    for name, (package, port, prefix) in FRONTENDS.items():
        urls[name] = f"http://{host}:{port}"
        env.update({
            f"{prefix}MODE": "dev",
            f"{prefix}AUTH__DEV_KEY_FILE": str(key_file),
            f"{prefix}PUBLIC_BASE_URL": urls[name],
            f"{prefix}POLICY_API_URL": urls["policy_api"],
            f"{prefix}FEEDBACK_API_URL": urls["feedback_api"],
            f"{prefix}CASE_API_URL": urls["case_api"],
            f"{prefix}LOG_JSON": env.get(f"{prefix}LOG_JSON", "false"),
        })
        log_file = (logs / f"{name}.log").open("ab")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "uvicorn", f"{package}.asgi:app", "--host", host, "--port", str(port),
                 "--no-access-log", "--timeout-graceful-shutdown", "10", *UVICORN_FLAGS],
                env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=detach,
            )
        )

    def stop_all(*_: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        for name in [*SERVICES, *FRONTENDS]:
            _wait_ready(urls[name], name, logs / f"{name}.log")
        auth = AuthSettings(dev_key_file=key_file)

        def sign(*, roles: list[str], department: str | None = None, subject: str = "demo-loader") -> str:
            return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

        if demo:
            ctx = DemoContext(urls=urls, token=sign)
            for name, spec in SERVICES.items():
                try:
                    loader = importlib.import_module(f"{spec.package}.demo")
                except ModuleNotFoundError:
                    continue
                loader.load(ctx)
                typer.echo(f"{name}: demo data ready")
        staff = sign(roles=["admin"], subject="dev-admin")
    except BaseException:
        stop_all()
        raise
    typer.echo(f"\nAll three services are up (logs in {logs}):")
    for name in SERVICES:
        typer.echo(f"  {name:<13} {urls[name]}   docs: {urls[name]}/docs")
    typer.echo(f"  Transparency page: {urls['policy_api']}/transparency")
    typer.echo(f"\nStaff token (admin, 8 h):\n  {staff}\n")
    typer.echo(mail_note)
    typer.echo("Other roles: civicsocial token --role investigator --department Police")
    typer.echo(f"\nStaff console: {urls['staff_console']}/login  (dev sign-in: pick a role, a department and an "
               "employee id, e.g. intake / Police / emp-1001)")
    if detach:
        typer.echo("pids: " + " ".join(str(p.pid) for p in procs))
        return
    typer.echo("Press Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        typer.echo("a service exited; stopping the others", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


@app.command("checkpoint-key")
def checkpoint_key(
    path: Annotated[Path, typer.Argument(
        help="Where to write the private key (PEM, mode 0600); the public key goes to PATH.pub")],
) -> None:
    """Make the Ed25519 key pair that signs case_api's audit-chain checkpoints (production: mount PATH
    as CASE_API_CHECKPOINT_KEY_FILE and PATH.pub as POLICY_API_CHECKPOINT_PUBLIC_KEY; see compose.yaml).
    An existing key is kept, and its public half written again."""
    public = signing.public_pem(signing.generate_key_file(path))
    pub = path.with_name(path.name + ".pub")
    pub.write_text(public)
    typer.echo(f"private key: {path}\npublic key: {pub}")


@app.command("council-report")
def council_report(
    url: Annotated[str, typer.Option(help="policy_api's URL")] = "http://127.0.0.1:8001",
    out_dir: Annotated[Path, typer.Option(help="where the HTML and PDF are written")] = Path("reports"),
    token: Annotated[str | None, typer.Option(
        envvar="CIVICSOCIAL_TOKEN", help="a records_manager / policy_approver token (default: a dev token)")] = None,
    key_file: Annotated[Path, typer.Option(help="dev signing key, when no token is given")] = Path(
        "data/dev-signing-key.pem"),
    mark_sent: Annotated[str | None, typer.Option(help="record that report ID was sent to Council, now")] = None,
    note: Annotated[str | None, typer.Option(help="with --mark-sent: e.g. the EC number")] = None,
) -> None:
    """Generate the Executive Communication to Council (R-24-89 §2) and write it as HTML and PDF."""
    bearer = token or issue_dev_token(AuthSettings(dev_key_file=key_file), "dev", subject="council-report-cli",
                                      roles=["records_manager"])
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {bearer}"}) as c:
        if mark_sent:
            r = c.post(f"/v1/council-reports/{mark_sent}/sent", json={"note": note} if note else None)
            if r.status_code != 200:
                raise typer.Exit(f"mark-sent failed: HTTP {r.status_code}: {r.text[:300]}")  # type: ignore[arg-type]
            typer.echo(f"report {mark_sent} marked sent at {r.json()['sent_at']}")
            return
        r = c.post("/v1/council-reports")
        if r.status_code != 201:
            raise typer.Exit(f"generating failed: HTTP {r.status_code}: {r.text[:300]}")  # type: ignore[arg-type]
        report = r.json()
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / f"council-report-{report['generated_at'][:10]}-{report['id'][-8:]}"
        for suffix, path in ((".html", report["html_url"]), (".pdf", report["pdf_url"])):
            doc = c.get(path)
            doc.raise_for_status()
            stem.with_suffix(suffix).write_bytes(doc.content)
            typer.echo(f"wrote {stem.with_suffix(suffix)}")
    typer.echo(f"report {report['id']}: due to Council by {report['due_by']}; when sent, run "
               f"civicsocial council-report --mark-sent {report['id']}")


def _wait_ready(url: str, name: str, log_file: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise typer.Exit(f"{name} did not become ready in {timeout:.0f}s; see {log_file}")  # type: ignore[arg-type]


def _register_service_commands() -> None:
    for spec in SERVICES.values():
        try:
            mod = importlib.import_module(f"{spec.package}.commands")
        except ModuleNotFoundError:
            continue
        for name, sub in getattr(mod, "COMMANDS", []):
            app.add_typer(sub, name=name)


_register_service_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
