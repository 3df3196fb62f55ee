"""Unit tests of the pure domain modules: state machine, completeness, diff, review schedule, Markdown."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.policy_api.domain import completeness, diff, markdown, review_schedule, state_machine
from shared.errors import InvalidTransition, ValidationFailed

# --- state machine ---


@pytest.mark.parametrize(("state", "action", "target"), [
    ("draft", "submit", "in_review"),
    ("in_review", "return", "draft"),
    ("approved", "return", "draft"),
    ("in_review", "approve", "approved"),
    ("approved", "publish", "published"),
    ("published", "supersede", "superseded"),
    ("published", "retire", "retired"),
])
def test_legal_transitions(state, action, target):
    assert state_machine.next_state(state, action) == target


@pytest.mark.parametrize(("state", "action"), [
    ("draft", "approve"), ("draft", "publish"), ("in_review", "publish"), ("published", "submit"),
    ("published", "return"), ("superseded", "publish"), ("retired", "publish"), ("superseded", "retire"),
    ("approved", "approve"),
])
def test_illegal_transitions(state, action):
    with pytest.raises(InvalidTransition) as err:
        state_machine.next_state(state, action)
    assert err.value.status == 409


def test_only_drafts_are_editable_and_published_states_are_public():
    assert [s for s in state_machine.VersionState if state_machine.is_editable(s)] == ["draft"]
    assert {s.value for s in state_machine.VersionState if state_machine.is_public(s)} == {
        "published", "superseded", "retired"}
    assert state_machine.allowed_actions("superseded") == []


# --- completeness ---

CATALOGUE = [completeness.CatalogueItem(key=k, title=k.title(), ordinal=i) for i, k in enumerate("abc")]


def test_complete_when_every_element_is_covered():
    sections = [completeness.SectionTags("1", "One", ["a", "b"]), completeness.SectionTags("2", "Two", ["c"])]
    result = completeness.check("social_media_policy", CATALOGUE, sections)
    assert result.complete and result.applies and not result.missing
    assert [s.id for s in result.items[0].sections] == ["1"]
    completeness.require_complete(result, action="approve")


def test_missing_elements_are_named_in_order():
    result = completeness.check("social_media_policy", CATALOGUE, [completeness.SectionTags("1", "One", ["b"])])
    assert [m.key for m in result.missing] == ["a", "c"]
    with pytest.raises(ValidationFailed) as err:
        completeness.require_complete(result, action="publish")
    assert err.value.extra["missing_elements"] == ["a", "c"]
    assert "A (a)" in err.value.detail and "C (c)" in err.value.detail


def test_other_kinds_and_optional_elements_are_not_required():
    assert completeness.check("administrative_instruction", CATALOGUE, []).complete
    catalogue = [*CATALOGUE, completeness.CatalogueItem(key="d", title="D", required=False)]
    assert len(completeness.check("social_media_policy", catalogue, []).items) == 3


# --- diff ---


def S(key, heading, body, elements=()):
    return diff.SectionText(key=key, heading=heading, body_markdown=body, elements=list(elements))


def test_diff_statuses_and_unified_text():
    before = [S("a", "A", "one\ntwo"), S("b", "B", "bee", ["x"]), S("c", "C", "sea")]
    after = [S("a", "A", "one\n2"), S("c", "C", "sea"), S("d", "D", "new")]
    result = diff.diff_versions(before, after, from_label="v1", to_label="v2")
    assert [(s.key, s.status) for s in result.sections] == [
        ("a", "changed"), ("b", "removed"), ("c", "unchanged"), ("d", "added")]
    assert result.counts == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    a = result.sections[0]
    assert a.unified_diff.splitlines()[:2] == ["--- v1/a", "+++ v2/a"]
    assert "-two" in a.unified_diff and "+2" in a.unified_diff
    assert result.sections[1].elements_removed == ["x"]
    assert result.sections[2].unified_diff == ""


def test_diff_element_only_change_and_moves():
    before = [S("a", "A", "x", ["e1"]), S("b", "B", "y")]
    after = [S("b", "B", "y"), S("a", "A", "x", ["e2"])]
    result = diff.diff_versions(before, after)
    by_key = {s.key: s for s in result.sections}
    assert by_key["a"].status == "changed" and by_key["a"].unified_diff == ""
    assert by_key["a"].elements_added == ["e2"] and by_key["a"].elements_removed == ["e1"]
    assert by_key["a"].moved and by_key["b"].moved and by_key["b"].status == "unchanged"


def test_diff_of_identical_versions():
    secs = [S("a", "A", "x")]
    assert diff.diff_versions(secs, secs).counts["unchanged"] == 1


# --- review schedule ---


def test_add_months_clamps_to_month_end():
    assert review_schedule.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert review_schedule.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert review_schedule.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_next_review_from_publication_or_later_review():
    st = review_schedule.status(today=date(2025, 6, 1), interval_months=12, last_review=None,
                                published_on=date(2025, 3, 1))
    assert (st.basis, st.next_review_due, st.overdue, st.days_until_due) == (
        "publication", date(2026, 3, 1), False, 273)
    st = review_schedule.status(today=date(2026, 6, 1), interval_months=12, last_review=date(2026, 4, 1),
                                published_on=date(2025, 3, 1))
    assert (st.basis, st.next_review_due, st.overdue) == ("review", date(2027, 4, 1), False)
    # A review older than the current publication does not count.
    st = review_schedule.status(today=date(2026, 6, 1), interval_months=12, last_review=date(2024, 1, 1),
                                published_on=date(2025, 3, 1))
    assert st.basis == "publication" and st.overdue and st.days_until_due == -92


def test_never_published_has_no_due_date():
    st = review_schedule.status(today=date(2025, 1, 1), interval_months=12, last_review=None, published_on=None)
    assert st.next_review_due is None and not st.overdue and not st.due_within(30)


def test_due_on_the_day_is_not_overdue():
    st = review_schedule.status(today=date(2026, 3, 1), interval_months=12, last_review=None,
                                published_on=date(2025, 3, 1))
    assert not st.overdue and st.days_until_due == 0 and st.due_within(0)


# --- Markdown ---


@pytest.mark.parametrize("evil", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    '<a href="https://x.org" onclick="alert(1)">x</a>',
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"></svg>',
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
])
def test_markdown_neutralises_html(evil):
    html = markdown.render(evil)
    assert "<script" not in html and "<img" not in html and "<style" not in html and "<svg" not in html
    assert 'href="javascript' not in html and 'href="data' not in html
    assert not re.search(r"<[^>]*\son\w+\s*=", html), html


def test_markdown_keeps_formatting_and_shifts_h1():
    html = markdown.render("# Title\n\n**bold** _em_\n\n- one\n- two\n\n[City](https://www.cabq.gov)")
    assert "<h4>Title</h4>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_slugify():
    assert markdown.slugify("Prohibition on Personal Attacks!") == "prohibition-on-personal-attacks"
    assert markdown.slugify("¿Qué?") == "que"
    assert markdown.slugify("!!!") == "section"


@given(st.text(alphabet="ab .,\n", max_size=40), st.text(alphabet="ab .,\n", max_size=40))
def test_word_diff_rebuilds_both_texts(before, after):
    chunks = diff.words(before, after)
    assert "".join(c.text for c in chunks if c.op != "ins") == before
    assert "".join(c.text for c in chunks if c.op != "del") == after


def test_plain_text_drops_markup_and_soft_breaks():
    assert markdown.plain_text("## Head\n\n**Bold** text\nwrapped here.\n\n- one\n- two") == \
        "Head\nBold text wrapped here.\n• one\n• two"
