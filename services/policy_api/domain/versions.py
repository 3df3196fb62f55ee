"""Versions of a policy and their sections: drafting, the lifecycle (state_machine.py), the
R-24-89 checklist (completeness.py) and diffs (diff.py), with the rules that guard writes.

Section HTML is rendered once, when the Markdown is written (``markdown.render``), and stored:
reads never render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from services.policy_api.domain import changelog, completeness, diff, elements, markdown
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Policy, PolicyVersion, Section
from services.policy_api.domain.policies import PUBLIC, current_version, get_policy, open_version
from services.policy_api.domain.state_machine import Action, VersionState, is_editable, next_state
from shared.db import Database
from shared.errors import Conflict, DomainError, NotFound, ValidationFailed, field_error
from shared.timeutil import as_utc


class TwoPersonRule(DomainError):
    status, slug, title = 403, "two-person-rule", "The approver cannot be an author of the version"


class TwoPersonRetirement(TwoPersonRule):
    title = "The retirement must be confirmed by someone other than who requested it"


class ImmutableVersion(Conflict):
    slug, title = "immutable-version", "This version can no longer be changed"


@dataclass(frozen=True)
class SectionDraft:
    heading: str
    body_markdown: str = ""
    key: str | None = None
    elements: Sequence[str] = ()


@dataclass(frozen=True)
class SectionChanges:
    """Only the fields given (not None) change."""

    heading: str | None = None
    body_markdown: str | None = None
    elements: Sequence[str] | None = None


@dataclass(frozen=True)
class NewVersion:
    label: str | None = None
    effective_date: date | None = None
    change_summary: str = ""
    sections: Sequence[SectionDraft] | None = None  # None: start from the latest version's sections


@dataclass(frozen=True)
class VersionChanges:
    """``fields`` names what was given; a given ``effective_date`` of None clears it."""

    fields: frozenset[str] = frozenset()
    label: str | None = None
    effective_date: date | None = None
    change_summary: str | None = None


@dataclass(frozen=True)
class VersionWithSections:
    version: PolicyVersion
    sections: list[Section] = field(default_factory=list)


# --- queries -------------------------------------------------------------------------------


def get_version(session: Session, policy_id: str, version_id: str, *, public: bool) -> PolicyVersion:
    version = session.get(PolicyVersion, version_id)
    if version is None or version.policy_id != policy_id or (public and version.state not in PUBLIC):
        raise NotFound(f"No version {version_id!r} of policy {policy_id!r}.")
    return version


def versions_page(
    session: Session, policy_id: str, *, public: bool, limit: int, offset: int
) -> tuple[list[PolicyVersion], int]:
    query = select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
    if public:
        query = query.where(col(PolicyVersion.state).in_(PUBLIC))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PolicyVersion.number).desc()).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def sections(session: Session, version_id: str) -> list[Section]:
    return list(
        session.exec(select(Section).where(Section.version_id == version_id).order_by(col(Section.ordinal))).all()
    )


def sections_by_version(session: Session, version_ids: Sequence[str]) -> dict[str, list[Section]]:
    out: dict[str, list[Section]] = {v: [] for v in version_ids}
    if not version_ids:
        return out
    rows = session.exec(
        select(Section).where(col(Section.version_id).in_(list(version_ids))).order_by(col(Section.ordinal))
    ).all()
    for row in rows:
        out[row.version_id].append(row)
    return out


def checklist_for(kind: str, catalogue: Sequence[Any], rows: Sequence[Section]) -> completeness.Checklist:
    items = [completeness.CatalogueItem(key=e.key, title=e.title, ordinal=e.ordinal, required=e.required)
             for e in catalogue]
    tags = [completeness.SectionTags(id=s.id, heading=s.heading, elements=list(s.elements),
                                     substantive=completeness.is_substantive(s.body_markdown)) for s in rows]
    return completeness.check(kind, items, tags)


def checklist(session: Session, policy: Policy, version: PolicyVersion) -> completeness.Checklist:
    return checklist_for(policy.kind, elements.catalogue(session), sections(session, version.id))


# --- use-cases: reads ----------------------------------------------------------------------


def list_versions(
    db: Database, *, policy_id: str, public: bool, limit: int, offset: int
) -> tuple[list[PolicyVersion], int]:
    """Three statements: the visibility check, the count, the page."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        return versions_page(s, policy.id, public=public, limit=limit, offset=offset)


