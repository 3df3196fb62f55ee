"""``civicsocial audit verify``: recompute case_api's audit chain from the database."""

from __future__ import annotations

import json

import typer

from services.case_api.domain import audit
from services.case_api.settings import CaseSettings
from shared.db import Database

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


COMMANDS = [("audit", audit_app)]
