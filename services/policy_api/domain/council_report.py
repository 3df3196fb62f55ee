"""The Executive Communication to Council (R-24-89 §2): the policy in force, a traceability matrix for
the eight §1.A elements, the review history, the Transparency page as served, case_api's public
monitoring and case figures, and the 30-day clock.

Peers are read **before** any transaction (the Transparency page over HTTP, case_api's public
metrics), then one read gathers the record, then one write stores the rendered HTML as it was
generated (``CouncilReport``). Rendering is ``services/policy_api/council_report_render.py``'s."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from services.policy_api.domain import (
    changelog,
    completeness,
    elements,
    feedback_links,
    retirements,
    review_schedule,
    reviews,
    versions,
)
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import CouncilReport, PolicyReview, PolicyVersion, Section
from services.policy_api.domain.policies import PolicyRow, policy_rows, versions_of
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.schemas.metrics import PublicMetrics
from shared.schemas.policy_feedback import PolicyFeedbackCounts
from shared.timeutil import as_utc

#: R-24-89 was enacted on this day; §2 gives the administration 30 days from Council's approval.
ENACTMENT = date(2024, 12, 5)
REPORT_DAYS = 30
MAX_POLICIES = 1000


@dataclass(frozen=True)
class TransparencyCheck:
    """The Transparency page as policy_api's public URL served it when the report was generated."""

    url: str
    checked_at: datetime
    status: int | None  # None: no answer
    sha256: str | None
    body: str = ""  # the page's text, to see which policies it lists (not stored)
    error: str | None = None


@dataclass(frozen=True)
class ChainHead:
    available: bool
    note: str
    seq: int | None = None
    hash: str | None = None


@dataclass(frozen=True)
class SectionTrace:
    key: str
    heading: str
    body_markdown: str
    last_changed_label: str
    last_changed_on: date | None  # the effective date of the version where the text last changed
    after_enactment: bool


@dataclass(frozen=True)
class MatrixRow:
    key: str
    title: str
    description: str
    sections: list[SectionTrace]
    other_policies: dict[str, bool]  # identifier -> covers this element (substantive text)

    @property
    def covered(self) -> bool:
        return bool(self.sections)


@dataclass(frozen=True)
class PolicyStatus:
    row: PolicyRow
    review: review_schedule.ReviewStatus
    unrevised_since: date | None  # when the current text was first published (real date)
    listed_on_page: bool | None  # None: the page could not be checked
    backdated: bool


@dataclass(frozen=True)
class ReportData:
    generated_at: datetime
    generated_by: str
    in_force: PolicyRow | None
    in_force_sections: list[Section]
    in_force_versions: list[PolicyVersion]  # public versions, newest first
    matrix: list[MatrixRow]
    statuses: list[PolicyStatus]
    reviews: list[tuple[str, PolicyReview]]  # (policy identifier, review), newest first
    transparency: TransparencyCheck
    metrics: PublicMetrics | None
    chain: ChainHead
    approved_at: datetime | None
    deadline: date | None  # 30 days after the approval of the version in force
    element_titles: dict[str, str] = field(default_factory=dict)
    enactment: date = ENACTMENT
    # residents' policy feedback (§1.B, issue 20 item 5): feedback_api's counts (None: it did not
    # answer) and the links policy staff recorded here, with what changed
    feedback: list[FeedbackSummary] = field(default_factory=list)
    feedback_available: bool = False
    feedback_linked: list[feedback_links.LinkRow] = field(default_factory=list)
    retirement_history: list[retirements.RetirementEvent] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)  # policy id -> identifier


@dataclass(frozen=True)
class FeedbackSummary:
    """Feedback received on one policy, by triage state, and how much of it was linked to a change."""

    policy: str  # identifier, or "other" for feedback naming no published policy
    received: int
    by_state: dict[str, int]
    linked: int  # distinct pieces of feedback linked to a version or review


FEEDBACK_STATES = ("received", "considered", "answered", "closed")


def _feedback_summary(counts: PolicyFeedbackCounts | None, links: Sequence[feedback_links.LinkRow],
                      identifiers: dict[str, str]) -> list[FeedbackSummary]:
    by_policy: dict[str, dict[str, int]] = {}
    for c in counts.items if counts else []:
        name = identifiers.get(c.policy_id or "", "other")
        states = by_policy.setdefault(name, dict.fromkeys(FEEDBACK_STATES, 0))
        states[c.state] += c.count
    linked: dict[str, set[str]] = {}
    for r in links:
        linked.setdefault(identifiers.get(r.link.policy_id, "other"), set()).add(r.link.feedback_reference)
    names = sorted(set(by_policy) | set(linked), key=lambda n: (n == "other", n))
    return [FeedbackSummary(policy=n, received=sum(by_policy.get(n, {}).values()),
                            by_state=by_policy.get(n, dict.fromkeys(FEEDBACK_STATES, 0)),
                            linked=len(linked.get(n, set()))) for n in names]


