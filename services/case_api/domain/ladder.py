"""The escalation ladder (R-24-89 §1.A.6): severity x repeated misuse -> a recommended
disciplinary action and restorative actions (§1.A.7).

The matrix is data (``ladder_matrices/<version>.json``), versioned and validated on load:
it must be complete and monotone — more prior sustained findings never recommend a
lighter action, and a higher severity never does either. Plain module, no I/O beyond
reading the packaged matrix files.
"""

from __future__ import annotations

import calendar
import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

MATRIX_DIR = Path(__file__).parent / "ladder_matrices"
SEVERITIES = (1, 2, 3, 4)


class DisciplinaryAction(StrEnum):
    retraining = "retraining"
    verbal_counseling = "verbal_counseling"
    written_reprimand = "written_reprimand"
    suspension = "suspension"
    termination = "termination"


ACTION_RANK: dict[DisciplinaryAction, int] = {a: i for i, a in enumerate(DisciplinaryAction)}


class RestorativeKind(StrEnum):
    public_correction = "public_correction"
    public_apology = "public_apology"
    post_removal = "post_removal"
    privilege_revocation = "privilege_revocation"
    retraining_completion = "retraining_completion"
    trust_rebuilding_plan = "trust_rebuilding_plan"


def heavier_or_equal(a: DisciplinaryAction, b: DisciplinaryAction) -> bool:
    return ACTION_RANK[a] >= ACTION_RANK[b]


@dataclass(frozen=True)
class Cell:
    action: DisciplinaryAction
    restorative: tuple[RestorativeKind, ...]


@dataclass(frozen=True)
class Matrix:
    version: str
    effective_from: date
    lookback_months: int
    severity_criteria: dict[int, str]
    priors_columns: tuple[int, ...]
    cells: dict[int, tuple[Cell, ...]]

    def column(self, prior_count: int) -> int:
        """Index of the column for this many priors (the last column is 'that many or more')."""
        if prior_count < 0:
            raise ValueError("prior_count must be >= 0")
        idx = 0
        for i, threshold in enumerate(self.priors_columns):
            if prior_count >= threshold:
                idx = i
        return idx

    def cell(self, severity: int, prior_count: int) -> Cell:
        if severity not in self.cells:
            raise ValueError(f"severity must be one of {sorted(self.cells)}")
        return self.cells[severity][self.column(prior_count)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "lookback_months": self.lookback_months,
            "severity_criteria": {str(k): v for k, v in self.severity_criteria.items()},
            "priors_columns": list(self.priors_columns),
            "cells": {
                str(s): [{"action": c.action.value, "restorative": [r.value for r in c.restorative]} for c in row]
                for s, row in self.cells.items()
            },
        }


class MatrixInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def problems(matrix: Matrix) -> list[str]:
    """Everything wrong with a matrix; empty when it is complete and monotone."""
    out: list[str] = []
    cols = matrix.priors_columns
    if not cols or cols[0] != 0 or any(b <= a for a, b in itertools.pairwise(cols)):
        out.append("priors_columns must start at 0 and strictly increase")
    if sorted(matrix.cells) != list(SEVERITIES):
        out.append(f"cells must have exactly the severities {list(SEVERITIES)}")
    if set(matrix.severity_criteria) != set(SEVERITIES) or not all(matrix.severity_criteria.values()):
        out.append("every severity needs written criteria")
    if matrix.lookback_months < 1:
        out.append("lookback_months must be >= 1")
    for s, row in matrix.cells.items():
        if len(row) != len(cols):
            out.append(f"severity {s}: {len(row)} cells for {len(cols)} priors columns")
            continue
        for i in range(1, len(row)):
            if not heavier_or_equal(row[i].action, row[i - 1].action):
                out.append(f"severity {s}: more priors (column {i}) recommends a lighter action")
    sev = sorted(s for s in matrix.cells if len(matrix.cells[s]) == len(cols))
    for lo, hi in itertools.pairwise(sev):
        for i in range(len(cols)):
            if not heavier_or_equal(matrix.cells[hi][i].action, matrix.cells[lo][i].action):
                out.append(f"severity {hi} recommends a lighter action than severity {lo} (column {i})")
    return out


def parse(data: dict[str, Any]) -> Matrix:
    """Build and validate a matrix from its JSON form. Raises ``MatrixInvalid``."""
    try:
        matrix = Matrix(
            version=str(data["version"]),
            effective_from=date.fromisoformat(str(data["effective_from"])),
            lookback_months=int(data.get("lookback_months", 24)),
            severity_criteria={int(k): str(v) for k, v in data["severity_criteria"].items()},
            priors_columns=tuple(int(c) for c in data["priors_columns"]),
            cells={
                int(s): tuple(
                    Cell(DisciplinaryAction(c["action"]), tuple(RestorativeKind(r) for r in c.get("restorative", [])))
                    for c in row
                )
                for s, row in data["cells"].items()
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MatrixInvalid([f"malformed matrix: {exc}"]) from exc
    found = problems(matrix)
    if found:
        raise MatrixInvalid(found)
    return matrix


def available_versions() -> list[str]:
    return sorted(p.stem for p in MATRIX_DIR.glob("*.json"))


@lru_cache(maxsize=16)
def load(version: str | None = None) -> Matrix:
    """The packaged matrix ``version`` (default: the latest)."""
    versions = available_versions()
    chosen = version or versions[-1]
    if chosen not in versions:
        raise MatrixInvalid([f"unknown matrix version {chosen!r}; available: {versions}"])
    data = json.loads((MATRIX_DIR / f"{chosen}.json").read_text())
    return parse(data)


@dataclass(frozen=True)
class Recommendation:
    matrix_version: str
    severity: int
    prior_count: int
    lookback_months: int
    action: DisciplinaryAction
    restorative: tuple[RestorativeKind, ...]


def recommend(matrix: Matrix, *, severity: int, prior_count: int) -> Recommendation:
    cell = matrix.cell(severity, prior_count)
    return Recommendation(
        matrix_version=matrix.version, severity=severity, prior_count=prior_count,
        lookback_months=matrix.lookback_months, action=cell.action, restorative=cell.restorative,
    )


def lookback_start(now: datetime, months: int) -> datetime:
    """``now`` minus ``months`` calendar months (day clamped to the month's end)."""
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


MIN_JUSTIFICATION = 20


def check_decision(
    recommended: DisciplinaryAction, decided: DisciplinaryAction, justification: str | None
) -> str | None:
    """A decision may differ from the recommendation only with a written justification.
    Returns an error message, or None when the decision is acceptable."""
    if decided == recommended:
        return None
    if not justification or len(justification.strip()) < MIN_JUSTIFICATION:
        return (f"The decision ({decided.value}) differs from the recommendation ({recommended.value}): "
                f"write a justification of at least {MIN_JUSTIFICATION} characters.")
    return None