def version_detail(db: Database, *, policy_id: str, version_id: str, public: bool) -> VersionWithSections:
    """Two statements: the version, its sections."""
    with db.read() as s:
        version = get_version(s, policy_id, version_id, public=public)
        return VersionWithSections(version=version, sections=sections(s, version.id))


@dataclass(frozen=True)
class VersionChecklist:
    policy: Policy
    version: PolicyVersion
    checklist: completeness.Checklist


def version_checklist(db: Database, *, policy_id: str, version_id: str, public: bool) -> VersionChecklist:
    """Four statements: the policy, the version, the catalogue, the sections."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        version = get_version(s, policy.id, version_id, public=public)
        return VersionChecklist(policy=policy, version=version, checklist=checklist(s, policy, version))


@dataclass(frozen=True)
class VersionDiff:
    policy: Policy
    from_version: PolicyVersion
    to_version: PolicyVersion
    diff: diff.VersionDiff


def compare(session: Session, policy: Policy, from_id: str, to_id: str, *, public: bool) -> VersionDiff:
    """Two statements: both versions, then both versions' sections."""
    found = {v.id: v for v in session.exec(
        select(PolicyVersion).where(col(PolicyVersion.id).in_([from_id, to_id]))).all()}

    def pick(version_id: str) -> PolicyVersion:
        v = found.get(version_id)
        if v is None or v.policy_id != policy.id or (public and v.state not in PUBLIC):
            raise NotFound(f"No version {version_id!r} of policy {policy.id!r}.")
        return v

    a, b = pick(from_id), pick(to_id)
    by = sections_by_version(session, [a.id, b.id])

    def texts(v: PolicyVersion) -> list[diff.SectionText]:
        return [diff.SectionText(key=s.key, heading=s.heading, body_markdown=s.body_markdown,
                                 elements=list(s.elements)) for s in by[v.id]]

    d = diff.diff_versions(texts(a), texts(b), from_label=f"v{a.label}", to_label=f"v{b.label}")
    return VersionDiff(policy=policy, from_version=a, to_version=b, diff=d)