def _section_traces(current: Sequence[Section], history: Sequence[tuple[PolicyVersion, list[Section]]],
                    ) -> dict[str, SectionTrace]:
    """For each section of the version in force, the oldest version since which its heading and text
    are unchanged. ``history``: public versions oldest first, ending with the one in force."""
    out: dict[str, SectionTrace] = {}
    for sec in current:
        since: PolicyVersion | None = None
        for version, rows in reversed(history):
            same = next((r for r in rows if r.key == sec.key), None)
            if same is None or same.body_markdown.strip() != sec.body_markdown.strip() or same.heading != sec.heading:
                break
            since = version
        changed_on = since.effective_date if since else None
        out[sec.key] = SectionTrace(key=sec.key, heading=sec.heading, body_markdown=sec.body_markdown,
                                    last_changed_label=since.label if since else "?", last_changed_on=changed_on,
                                    after_enactment=bool(changed_on and changed_on > ENACTMENT))
    return out


def policy_in_force(rows: Sequence[PolicyRow], today: date) -> PolicyRow | None:
    """The City's social media policy in force today: published, effective by today; the latest effective wins."""
    candidates = [r for r in rows if r.policy.kind == completeness.CHECKED_KIND and r.current is not None
                  and r.current.effective_date is not None and r.current.effective_date <= today]
    return max(candidates, key=lambda r: (r.current.effective_date, r.current.number) if r.current else (date.min, 0),
               default=None)


def gather(
    db: Database, *, now: datetime, actor: str, transparency: TransparencyCheck, metrics: PublicMetrics | None,
    chain: ChainHead, feedback: PolicyFeedbackCounts | None = None,
) -> ReportData:
    """One read transaction, a fixed number of statements: policies, their public versions, those
    versions' sections, the catalogue, the reviews, the feedback links, the retirement history. The
    peers were read by the caller beforehand."""
    today = now.date()
    with db.read() as s:
        page = policy_rows(s, public=True, kind=None, limit=MAX_POLICIES, offset=0)
        by_policy = versions_of(s, [r.policy.id for r in page.rows], public=True)
        currents = [r.current.id for r in page.rows if r.current is not None]
        in_force = policy_in_force(page.rows, today)
        history_ids = [v.id for v in by_policy[in_force.policy.id]] if in_force else []
        secs = versions.sections_by_version(s, list(dict.fromkeys([*currents, *history_ids])))
        catalogue = elements.catalogue(s)
        recorded = _all_reviews(s, [r.policy.id for r in page.rows])
        links = feedback_links.links_for(s, [r.policy.id for r in page.rows])
        retired = retirements.history(s)
    identifiers = {r.policy.id: r.policy.identifier for r in page.rows}
    in_force_sections = secs.get(in_force.current.id, []) if in_force and in_force.current else []
    history = [(v, secs.get(v.id, [])) for v in reversed(by_policy[in_force.policy.id])] if in_force else []
    # only versions up to the one in force count for "last changed"
    if in_force and in_force.current:
        history = [(v, rows) for v, rows in history if v.number <= in_force.current.number]
    traces = _section_traces(in_force_sections, history)
    others = [r for r in page.rows if r.current is not None and (in_force is None or r.policy.id != in_force.policy.id)]
    matrix = []
    for element in (e for e in catalogue if e.required):
        covering = [traces[sec.key] for sec in in_force_sections
                    if element.key in sec.elements and completeness.is_substantive(sec.body_markdown)]
        other_cover = {
            r.policy.identifier: any(element.key in sec.elements and completeness.is_substantive(sec.body_markdown)
                                     for sec in secs.get(r.current.id, []))
            for r in others if r.current is not None
        }
        matrix.append(MatrixRow(key=element.key, title=element.title, description=element.description,
                                sections=covering, other_policies=other_cover))
    page_text = transparency.body if transparency.status == 200 else None
    statuses = []
    for r in page.rows:
        st = reviews.status_of(r, today)
        unrevised = r.current.published_on if r.current else None
        listed = None if page_text is None else (r.policy.identifier in page_text)
        statuses.append(PolicyStatus(row=r, review=st, unrevised_since=unrevised, listed_on_page=listed,
                                     backdated=bool(r.current and versions.is_backdated(r.current))))
    approved_at = in_force.current.approved_at if in_force and in_force.current else None
    deadline = (as_utc(approved_at).date() + timedelta(days=REPORT_DAYS)) if approved_at else None
    return ReportData(
        generated_at=now, generated_by=actor, in_force=in_force, in_force_sections=in_force_sections,
        in_force_versions=by_policy[in_force.policy.id] if in_force else [], matrix=matrix, statuses=statuses,
        reviews=[(identifiers[rv.policy_id], rv) for rv in recorded], transparency=transparency, metrics=metrics,
        chain=chain, approved_at=approved_at, deadline=deadline,
        element_titles={e.key: e.title for e in catalogue},
        feedback=_feedback_summary(feedback, links, identifiers), feedback_available=feedback is not None,
        feedback_linked=links, retirement_history=retired, identifiers=identifiers,
    )


