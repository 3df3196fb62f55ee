"""Policies, their versions and sections: the repository and the rules that guard writes.

Visibility: the public sees a policy once it has a published (or formerly published) version,
and only versions in a public state. Staff see everything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, completeness, diff, elements, markdown, review_schedule
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion, Section
from services.policy_api.domain.state_machine import (
    OPEN_STATES,
    PUBLIC_STATES,
    Action,
    VersionState,
    is_editable,
    next_state,
)
from shared.errors import Conflict, DomainError, NotFound, ValidationFailed, field_error

KINDS = ("social_media_policy", "administrative_instruction", "department_guideline", "other")
POLICY_FIELDS = ("kind", "identifier", "title", "department", "review_interval_months", "binds_account_holders")
_PUBLIC = [s.value for s in PUBLIC_STATES]



class TwoPersonRule(DomainError):
    status, slug, title = 403, "two-person-rule", "The approver cannot be an author of the version"


class ImmutableVersion(Conflict):
    slug, title = "immutable-version", "This version can no longer be changed"


# --- reads -------------------------------------------------------------------------------


def get_policy(session: Session, policy_id: str, *, public: bool) -> Policy:
    policy = session.get(Policy, policy_id)
    if policy is None or (public and not has_public_version(session, policy.id)):
        raise NotFound(f"No policy with id {policy_id!r}.")
    return policy


def has_public_version(session: Session, policy_id: str) -> bool:
    row = session.exec(
        select(PolicyVersion.id).where(PolicyVersion.policy_id == policy_id, col(PolicyVersion.state).in_(_PUBLIC))
    ).first()
    return row is not None


def list_policies(
    session: Session, *, public: bool, kind: str | None, limit: int, offset: int
) -> tuple[list[Policy], int]:
    query = select(Policy)
    if kind:
        query = query.where(Policy.kind == kind)
    if public:
        published = select(PolicyVersion.policy_id).where(PolicyVersion.state == VersionState.published.value)
        query = query.where(col(Policy.id).in_(published))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Policy.kind), col(Policy.identifier)).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def current_version(session: Session, policy_id: str) -> PolicyVersion | None:
    return session.exec(
        select(PolicyVersion).where(
            PolicyVersion.policy_id == policy_id, PolicyVersion.state == VersionState.published.value
        )
    ).first()


def open_version(session: Session, policy_id: str) -> PolicyVersion | None:
    return session.exec(
        select(PolicyVersion).where(
            PolicyVersion.policy_id == policy_id, col(PolicyVersion.state).in_([s.value for s in OPEN_STATES])
        )
    ).first()


def list_versions(
    session: Session, policy_id: str, *, public: bool, limit: int, offset: int
) -> tuple[list[PolicyVersion], int]:
    query = select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
    if public:
        query = query.where(col(PolicyVersion.state).in_(_PUBLIC))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PolicyVersion.number).desc()).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def get_version(session: Session, policy_id: str, version_id: str, *, public: bool) -> PolicyVersion:
    version = session.get(PolicyVersion, version_id)
    if version is None or version.policy_id != policy_id or (public and version.state not in _PUBLIC):
        raise NotFound(f"No version {version_id!r} of policy {policy_id!r}.")
    return version


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


# --- policy writes -------------------------------------------------------------------------


def _check_identifier_free(session: Session, identifier: str, exclude_id: str | None = None) -> None:
    existing = session.exec(select(Policy).where(func.lower(Policy.identifier) == identifier.lower())).first()
    if existing is not None and existing.id != exclude_id:
        raise Conflict(f"A policy with identifier {identifier!r} already exists.", existing_id=existing.id)


def create_policy(session: Session, ctx: WriteContext, data: dict[str, Any]) -> Policy:
    _check_identifier_free(session, data["identifier"])
    values = {k: data[k] for k in POLICY_FIELDS if data.get(k) is not None}
    values.setdefault("binds_account_holders", data["kind"] == completeness.CHECKED_KIND)
    policy = Policy(**values, created_by=ctx.actor, created_at=ctx.now, updated_at=ctx.now)
    session.add(policy)
    flush_or_conflict(session, f"A policy with identifier {data['identifier']!r} already exists.")
    changelog.record(session, actor=ctx.actor, action="policy.created", entity_type="policy", entity_id=policy.id,
                     at=ctx.now, after=changelog.snapshot(policy), request_id=ctx.request_id)
    return policy


def update_policy(session: Session, ctx: WriteContext, policy_id: str, changes: dict[str, Any]) -> Policy:
    policy = get_policy(session, policy_id, public=False)
    before = changelog.snapshot(policy)
    if "identifier" in changes and changes["identifier"] != policy.identifier:
        _check_identifier_free(session, changes["identifier"], exclude_id=policy.id)
    if "kind" in changes and changes["kind"] != policy.kind and has_public_version(session, policy.id):
        raise Conflict("The kind of a policy with published versions cannot change.")
    for key, value in changes.items():
        if key in POLICY_FIELDS and value is not None:
            setattr(policy, key, value)
    policy.updated_at = ctx.now
    session.add(policy)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="policy.updated", entity_type="policy", entity_id=policy.id,
                     at=ctx.now, before=before, after=changelog.snapshot(policy), request_id=ctx.request_id)
    return policy


# --- versions and sections ------------------------------------------------------------------


def _version_snapshot(session: Session, version: PolicyVersion) -> dict[str, Any]:
    snap = changelog.snapshot(version)
    snap["sections"] = [changelog.snapshot(s, exclude=("body_html",)) for s in sections(session, version.id)]
    return snap


def _validate_elements(session: Session, items: Sequence[dict[str, Any]], loc_prefix: list[str | int]) -> None:
    known = elements.known_keys(session)
    errors = []
    for i, item in enumerate(items):
        for j, key in enumerate(item.get("elements") or []):
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


def _make_section(version_id: str, ordinal: int, item: dict[str, Any], taken: set[str]) -> Section:
    key = _unique_key(markdown.slugify(item.get("key") or item["heading"]), taken)
    body = item.get("body_markdown") or ""
    return Section(version_id=version_id, key=key, ordinal=ordinal, heading=item["heading"], body_markdown=body,
                   body_html=markdown.render(body), elements=list(dict.fromkeys(item.get("elements") or [])))


def _require_editable(version: PolicyVersion) -> None:
    if not is_editable(version.state):
        if version.state in _PUBLIC:
            raise ImmutableVersion(f"Version {version.label} is {version.state}: published versions are immutable.",
                                   state=version.state)
        raise ImmutableVersion(
            f"Version {version.label} is {version.state}: return it to draft before editing.", state=version.state
        )


def _touch(version: PolicyVersion, ctx: WriteContext) -> None:
    if ctx.actor not in version.contributors:
        version.contributors = [*version.contributors, ctx.actor]
    version.updated_at = ctx.now


def create_version(session: Session, ctx: WriteContext, policy_id: str, data: dict[str, Any]) -> PolicyVersion:
    policy = get_policy(session, policy_id, public=False)
    existing = open_version(session, policy.id)
    if existing is not None:
        raise Conflict(f"Version {existing.label} ({existing.state}) is still open: finish or publish it first.",
                       open_version_id=existing.id)
    last = session.exec(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy.id).order_by(col(PolicyVersion.number).desc())
    ).first()
    number = (last.number + 1) if last else 1
    items = data.get("sections")
    if items is not None:
        _validate_elements(session, items, ["body", "sections"])
    version = PolicyVersion(
        policy_id=policy.id, number=number, label=data.get("label") or str(number), state=VersionState.draft.value,
        effective_date=data.get("effective_date"), change_summary=data.get("change_summary") or "",
        author_id=ctx.actor, contributors=[ctx.actor], created_at=ctx.now, updated_at=ctx.now,
    )
    session.add(version)
    flush_or_conflict(session, "Another version of this policy was started at the same time.")
    taken: set[str] = set()
    if items is None and last is not None:
        # A new draft starts from the latest version's text; its sections keep their keys.
        for s in sections(session, last.id):
            session.add(Section(version_id=version.id, key=_unique_key(s.key, taken), ordinal=s.ordinal,
                                heading=s.heading, body_markdown=s.body_markdown, body_html=s.body_html,
                                elements=list(s.elements)))
    for i, item in enumerate(items or []):
        session.add(_make_section(version.id, i, item, taken))
    session.flush()
    changelog.record(session, actor=ctx.actor, action="version.created", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, after=_version_snapshot(session, version),
                     request_id=ctx.request_id)
    return version


def update_version(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, changes: dict[str, Any]
) -> PolicyVersion:
    version = get_version(session, policy_id, version_id, public=False)
    _require_editable(version)
    before = changelog.snapshot(version)
    for key in ("label", "effective_date", "change_summary"):
        if key in changes:
            value = changes[key]
            if key == "label" and not value:
                continue
            setattr(version, key, value if value is not None or key == "effective_date" else "")
    _touch(version, ctx)
    session.add(version)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="version.updated", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before, after=changelog.snapshot(version),
                     request_id=ctx.request_id)
    return version


def replace_sections(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, items: list[dict[str, Any]]
) -> list[Section]:
    version = get_version(session, policy_id, version_id, public=False)
    _require_editable(version)
    _validate_elements(session, items, ["body"])
    before = _version_snapshot(session, version)
    for s in sections(session, version.id):
        session.delete(s)
    session.flush()
    taken: set[str] = set()
    for i, item in enumerate(items):
        session.add(_make_section(version.id, i, item, taken))
    _touch(version, ctx)
    session.add(version)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="version.sections_replaced", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before, after=_version_snapshot(session, version),
                     request_id=ctx.request_id)
    return sections(session, version.id)


def add_section(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, item: dict[str, Any]
) -> Section:
    version = get_version(session, policy_id, version_id, public=False)
    _require_editable(version)
    _validate_elements(session, [item], ["body"])
    existing = sections(session, version.id)
    taken = {s.key for s in existing}
    position = item.get("position")
    ordinal = len(existing) if position is None else max(0, min(int(position), len(existing)))
    for s in existing[ordinal:]:
        s.ordinal += 1
        session.add(s)
    section = _make_section(version.id, ordinal, item, taken)
    session.add(section)
    _touch(version, ctx)
    session.add(version)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="section.added", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, after=changelog.snapshot(section, exclude=("body_html",)),
                     request_id=ctx.request_id)
    return section


def _get_section(session: Session, version: PolicyVersion, section_id: str) -> Section:
    section = session.get(Section, section_id)
    if section is None or section.version_id != version.id:
        raise NotFound(f"No section {section_id!r} in version {version.label}.")
    return section


def update_section(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, section_id: str, changes: dict[str, Any]
) -> Section:
    version = get_version(session, policy_id, version_id, public=False)
    _require_editable(version)
    section = _get_section(session, version, section_id)
    if changes.get("elements") is not None:
        _validate_elements(session, [changes], ["body"])
    before = changelog.snapshot(section, exclude=("body_html",))
    if changes.get("heading") is not None:
        section.heading = changes["heading"]
    if changes.get("body_markdown") is not None:
        section.body_markdown = changes["body_markdown"]
        section.body_html = markdown.render(section.body_markdown)
    if changes.get("elements") is not None:
        section.elements = list(dict.fromkeys(changes["elements"]))
    session.add(section)
    _touch(version, ctx)
    session.add(version)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="section.updated", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before,
                     after=changelog.snapshot(section, exclude=("body_html",)), request_id=ctx.request_id)
    return section


def delete_section(session: Session, ctx: WriteContext, policy_id: str, version_id: str, section_id: str) -> None:
    version = get_version(session, policy_id, version_id, public=False)
    _require_editable(version)
    section = _get_section(session, version, section_id)
    before = changelog.snapshot(section, exclude=("body_html",))
    session.delete(section)
    session.flush()
    for i, s in enumerate(sections(session, version.id)):
        s.ordinal = i
        session.add(s)
    _touch(version, ctx)
    session.add(version)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="section.deleted", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before, request_id=ctx.request_id)


# --- completeness, transitions ---------------------------------------------------------------


def checklist(session: Session, policy: Policy, version: PolicyVersion) -> completeness.Checklist:
    catalogue = [completeness.CatalogueItem(key=e.key, title=e.title, ordinal=e.ordinal, required=e.required)
                 for e in elements.catalogue(session)]
    tags = [completeness.SectionTags(id=s.id, heading=s.heading, elements=list(s.elements))
            for s in sections(session, version.id)]
    return completeness.check(policy.kind, catalogue, tags)


def transition(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, action: str, *,
    effective_date: date | None = None, note: str | None = None,
) -> PolicyVersion:
    policy = get_policy(session, policy_id, public=False)
    version = get_version(session, policy.id, version_id, public=False)
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
    elif action == Action.approve:
        if ctx.actor in version.contributors or ctx.actor == version.author_id:
            raise TwoPersonRule(
                "Two-person rule: you wrote or edited this version, so another approver must approve it.",
                author_id=version.author_id,
            )
        completeness.require_complete(checklist(session, policy, version), action="approve")
        version.approved_by = ctx.actor
        version.approved_at = ctx.now
    elif action == Action.publish:
        completeness.require_complete(checklist(session, policy, version), action="publish")
        effective = effective_date or version.effective_date or today
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
        version.published_by = ctx.actor
    elif action == Action.retire:
        version.retired_at = ctx.now
        version.ended_on = today
    else:  # supersede happens only through publishing a newer version
        raise Conflict("A version is superseded by publishing a newer one.")
    version.state = target.value
    version.updated_at = ctx.now
    session.add(version)
    flush_or_conflict(session, "Another change to this policy's versions happened at the same time; retry.")
    after = changelog.snapshot(version) | ({"note": note} if note else {})
    changelog.record(session, actor=ctx.actor, action=f"version.{action}", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, before=before, after=after, request_id=ctx.request_id)
    return version


# --- diffs -------------------------------------------------------------------------------


def version_diff(
    session: Session, policy_id: str, from_id: str, to_id: str, *, public: bool
) -> tuple[PolicyVersion, PolicyVersion, diff.VersionDiff]:
    a = get_version(session, policy_id, from_id, public=public)
    b = get_version(session, policy_id, to_id, public=public)
    by = sections_by_version(session, [a.id, b.id])

    def texts(v: PolicyVersion) -> list[diff.SectionText]:
        return [diff.SectionText(key=s.key, heading=s.heading, body_markdown=s.body_markdown,
                                 elements=list(s.elements)) for s in by[v.id]]

    return a, b, diff.diff_versions(texts(a), texts(b), from_label=f"v{a.label}", to_label=f"v{b.label}")


# --- review schedule ------------------------------------------------------------------------


def last_review(session: Session, policy_id: str) -> PolicyReview | None:
    return session.exec(
        select(PolicyReview).where(PolicyReview.policy_id == policy_id)
        .order_by(col(PolicyReview.reviewed_on).desc(), col(PolicyReview.recorded_at).desc())
    ).first()


def review_status(
    session: Session, policy: Policy, today: date, current: PolicyVersion | None = None
) -> review_schedule.ReviewStatus:
    current = current if current is not None else current_version(session, policy.id)
    last = last_review(session, policy.id)
    published_on = current.published_at.date() if current and current.published_at else None
    if current is None:
        return review_schedule.status(today=today, interval_months=policy.review_interval_months,
                                      last_review=None, published_on=None)
    return review_schedule.status(today=today, interval_months=policy.review_interval_months,
                                  last_review=last.reviewed_on if last else None, published_on=published_on)


def record_review(session: Session, ctx: WriteContext, policy_id: str, data: dict[str, Any]) -> PolicyReview:
    policy = get_policy(session, policy_id, public=False)
    current = current_version(session, policy.id)
    if current is None:
        raise Conflict("Only a policy with a published version can be reviewed.")
    reviewed_on: date = data.get("reviewed_on") or ctx.now.date()
    if reviewed_on > ctx.now.date():
        raise ValidationFailed("A review cannot be recorded for a future date.",
                               errors=[field_error(["body", "reviewed_on"], "In the future.")])
    review = PolicyReview(policy_id=policy.id, version_id=current.id, reviewed_on=reviewed_on,
                          outcome=data["outcome"], notes=data.get("notes") or "", reviewer=ctx.actor,
                          recorded_at=ctx.now)
    session.add(review)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="policy.reviewed", entity_type="policy", entity_id=policy.id,
                     at=ctx.now, after=changelog.snapshot(review), request_id=ctx.request_id)
    return review


def list_reviews(session: Session, policy_id: str, *, limit: int, offset: int) -> tuple[list[PolicyReview], int]:
    query = select(PolicyReview).where(PolicyReview.policy_id == policy_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(PolicyReview.reviewed_on).desc(), col(PolicyReview.recorded_at).desc())
        .offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def reviews_due(
    session: Session, today: date, within_days: int
) -> list[tuple[Policy, PolicyVersion, review_schedule.ReviewStatus]]:
    out = []
    for policy in session.exec(select(Policy).order_by(col(Policy.identifier))).all():
        current = current_version(session, policy.id)
        if current is None:
            continue
        st = review_status(session, policy, today, current)
        if st.overdue or st.due_within(within_days):
            out.append((policy, current, st))
    out.sort(key=lambda t: (t[2].next_review_due or date.max, t[0].identifier))
    return out
