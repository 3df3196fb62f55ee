"""``civicsocial audit verify``: recompute case_api's audit chain from the database.
``civicsocial cases purge``: apply the retention schedule now (domain/retention.py).
``civicsocial cases canonicalise``: rewrite existing employee ids, assignees and departments to their
keys (audited, re-sealed) and report what could not be mapped."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from services.case_api.domain import audit, checkpoints, directory, employees, resealing
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.http import ServiceClient
from shared.timeutil import utcnow

audit_app = typer.Typer(no_args_is_help=True, help="case_api's tamper-evident audit trail.")


@audit_app.command("verify")
def verify(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
    witness_url: str | None = typer.Option(None, help="policy_api, the checkpoints' witness; defaults to "
                                           "CASE_API_POLICY_API_URL. 'none': compare with case_api's own record"),
    key_file: str | None = typer.Option(None, help="the checkpoint key file, to check the published signature; "
                                        "defaults to CASE_API_CHECKPOINT_KEY_FILE"),
) -> None:
    """Recompute the whole chain, compare every sealed row with its seal and the database with the latest
    checkpoint published to the witness; exit 1 and say what is broken, changed or missing."""
    settings = CaseSettings()
    db = Database(database_url or settings.database_url, pool_size=1)
    witness = witness_url or settings.policy_api_url
    peers = None if witness == "none" else ServiceClient({"policy_api": witness}, timeout=5.0, retries=0)
    try:
        result = audit.verify_with_witness(
            db, peers, public_key=checkpoints.public_key_of(key_file or settings.checkpoint_key_file))
    finally:
        db.dispose()
        if peers is not None:
            peers.close()
    typer.echo(json.dumps(audit.document(result), default=str))
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("baseline")
def baseline(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
) -> None:
    """Seal, once, the case-file rows that predate sealing of the whole case file (run after `civicsocial
    migrate` on a database from before issue 15); prints {entries, rows_sealed}. Safe to run again."""
    db = Database(database_url or CaseSettings().database_url, pool_size=1)
    try:
        report = resealing.baseline(db, actor="cli:audit-baseline", now=utcnow())
    finally:
        db.dispose()
    typer.echo(json.dumps(report.as_dict()))


@audit_app.command("checkpoint")
def checkpoint(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
    key_file: str | None = typer.Option(None, help="defaults to CASE_API_CHECKPOINT_KEY_FILE"),
) -> None:
    """Sign the chain head now and queue it for the witness (case_api's relay delivers it)."""
    settings = CaseSettings()
    key = checkpoints.load_key(key_file or settings.checkpoint_key_file)
    if key is None:
        typer.echo("no checkpoint key: set CASE_API_CHECKPOINT_KEY_FILE or --key-file", err=True)
        raise typer.Exit(2)
    db = Database(database_url or settings.database_url, pool_size=1)
    try:
        cp = checkpoints.checkpoint_once(db, key=key, now=utcnow())
    finally:
        db.dispose()
    typer.echo(json.dumps(None if cp is None else cp.model_dump(mode="json")))


cases_app = typer.Typer(no_args_is_help=True, help="case_api's cases.")


@cases_app.command("canonicalise")
def canonicalise(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
) -> None:
    """Map existing employee ids, assignees and departments to their keys (run after `civicsocial migrate`);
    prints a JSON report naming the departments the alias table does not know. Safe to run again."""
    url = database_url or CaseSettings().database_url
    db = Database(url, pool_size=1)
    try:
        report = directory.canonicalise_existing(db, now=utcnow())
    finally:
        db.dispose()
    typer.echo(json.dumps(report.as_dict()))


@cases_app.command("import-employees")
def import_employees(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: userName/employee_id, displayName, "
                                "givenName, familyName, department, active, externalId"),
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
) -> None:
    """Load the employee directory from a CSV export (for Cities without SCIM); prints a JSON report."""
    url = database_url or CaseSettings().database_url
    db = Database(url, pool_size=1)
    try:
        report = employees.import_csv(db, text=path.read_text(encoding="utf-8-sig"), now=utcnow())
    finally:
        db.dispose()
    typer.echo(json.dumps({"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                           "refused": report.refused}))
    if report.refused:
        raise typer.Exit(1)


from services.case_api.commands_monitoring import monitoring_app  # noqa: E402 - issue 18's command group

COMMANDS = [("audit", audit_app), ("cases", cases_app), ("monitoring", monitoring_app)]


@cases_app.command("purge")
def purge(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
) -> None:
    """Apply the retention schedule now (issue 15): destroy expired case files, report contents, monitoring
    posts and export requests not under a legal hold, record each destruction in the audit chain, then
    compact SQLite (checkpoint, VACUUM). Prints a JSON report; exit 1 when a case was refused (broken seal)."""
    from services.case_api.domain import retention

    settings = CaseSettings()
    db = Database(database_url or settings.database_url, pool_size=1)
    try:
        report = retention.purge(db, schedule=retention.Schedule.from_overrides(settings.retention_days),
                                 now=utcnow(), actor="cli:purge")
    finally:
        db.dispose()
    typer.echo(json.dumps(report.as_dict()))
    if report.refused:
        raise typer.Exit(1)
