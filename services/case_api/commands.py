"""``civicsocial audit verify``: recompute case_api's audit chain from the database.
``civicsocial cases canonicalise``: rewrite existing employee ids, assignees and departments to their
keys (audited, re-sealed) and report what could not be mapped."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from services.case_api.domain import audit, directory, employees
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.timeutil import utcnow

audit_app = typer.Typer(no_args_is_help=True, help="case_api's tamper-evident audit trail.")


@audit_app.command("verify")
def verify(
    database_url: str | None = typer.Option(None, help="defaults to CASE_API_DATABASE_URL / the settings"),
) -> None:
    """Recompute every hash of the chain; exit 1 and name the first broken link if any."""
    url = database_url or CaseSettings().database_url
    db = Database(url, pool_size=1)
    try:
        result = audit.verify(db)
    finally:
        db.dispose()
    typer.echo(json.dumps({"ok": result.ok, "entries_checked": result.chain.entries_checked,
                           "first_broken_seq": result.chain.first_broken_seq, "problem": result.chain.problem,
                           "rows_checked": result.rows_checked, "row_problems": result.row_problems}))
    if not result.ok:
        raise typer.Exit(1)


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
