"""The widget's message catalogues: same keys in every language, every key the code uses exists,
and no user-facing text hides in the code (no browser needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "services" / "feedback_api" / "widget"
CATALOGUES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (WIDGET / "i18n").glob("*.json")}
SOURCE = (WIDGET / "static" / "widget.js").read_text(encoding="utf-8")


def test_every_language_has_the_same_keys() -> None:
    assert set(CATALOGUES) == {"en", "es"}
    assert set(CATALOGUES["en"]) == set(CATALOGUES["es"])
    for lang, messages in CATALOGUES.items():
        assert all(isinstance(v, str) and v.strip() for v in messages.values()), lang
        for key, text in messages.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", CATALOGUES["en"][key])), key


def test_every_key_the_code_uses_exists() -> None:
    literal = set(re.findall(r'"((?:app|home|report|feedback|field|category|platform|rating|size|progress|errors?|'
                             r'confirm|status|loader|next)\.[a-z_0-9.]+)"', SOURCE))
    assert literal, "the pattern finds the keys"
    assert sorted(literal - set(CATALOGUES["en"])) == []
    for prefix in ("platform.", "category.", "status.value.", "status.kind.", "status.from.", "rating."):
        assert any(k.startswith(prefix) for k in CATALOGUES["en"])


def test_no_user_facing_text_in_the_code() -> None:
    # textContent is only ever set from t(...) or from API data passed as `data:`.
    assert not re.search(r"textContent\s*=\s*(['\"`])[^'\"`]", SOURCE)
    assert not re.search(r"\b(alert|confirm|prompt)\(", SOURCE)
    assert "innerHTML" not in SOURCE


def test_every_platform_category_and_status_has_words() -> None:
    from shared.schemas.intake import PublicStatus, ViolationCategory
    from shared.schemas.registry import Platform

    needed = ({f"platform.{p.value}" for p in Platform} | {f"category.{c.value}" for c in ViolationCategory}
              | {f"status.value.{s.value}" for s in PublicStatus} | {f"status.means.{s.value}" for s in PublicStatus}
              | {f"next.{k}.{step}" for k in ("report", "feedback") for step in ("received", "review", "closed")})
    for lang, messages in CATALOGUES.items():
        assert sorted(needed - set(messages)) == [], lang
