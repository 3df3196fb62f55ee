"""The draft check for PIOs (R-24-89 §1.A.2-§1.A.4, issue 18 item 5): staff only, stores nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse

from services.case_api import clients
from services.case_api.deps import PeersDep
from services.case_api.domain import access, drafts
from services.case_api.domain.risk import default_scorer
from services.case_api.schemas_monitoring import DraftCheckIn, DraftCheckOut, DraftProblem
from shared.auth import Principal, Role
from shared.web import problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])

Staff = Annotated[Principal, Depends(require_roles(Role.monitor, *access.STAFF))]


@router.post("/check", response_model=DraftCheckOut, operation_id="drafts_check",
             summary="Check a draft post or reply against the policy in force before posting (nothing is stored)",
             description="Returns each problem found, the section of the policy it would break (quoted from "
                         "policy_api's policy in force, or R-24-89's wording when policy_api does not answer: "
                         "see `policy_source`) and the response guideline to follow instead.",
             responses=problem_responses(401, 403, 422))
def check(body: DraftCheckIn, peers: PeersDep, principal: Staff) -> JSONResponse:
    quotes = clients.policy_quotes(peers)  # a peer read, cached briefly; no database is touched
    result = drafts.check_draft(text=body.text, replying_to=body.replying_to, quotes=quotes,
                                scorer=default_scorer(), lang=body.lang or "en")
    out = DraftCheckOut(ok=result.ok, score=result.score,
                        problems=[DraftProblem.model_validate(p, from_attributes=True) for p in result.problems],
                        policy_source=result.policy_source,
                        policy_version=result.policy_version, scorer=result.scorer)
    # a draft may carry what a resident wrote: never cached by any proxy or browser
    return JSONResponse(out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
