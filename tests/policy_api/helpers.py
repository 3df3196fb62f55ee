"""Building policies over HTTP in tests."""

from __future__ import annotations

ELEMENT_KEYS = [
    "behavioral_expectations", "content_specifications", "prohibition_on_personal_attacks", "response_guidelines",
    "monitoring_and_review", "disciplinary_actions", "restorative_actions", "policy_review",
]

#: The approval body attesting every element (issue 20: the approver attests each one).
ATTEST = {"attested_elements": ELEMENT_KEYS}


def full_sections(extra: str = "") -> list[dict]:
    return [
        {"heading": key.replace("_", " ").title(), "body_markdown": f"Text about {key}.{extra}", "elements": [key]}
        for key in ELEMENT_KEYS
    ]


async def create_policy(api, token, *, kind="social_media_policy", identifier="SMP-1", editor="emp-editor",
                        **extra) -> dict:
    body = {"kind": kind, "identifier": identifier, "title": "Social Media Policy",
            "department": "Office of the Mayor", **extra}
    r = await api.post("/v1/policies", json=body, headers=token("policy_editor", subject=editor))
    assert r.status_code == 201, r.text
    return r.json()


async def create_draft(api, token, policy_id, *, sections=None, editor="emp-editor", **extra) -> dict:
    body = {"change_summary": "First version", **extra}
    if sections is not None:
        body["sections"] = sections
    r = await api.post(f"/v1/policies/{policy_id}/versions", json=body,
                       headers=token("policy_editor", subject=editor))
    assert r.status_code == 201, r.text
    return r.json()


async def publish(api, token, policy_id, version_id, *, editor="emp-editor", approver="emp-approver",
                  effective_date=None, published_on=None) -> dict:
    base = f"/v1/policies/{policy_id}/versions/{version_id}"
    r = await api.post(base + "/submit", headers=token("policy_editor", subject=editor))
    assert r.status_code == 200, r.text
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject=approver))
    assert r.status_code == 200, r.text
    body = {k: v for k, v in (("effective_date", effective_date), ("published_on", published_on)) if v} or None
    r = await api.post(base + "/publish", json=body, headers=token("policy_approver", subject=approver))
    assert r.status_code == 200, r.text
    return r.json()


async def published_policy(api, token, **kw) -> tuple[dict, dict]:
    policy = await create_policy(api, token, **kw)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    version = await publish(api, token, policy["id"], draft["id"])
    return policy, version