def _all_reviews(session: Session, policy_ids: list[str]) -> list[PolicyReview]:
    if not policy_ids:
        return []
    return list(session.exec(
        select(PolicyReview).where(col(PolicyReview.policy_id).in_(policy_ids))
        .order_by(col(PolicyReview.reviewed_on).desc(), col(PolicyReview.recorded_at).desc())
    ).all())


# --- use-cases ------------------------------------------------------------------------------------


def generate(
    db: Database, ctx: WriteContext, *, transparency: Callable[[], TransparencyCheck],
    metrics: Callable[[], PublicMetrics | None], chain: Callable[[], ChainHead],
    render: Callable[[ReportData], str], feedback: Callable[[], PolicyFeedbackCounts | None] = lambda: None,
) -> CouncilReport:
    """Read the peers (no transaction open), gather the record, render, store the HTML as generated."""
    page, figures, head, received = transparency(), metrics(), chain(), feedback()
    data = gather(db, now=ctx.now, actor=ctx.actor, transparency=page, metrics=figures, chain=head,
                  feedback=received)
    html = render(data)
    with db.write() as s:
        report = CouncilReport(
            generated_at=ctx.now, generated_by=ctx.actor,
            policy_id=data.in_force.policy.id if data.in_force else None,
            version_id=data.in_force.current.id if data.in_force and data.in_force.current else None,
            approved_at=data.approved_at, html=html, html_sha256=hashlib.sha256(html.encode()).hexdigest(),
        )
        s.add(report)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="council_report.generated", entity_type="council_report",
                         entity_id=report.id, at=ctx.now, after=changelog.snapshot(report, exclude=("html",)),
                         request_id=ctx.request_id)
        return report


def get_report(db: Database, *, report_id: str) -> CouncilReport:
    with db.read() as s:
        report = s.get(CouncilReport, report_id)
        if report is None:
            raise NotFound(f"No council report {report_id!r}.")
        return report


def list_reports(db: Database, *, limit: int, offset: int) -> tuple[list[CouncilReport], int]:
    """Two statements: the count, the page (newest first)."""
    with db.read() as s:
        total = s.exec(select(func.count()).select_from(CouncilReport)).one()
        rows = s.exec(select(CouncilReport).order_by(col(CouncilReport.generated_at).desc())
                      .offset(offset).limit(limit)).all()
        return list(rows), int(total)


def mark_sent(db: Database, ctx: WriteContext, *, report_id: str, sent_at: datetime | None,
              note: str | None) -> CouncilReport:
    """Record when the communication was sent to Council: once, not in the future, not before it existed."""
    when = as_utc(sent_at) if sent_at else ctx.now
    with db.write() as s:
        report = s.get(CouncilReport, report_id)
        if report is None:
            raise NotFound(f"No council report {report_id!r}.")
        if report.sent_at is not None:
            raise Conflict(f"This report was already marked sent on {as_utc(report.sent_at).isoformat()}.",
                           sent_at=as_utc(report.sent_at).isoformat())
        if when > ctx.now or when < as_utc(report.generated_at):
            raise ValidationFailed("The time sent must be between the report's generation and now.",
                                   errors=[field_error(["body", "sent_at"], "Out of range.")])
        before = changelog.snapshot(report, exclude=("html",))
        report.sent_at, report.sent_by, report.sent_note = when, ctx.actor, note
        s.add(report)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="council_report.sent", entity_type="council_report",
                         entity_id=report.id, at=ctx.now, before=before,
                         after=changelog.snapshot(report, exclude=("html",)), request_id=ctx.request_id)
        return report

