"""``civicsocial monitoring import FILE --format csv|json|archivesocial``: import posts for the
monitoring reviews (R-24-89 §1.A.5) straight into case_api's database, streamed in batches with a
progress bar (rich). The same use-case as ``POST /v1/monitoring/imports/stream``
(domain/post_import.py): idempotent on the post URL, every refused row reported with its reason."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from services.case_api.domain import post_import
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.timeutil import utcnow

monitoring_app = typer.Typer(no_args_is_help=True, help="case_api's monitoring of official accounts.")


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read, for the progress bar (the rows ahead are unknown)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.read_bytes = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.read_bytes += n or 0
        return int(n or 0)


@monitoring_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the export to import")],
    format: Annotated[Literal["csv", "json", "archivesocial"], typer.Option(
        "--format", help="csv, archivesocial (an archiving service's CSV export), or json (array or JSON Lines)")],
    account: Annotated[str | None, typer.Option(help="account id or handle for rows that name none")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="rows per transaction")] = post_import.BATCH_SIZE,
    errors: Annotated[Path | None, typer.Option(help="write every refused row (row, reason) to this CSV")] = None,
    database_url: Annotated[str | None, typer.Option(help="defaults to CASE_API_DATABASE_URL / the settings")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Import posts and their comment threads; prints a JSON summary. Safe to run again."""
    url = database_url or CaseSettings().database_url
    db = Database(url, pool_size=1)
    size = path.stat().st_size
    console = Console(stderr=True)
    try:
        with path.open("rb") as raw, Progress(
            TextColumn("importing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(), console=console, disable=quiet, transient=False,
        ) as bar:
            counted = _CountingReader(raw)
            text = io.TextIOWrapper(io.BufferedReader(counted), encoding="utf-8-sig", newline="")
            task = bar.add_task("import", total=size, rows=0)
            rows = 0

            def progress(n: int) -> None:
                nonlocal rows
                rows += n
                bar.update(task, completed=counted.read_bytes, rows=rows)

            result = post_import.import_stream(db, rows=post_import.iter_rows(text, format), source=format,
                                               now=utcnow(), actor="cli:monitoring-import",
                                               default_account=account, batch_size=batch_size, progress=progress,
                                               keep_reasons=10_000_000 if errors else post_import.MAX_REASONS)
            bar.update(task, completed=size)
    except UnicodeDecodeError as exc:
        typer.echo(f"The file is not UTF-8 text (batches before the bad byte were imported): {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    if errors is not None:
        with errors.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["row", "reason"])
            w.writerows([r["row"], r["reason"]] for r in result.refused)
    typer.echo(json.dumps({"received": result.received, "imported": result.imported,
                           "duplicates": result.duplicates, "refused": result.refused_total,
                           "first_refused": result.refused[:20]}))

