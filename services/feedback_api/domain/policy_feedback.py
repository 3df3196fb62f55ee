"""Policy staff triage residents' policy feedback (R-24-89 §1.B, issue 20 item 5): list it by state and
policy, read one with its messages and history, move it (``feedback_triage``'s state machine), and
reply to the resident through the receipt: the reply is a ``city`` message on the submission, which
the resident reads with their receipt on the status page (``follow_up.receipt_status``). Staff never
see the resident's contact, and nothing here records anything about the resident.

Also the two reads policy_api makes (with its service token) for the review record and the Council
report: one piece of feedback by reference, and the counts by policy and state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from services.feedback_api.domain import feedback_triage as rules
from services.feedback_api.domain.follow_up import next_seq
from services.feedback_api.domain.models import FeedbackTriageEvent, Message, Submission
from services.feedback_api.domain.submissions import FEEDBACK
from services.feedback_api.domain.text import is_id, text_problem
from shared.db import Database
from shared.errors import NotFound, ValidationFailed, field_error


@dataclass(frozen=True)
class FeedbackDetail:
    submission: Submission
    messages: list[Message]
    events: list[FeedbackTriageEvent]

    @property
    def state(self) -> str:
        return state_of(self.submission)


@dataclass(frozen=True)
class StateCount:
    policy_id: str | None
    state: str
    count: int


def state_of(sub: Submission) -> str:
    return sub.triage_state or rules.TriageState.received.value


def _bounded(name: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(f"The {name} is empty.", errors=[field_error(["body", name], "must not be empty")])
        return None
    if len(text) > limit:
        raise ValidationFailed(f"The {name} is too long.",
                               errors=[field_error(["body", name], f"at most {limit} characters")])
    problem = text_problem(text)
    if problem:
        raise ValidationFailed(f"The {name} holds characters that cannot be stored.",
                               errors=[field_error(["body", name], problem)])
    return text


def _feedback(session: Session, reference: str, *, for_update: bool = False) -> Submission:
    if not is_id(reference):
        raise NotFound("No policy feedback with this reference.")
    q = select(Submission).where(col(Submission.reference) == reference, col(Submission.kind) == FEEDBACK)
    if for_update:
        q = q.with_for_update()
    sub: Submission | None = session.execute(q).scalar_one_or_none()
    if sub is None:
        raise NotFound("No policy feedback with this reference.")
    return sub


def list_feedback(db: Database, *, policy_id: str | None, state: str | None, limit: int,
                  offset: int) -> tuple[list[Submission], int]:
    """Policy feedback, newest day first, filtered by policy and triage state: the page and the total,
    two statements whatever the page size."""
    where = [col(Submission.kind) == FEEDBACK]
    if policy_id:
        where.append(col(Submission.policy_id) == policy_id)
    if state:
        where.append(func.coalesce(col(Submission.triage_state), rules.TriageState.received.value) == state)
    q = (select(Submission).where(*where).order_by(col(Submission.received_on).desc(), col(Submission.reference))
         .limit(limit).offset(offset))
    count = select(func.count()).select_from(Submission).where(*where)
    with db.read() as s:
        return list(s.execute(q).scalars()), int(s.execute(count).scalar_one())


def _detail(session: Session, sub: Submission) -> FeedbackDetail:
    messages = list(session.execute(
        select(Message).where(col(Message.submission_id) == sub.id).order_by(col(Message.seq))).scalars())
    events = list(session.execute(
        select(FeedbackTriageEvent).where(col(FeedbackTriageEvent.submission_id) == sub.id)
        .order_by(col(FeedbackTriageEvent.seq))).scalars())
    return FeedbackDetail(submission=sub, messages=messages, events=events)


def feedback_detail(db: Database, *, reference: str) -> FeedbackDetail:
    """One piece of feedback, its messages and its triage history: three statements."""
    with db.read() as s:
        return _detail(s, _feedback(s, reference))


def _move(session: Session, sub: Submission, *, action: rules.TriageAction, actor: str, now: datetime,
          note: str | None) -> None:
    before = state_of(sub)
    after = rules.next_state(before, action)
    seq = int(session.execute(select(func.coalesce(func.max(col(FeedbackTriageEvent.seq)), 0))
                              .where(col(FeedbackTriageEvent.submission_id) == sub.id)).scalar_one()) + 1
    session.add(FeedbackTriageEvent(submission_id=sub.id, seq=seq, action=action.value, from_state=before,
                                    to_state=after.value, actor=actor[:200], at=now, note=note))
    sub.triage_state = after.value
    sub.status = rules.public_status(after).value
    sub.updated_on = max(sub.updated_on, now.date())
    session.add(sub)


def transition(db: Database, *, reference: str, action: str, actor: str, now: datetime,
               note: str | None = None, outcome: str | None = None) -> FeedbackDetail:
    """``consider``, ``close`` or ``reopen`` (``answer`` is ``reply``). ``note`` stays with staff;
    ``outcome`` (on close) is shown to the resident on the status page."""
    try:
        act = rules.TriageAction(action)
    except ValueError:
        raise ValidationFailed("Unknown action.", errors=[field_error(["body", "action"], "unknown action")]) from None
    if act is rules.TriageAction.answer:
        raise ValidationFailed("An answer is a reply to the resident: POST .../replies with its text.",
                               errors=[field_error(["body", "action"], "use the replies endpoint to answer")])
    clean_note = _bounded("note", note, rules.MAX_NOTE)
    clean_outcome = _bounded("outcome", outcome, rules.MAX_NOTE)
    if clean_outcome and act is not rules.TriageAction.close:
        raise ValidationFailed("An outcome is given when closing.",
                               errors=[field_error(["body", "outcome"], "only with action=close")])
    with db.write() as s:
        sub = _feedback(s, reference, for_update=True)
        _move(s, sub, action=act, actor=actor, now=now, note=clean_note)
        if act is rules.TriageAction.close:
            sub.outcome_summary = clean_outcome
        elif act is rules.TriageAction.reopen:
            sub.outcome_summary = None
        s.flush()
        return _detail(s, sub)


def reply(db: Database, *, reference: str, body: str, actor: str, now: datetime,
          note: str | None = None) -> FeedbackDetail:
    """Answer the resident through their receipt: a ``city`` message (dated by day, as every message
    the resident sees) and the ``answer`` step. Refused (409) once the feedback is closed."""
    text = _bounded("body", body, rules.MAX_REPLY, required=True)
    assert text is not None
    clean_note = _bounded("note", note, rules.MAX_NOTE)
    with db.write() as s:
        sub = _feedback(s, reference, for_update=True)
        _move(s, sub, action=rules.TriageAction.answer, actor=actor, now=now, note=clean_note)
        s.add(Message(submission_id=sub.id, seq=next_seq(s, sub.id), sender="city", body=text, sent_on=now.date()))
        s.flush()
        return _detail(s, sub)


# --- what policy_api reads (service token) --------------------------------------------------------


def feedback_ref(db: Database, *, reference: str) -> Submission:
    with db.read() as s:
        return _feedback(s, reference)


def counts(db: Database) -> list[StateCount]:
    """Policy feedback received, by policy and triage state: one grouped statement."""
    state = func.coalesce(col(Submission.triage_state), rules.TriageState.received.value)
    q = (select(col(Submission.policy_id), state, func.count()).where(col(Submission.kind) == FEEDBACK)
         .group_by(col(Submission.policy_id), state).order_by(col(Submission.policy_id), state))
    with db.read() as s:
        return [StateCount(policy_id=p, state=str(st), count=int(n)) for p, st, n in s.execute(q).all()]
