"""Who may file right now: intake stays open under abuse (issue 21 item 1).

There is **no shared budget**: a few dozen addresses used to fill an overall 120/minute limit and
lock every resident out. What is left is per client (keyed hashes, ``shared.ratelimit``):

- ``submit``: accepted submissions only. It is *checked* before the work and *counted* after a
  submission is stored, so honeypot and invalid submissions consume nobody's budget.
- ``submit_rejected``: honeypot and invalid (413/415/422) submissions, on their own per-client
  budget. Once it is used up, a honeypot submission is answered 429 instead of a decoy, so a bot
  cannot drain the receipt pool or burn argon2id time. Real submissions never look at it.
- **Proof of work** when the load looks abnormal (more than ``pow_trigger_clients_per_minute``
  distinct clients filing in the last minute, in this process) or when a client has used up its
  own ``submit`` budget (a City Hall or library address shared by many residents): the API answers
  428 with a signed challenge, the widget solves it (about a second) and sends the report again
  with ``Proof-Of-Work: <challenge>:<nonce>``; that counts on the larger ``submit_pow`` budget.
- **Without JavaScript** (``/report``) the form carries the same signed token in a hidden field; a
  resident is admitted on the slower ``submit_slow`` allowance when the token is at least
  ``nojs_min_form_seconds`` old (a person takes longer than that to fill in the form), once per token.

A submission is counted once it is known to be valid and just before it is stored: the use-case
calls ``claim``, an atomic hit on the limiter that refuses past the budget, so concurrent
submissions from one client cannot all pass (checking first and counting after the store let 24
concurrent reports through a 10/minute budget, found by the rate-limit drill). Counting before
validation is what let rejected submissions eat budgets, so it is not done either.

The distinct-client count lives in process memory (hashed keys, the last minute only): with several
instances each judges its own share of the load, which is what it has to bear.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from services.feedback_api.domain.pow import Challenges
from services.feedback_api.domain.submissions import Created
from shared.errors import DomainError, TooManyRequests
from shared.ratelimit import RateLimiter

PROOF_HEADER = "Proof-Of-Work"
REJECTED_STATUSES = frozenset({413, 415, 422})


class ProofOfWorkRequired(DomainError):
    status, slug, title = 428, "proof-of-work-required", "Proof of work required"


class LoadMonitor:
    """Distinct (hashed) clients that tried to file in the last ``window`` seconds."""

    def __init__(self, threshold: int, *, window: float = 60.0, max_tracked: int = 100_000) -> None:
        self.threshold = threshold
        self.window = window
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_tracked

    def _prune(self, now: float) -> None:
        while self._seen:
            _, at = next(iter(self._seen.items()))
            if at > now - self.window and len(self._seen) <= self._max:
                break
            self._seen.popitem(last=False)

    def see(self, client: str, now: float | None = None) -> None:
        current = time.monotonic() if now is None else now
        with self._lock:
            self._seen[client] = current
            self._seen.move_to_end(client)
            self._prune(current)

    def distinct(self, now: float | None = None) -> int:
        with self._lock:
            self._prune(time.monotonic() if now is None else now)
            return len(self._seen)

    def abnormal(self, now: float | None = None) -> bool:
        return self.distinct(now) > self.threshold


@dataclass(frozen=True)
class Admission:
    rule: str  # the budget an accepted submission is counted on: submit, submit_pow or submit_slow
    why: str | None = None  # why the plain budget was not enough: load, budget


class IntakeGuard:
    def __init__(self, limiter: RateLimiter, challenges: Challenges, load: LoadMonitor) -> None:
        self.limiter = limiter
        self.challenges = challenges
        self.load = load

    def _within(self, rule: str, request: Request) -> bool:
        try:
            self.limiter.check(rule, request)
        except TooManyRequests:
            return False
        return True

    def admit(self, request: Request, *, proof: str | None = None, form_token: str | None = None) -> Admission:
        """Decide before any work is done. Raises ``ProofOfWorkRequired`` (428, with a fresh
        ``challenge`` and its ``bits``) or ``TooManyRequests`` (429)."""
        self.load.see(self.limiter.client_key(request))
        why = "load" if self.load.abnormal() else None
        if not self._within("submit", request):
            why = "budget"
        if why is None:
            return Admission("submit")
        if self.challenges.verify_work(proof):
            self.limiter.check("submit_pow", request)
            return Admission("submit_pow", why)
        if form_token is not None and self.challenges.spend_slow_token(form_token):
            self.limiter.check("submit_slow", request)
            return Admission("submit_slow", why)
        challenge = self.challenges.issue()
        raise ProofOfWorkRequired(
            "Many reports are arriving right now. Your browser needs to do a short calculation before this "
            "report can be sent; the form does it for you. Without JavaScript, wait a few seconds and send "
            "the form again.",
            challenge=challenge.text, bits=challenge.bits,
        )

    def _count(self, rule: str, request: Request) -> None:
        try:
            self.limiter.hit(rule, request)
        except TooManyRequests:
            pass  # already stored (or already answered): counting past the limit is enough

    def claim(self, request: Request, admission: Admission) -> None:
        """Count an accepted submission on its budget, atomically (the limiter's hit refuses
        past the limit): concurrent requests from one client cannot all pass a check made before
        any of them was counted."""
        self.limiter.hit(admission.rule, request)

    def rejected(self, request: Request) -> None:
        self._count("submit_rejected", request)

    def decoy_allowed(self, request: Request) -> bool:
        return self._within("submit_rejected", request)


@dataclass
class SubmissionGate:
    """One submission's admission, bound to its request: ``run`` calls the use-case and counts the
    outcome on the right budget."""

    guard: IntakeGuard
    request: Request
    admission: Admission

    def decoy_allowed(self) -> bool:
        return self.guard.decoy_allowed(self.request)

    def run(self, use_case: Callable[[Callable[[], None]], Created]) -> Created:
        """``use_case(claim)``: the use-case calls ``claim`` once the submission is valid and before
        it stores it, so only accepted submissions are counted, and atomically."""
        try:
            created = use_case(lambda: self.guard.claim(self.request, self.admission))
        except DomainError as exc:
            if exc.status in REJECTED_STATUSES:
                self.guard.rejected(self.request)
            raise
        if created.decoy:
            self.guard.rejected(self.request)
        return created


def guard_of(request: Request) -> IntakeGuard:
    guard: IntakeGuard = request.app.state.guard
    return guard


def submission_gate(request: Request) -> SubmissionGate:
    """Route dependency (sync: the limiter may talk to Redis) for the JSON API's submissions."""
    guard = guard_of(request)
    return SubmissionGate(guard, request, guard.admit(request, proof=request.headers.get(PROOF_HEADER)))
