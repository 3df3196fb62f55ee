"""CSV cells that a spreadsheet will not run (CSV / formula injection, OWASP).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``=cmd|'/c calc'!A1``). Text in
our exports comes from residents and staff, so every such cell is prefixed with ``'``, which
spreadsheets show as text and drop from the displayed value. The standard library's ``csv``
module quotes correctly but does not do this; no maintained package does only this.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as a safe CSV cell: None is empty, lists are joined by ``;``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header line, then one line per row, every cell made safe (RFC 4180 quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(values: Iterable[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow([cell(v) for v in values])
        return buf.getvalue()

    yield line(header)
    for row in rows:
        yield line(row)