def version_diff(db: Database, *, policy_id: str, from_id: str, to_id: str, public: bool) -> VersionDiff:
    """Three statements: the policy, both versions, their sections."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        return compare(s, policy, from_id, to_id, public=public)


# --- writes -------------------------------------------------------------------------------------


def earliest_effective_date(*, policy_created_on: date, published_on: date) -> date:
    """A version may not take effect before the policy existed, unless it is an imported (legacy) version
    whose real publication date is earlier: then not before that date."""
    return min(policy_created_on, published_on)


def is_backdated(version: PolicyVersion) -> bool:
    """Effective before the day it was published: shown as back-dated wherever the date appears."""
    return bool(version.effective_date and version.published_on and version.effective_date < version.published_on)


def _publication_day(published_on: date | None, today: date) -> date:
    if published_on is None:
        return today
    if published_on > today:
        raise ValidationFailed("The publication date of an imported version cannot be in the future.",
                               errors=[field_error(["body", "published_on"], "In the future.")])
    return published_on


def _version_snapshot(session: Session, version: PolicyVersion) -> dict[str, Any]:
    snap = changelog.snapshot(version)
    snap["sections"] = [changelog.snapshot(s, exclude=("body_html",)) for s in sections(session, version.id)]
    return snap


def _validate_elements(session: Session, items: Sequence[Sequence[str]], loc_prefix: list[str | int]) -> None:
    known = elements.known_keys(session)
    errors = []
    for i, keys in enumerate(items):
        for j, key in enumerate(keys):
            if key not in known:
                errors.append(
                    field_error([*loc_prefix, i, "elements", j], f"Unknown element {key!r}.", "unknown_element")
                )
    if errors:
        raise ValidationFailed(f"{len(errors)} unknown element key(s). See GET /v1/elements.", errors=errors)


def _unique_key(wanted: str, taken: set[str]) -> str:
    key, n = wanted, 2
    while key in taken:
        key = f"{wanted}-{n}"
        n += 1
    taken.add(key)
    return key


def _make_section(version_id: str, ordinal: int, item: SectionDraft, taken: set[str]) -> Section:
    key = _unique_key(markdown.slugify(item.key or item.heading), taken)
    body = item.body_markdown or ""
    return Section(version_id=version_id, key=key, ordinal=ordinal, heading=item.heading, body_markdown=body,
                   body_html=markdown.render(body), elements=list(dict.fromkeys(item.elements)))


def _require_editable(version: PolicyVersion) -> None:
    if not is_editable(version.state):
        if version.state in PUBLIC:
            raise ImmutableVersion(f"Version {version.label} is {version.state}: published versions are immutable.",
                                   state=version.state)
        raise ImmutableVersion(
            f"Version {version.label} is {version.state}: return it to draft before editing.", state=version.state
        )


def _touch(version: PolicyVersion, ctx: WriteContext) -> None:
    if ctx.actor not in version.contributors:
        version.contributors = [*version.contributors, ctx.actor]
    version.updated_at = ctx.now


def create_version(db: Database, ctx: WriteContext, *, policy_id: str, new: NewVersion) -> VersionWithSections:
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        existing = open_version(s, policy.id)
        if existing is not None:
            raise Conflict(f"Version {existing.label} ({existing.state}) is still open: finish or publish it first.",
                           open_version_id=existing.id)
        last = s.exec(
            select(PolicyVersion).where(PolicyVersion.policy_id == policy.id)
            .order_by(col(PolicyVersion.number).desc())
        ).first()
        number = (last.number + 1) if last else 1
        if new.sections is not None:
            _validate_elements(s, [item.elements for item in new.sections], ["body", "sections"])
        version = PolicyVersion(
            policy_id=policy.id, number=number, label=new.label or str(number), state=VersionState.draft.value,
            effective_date=new.effective_date, change_summary=new.change_summary or "",
            author_id=ctx.actor, contributors=[ctx.actor], created_at=ctx.now, updated_at=ctx.now,
        )
        s.add(version)
        flush_or_conflict(s, "Another version of this policy was started at the same time.")
        taken: set[str] = set()
        if new.sections is None and last is not None:
            # A new draft starts from the latest version's text; its sections keep their keys.
            for old in sections(s, last.id):
                s.add(Section(version_id=version.id, key=_unique_key(old.key, taken), ordinal=old.ordinal,
                              heading=old.heading, body_markdown=old.body_markdown, body_html=old.body_html,
                              elements=list(old.elements)))
        for i, item in enumerate(new.sections or []):
            s.add(_make_section(version.id, i, item, taken))
        s.flush()
        changelog.record(s, actor=ctx.actor, action="version.created", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, after=_version_snapshot(s, version),
                         request_id=ctx.request_id)
        return VersionWithSections(version=version, sections=sections(s, version.id))


def update_version(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, changes: VersionChanges
) -> VersionWithSections:
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        _require_editable(version)
        before = changelog.snapshot(version)
        if "label" in changes.fields and changes.label:
            version.label = changes.label
        if "effective_date" in changes.fields:
            version.effective_date = changes.effective_date
        if "change_summary" in changes.fields:
            version.change_summary = changes.change_summary or ""
        _touch(version, ctx)
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="version.updated", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, before=before, after=changelog.snapshot(version),
                         request_id=ctx.request_id)
        return VersionWithSections(version=version, sections=sections(s, version.id))


def replace_sections(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, items: Sequence[SectionDraft]
) -> list[Section]:
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        _require_editable(version)
        _validate_elements(s, [item.elements for item in items], ["body"])
        before = _version_snapshot(s, version)
        for old in sections(s, version.id):
            s.delete(old)
        s.flush()
        taken: set[str] = set()
        for i, item in enumerate(items):
            s.add(_make_section(version.id, i, item, taken))
        _touch(version, ctx)
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="version.sections_replaced", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, before=before, after=_version_snapshot(s, version),
                         request_id=ctx.request_id)
        return sections(s, version.id)


def add_section(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, item: SectionDraft,
    position: int | None = None,
) -> Section:
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        _require_editable(version)
        _validate_elements(s, [item.elements], ["body"])
        existing = sections(s, version.id)
        taken = {row.key for row in existing}
        ordinal = len(existing) if position is None else max(0, min(int(position), len(existing)))
        for row in existing[ordinal:]:
            row.ordinal += 1
            s.add(row)
        section = _make_section(version.id, ordinal, item, taken)
        s.add(section)
        _touch(version, ctx)
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="section.added", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, after=changelog.snapshot(section, exclude=("body_html",)),
                         request_id=ctx.request_id)
        return section


def _get_section(session: Session, version: PolicyVersion, section_id: str) -> Section:
    section = session.get(Section, section_id)
    if section is None or section.version_id != version.id:
        raise NotFound(f"No section {section_id!r} in version {version.label}.")
    return section


def update_section(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, section_id: str, changes: SectionChanges
) -> Section:
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        _require_editable(version)
        section = _get_section(s, version, section_id)
        if changes.elements is not None:
            _validate_elements(s, [changes.elements], ["body"])
        before = changelog.snapshot(section, exclude=("body_html",))
        if changes.heading is not None:
            section.heading = changes.heading
        if changes.body_markdown is not None:
            section.body_markdown = changes.body_markdown
            section.body_html = markdown.render(section.body_markdown)
        if changes.elements is not None:
            section.elements = list(dict.fromkeys(changes.elements))
        s.add(section)
        _touch(version, ctx)
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="section.updated", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, before=before,
                         after=changelog.snapshot(section, exclude=("body_html",)), request_id=ctx.request_id)
        return section


def delete_section(db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, section_id: str) -> None:
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        _require_editable(version)
        section = _get_section(s, version, section_id)
        before = changelog.snapshot(section, exclude=("body_html",))
        s.delete(section)
        s.flush()
        for i, row in enumerate(sections(s, version.id)):
            row.ordinal = i
            s.add(row)
        _touch(version, ctx)
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="section.deleted", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, before=before, request_id=ctx.request_id)


def transition(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, action: Action,
    effective_date: date | None = None, note: str | None = None, published_on: date | None = None,
    attested_elements: Sequence[str] = (),
) -> VersionWithSections:
    """``attested_elements``: for approve, the element keys the approver attests (every required one for a
    social media policy)."""
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        version = get_version(s, policy.id, version_id, public=False)
        _transition(s, ctx, policy, version, action, effective_date=effective_date, note=note,
                    published_on=published_on, attested_elements=attested_elements)
        return VersionWithSections(version=version, sections=sections(s, version.id))


def request_retirement(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, reason: str
) -> VersionWithSections:
    """The first of the two people who retire a policy: the published version stays in force until a
    different approver confirms (``transition(..., action=Action.retire)``)."""
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        version = get_version(s, policy.id, version_id, public=False)
        next_state(version.state, Action.retire)  # 409 unless published
        if version.retirement_requested_by is not None:
            raise Conflict(f"Retirement was already requested by {version.retirement_requested_by}; a different "
                           "approver confirms it.", requested_by=version.retirement_requested_by)
        before = changelog.snapshot(version)
        version.retirement_requested_by = ctx.actor
        version.retirement_requested_at = ctx.now
        version.retirement_reason = reason
        version.updated_at = ctx.now
        s.add(version)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="version.retirement_requested", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, before=before, after=changelog.snapshot(version),
                         request_id=ctx.request_id)
        return VersionWithSections(version=version, sections=sections(s, version.id))


def _transition(
    session: Session, ctx: WriteContext, policy: Policy, version: PolicyVersion, action: Action, *,
    effective_date: date | None, note: str | None, published_on: date | None = None,
    attested_elements: Sequence[str] = (),
) -> None:
    target = next_state(version.state, action)
    before = changelog.snapshot(version)
    today = ctx.now.date()
    if action == Action.submit:
        if not sections(session, version.id):
            raise ValidationFailed("A version needs at least one section before review.",
                                   errors=[field_error(["sections"], "No sections.", "missing")])
        version.submitted_at = ctx.now
    elif action == Action.return_to_draft:
        version.submitted_at = None
        version.approved_at = None
        version.approved_by = None
        version.attested_elements = []
    elif action == Action.approve:
        if ctx.actor in version.contributors or ctx.actor == version.author_id:
            raise TwoPersonRule(
                "Two-person rule: you wrote or edited this version, so another approver must approve it.",
                author_id=version.author_id,
            )
        check = checklist(session, policy, version)
        completeness.require_complete(check, action="approve")
        version.attested_elements = completeness.require_attested(check, attested_elements)
        version.approved_by = ctx.actor
        version.approved_at = ctx.now
    elif action == Action.publish:
        completeness.require_complete(checklist(session, policy, version), action="publish")
        effective = effective_date or version.effective_date or today
        real_publication = _publication_day(published_on, today)
        earliest = earliest_effective_date(policy_created_on=as_utc(policy.created_at).date(),
                                           published_on=real_publication)
        if effective < earliest:
            raise ValidationFailed(
                f"The effective date {effective} is earlier than this policy allows ({earliest}: the policy was "
                "created then; for an imported version give the date it was really published, published_on).",
                errors=[field_error(["body", "effective_date"], "Earlier than the policy's creation allows.",
                                    "effective_date_too_early")],
            )
        previous = current_version(session, policy.id)
        if previous is not None and previous.effective_date and effective < previous.effective_date:
            raise ValidationFailed(
                f"The effective date must not be before that of the version in force ({previous.effective_date}).",
                errors=[field_error(["body", "effective_date"], "Before the current version's effective date.")],
            )
        if previous is not None:
            prev_before = changelog.snapshot(previous)
            previous.state = next_state(previous.state, Action.supersede).value
            previous.superseded_at = ctx.now
            previous.ended_on = effective
            previous.updated_at = ctx.now
            session.add(previous)
            session.flush()  # before the new version becomes published: one published version per policy
            changelog.record(session, actor=ctx.actor, action="version.superseded", entity_type="policy_version",
                             entity_id=previous.id, at=ctx.now, before=prev_before,
                             after=changelog.snapshot(previous), request_id=ctx.request_id)
        version.effective_date = effective
        version.published_at = ctx.now
        version.published_on = real_publication
        version.published_by = ctx.actor
    elif action == Action.retire:
        if version.retirement_requested_by is None:
            raise Conflict("Retiring needs two people: request the retirement first (POST .../retire), then a "
                           "different approver confirms it (POST .../retire/confirm).")
        if ctx.actor == version.retirement_requested_by:
            raise TwoPersonRetirement(
                "Two-person rule: you requested this retirement, so another approver must confirm it.",
                requested_by=version.retirement_requested_by)
        version.retired_at = ctx.now
        version.retired_by = ctx.actor
        version.ended_on = today
    else:  # supersede happens only through publishing a newer version
        raise Conflict("A version is superseded by publishing a newer one.")
    version.state = target.value
    version.updated_at = ctx.now
    session.add(version)
    flush_or_conflict(session, "Another change to this policy's versions happened at the same time; retry.")
    after = changelog.snapshot(version) | ({"note": note} if note else {})
    changelog.record(session, actor=ctx.actor, action=f"version.{action.value}", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before, after=after, request_id=ctx.request_id)
