"""Every string a page shows comes from the catalogue: each literal key the templates and routes
use exists, and the dynamic keys (states, actions, 'not available yet' pages) are all there."""

from __future__ import annotations

import re
from pathlib import Path

from services.staff_console import roles
from services.staff_console.messages import MESSAGES, t
from services.staff_console.routes_auth import DEV_ROLES
from services.staff_console.routes_cases import ACTIONS, FINDINGS, RESTORATIVE_KINDS, STATES

PKG = Path(__file__).resolve().parents[2] / "services" / "staff_console"


def test_every_literal_key_is_in_the_catalogue():
    sources = [*PKG.glob("templates/*.html"), *PKG.glob("*.py")]
    used = set()
    for path in sources:
        text = path.read_text()
        used |= set(re.findall(r"\bt\(['\"]([a-z_]+\.[a-z_.]+)['\"]", text))
        used |= set(re.findall(r"(?:title_key|detail_key)=['\"]([a-z_.]+)['\"]", text))
    missing = sorted(k for k in used if k not in MESSAGES)
    assert not missing, missing


def test_every_dynamic_key_is_in_the_catalogue():
    keys = [f"state.{s}" for s in STATES] + [f"finding.{f}" for f in FINDINGS] + [f"action.{a}" for a in ACTIONS]
    keys += [f"kind.{k}" for k in RESTORATIVE_KINDS] + [f"role.{r}" for r in DEV_ROLES]
    keys += [f"vaction.{a}" for a in roles.VERSION_ACTIONS] + [f"version.{a}.done" for a in roles.VERSION_ACTIONS]
    keys += [f"na.{w}.{p}" for w in ("records", "council-report", "due-process") for p in ("title", "detail")]
    keys += [f"registry.{a}.{p}" for a in ("grant", "revoke") for p in ("done", "submit")]
    assert not [k for k in keys if k not in MESSAGES]
    assert t("case.title", reference="C-1") == "Case C-1" and t("no.such.key") == "[no.such.key]"


def test_a_case_list_past_its_count_cap_says_more_than():
    """case_api stops counting at its cap (``total_exact`` false): the caption must not claim the
    cap is the number of cases."""
    from services.staff_console.web import templates

    macro = templates.env.get_template("macros.html").module.case_table
    capped = str(macro({"items": [], "total": 1000, "total_exact": False}, "Cases", "c"))
    exact = str(macro({"items": [], "total": 12, "total_exact": True}, "Cases", "c"))
    legacy = str(macro({"items": [], "total": 3}, "Cases", "c"))  # lists without the flag
    assert "(more than 1000: filter to narrow the list)" in capped and "in all" not in capped
    assert "(12 in all)" in exact and "(3 in all)" in legacy
