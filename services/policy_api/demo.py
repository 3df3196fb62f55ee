"""Demo data for ``civicsocial dev``: loaded over HTTP with dev tokens, only into an empty service.

- a dozen official accounts across departments, with PIOs and some staff posting privileges;
- AI 1-19 (Social Media Policy, 2022) as a published Administrative Instruction (a summary written
  for this demo, not the instruction's text);
- the City's social media policy under R-24-89: two published interim versions (so the Transparency
  page shows a history and a diff) and the full new policy as a draft covering all eight elements.

The policy text is written for this demo from the resolution's requirements; it is not City text.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.devkit import DemoContext

EDITOR = "emp-2001"
APPROVER = "emp-2002"
RECORDS = "emp-2003"

ACCOUNTS: list[dict[str, Any]] = [
    {"platform": "facebook", "handle": "cityofalbuquerque", "department": "Mayor's Office",
     "purpose": "City news, emergency information and the Mayor's announcements.",
     "pio_name": "Maria Sandoval", "pio_title": "Director of Communications", "holders": ["emp-1001", "emp-1002"]},
    {"platform": "x", "handle": "@cabq", "department": "Mayor's Office",
     "purpose": "City news and service alerts.", "pio_name": "Maria Sandoval",
     "pio_title": "Director of Communications", "holders": ["emp-1001"]},
    {"platform": "facebook", "handle": "AlbuquerquePolice", "department": "Police",
     "purpose": "Public safety updates, community events and recruiting.", "pio_name": "Daniel Ortega",
     "pio_title": "Public Information Officer", "holders": ["emp-1101", "emp-1102"]},
    {"platform": "instagram", "handle": "@abqfirerescue", "department": "Fire",
     "purpose": "Fire and rescue news, safety tips and station events.", "pio_name": "Lauren Chavez",
     "pio_title": "Public Information Officer", "holders": ["emp-1201"]},
    {"platform": "facebook", "handle": "ABQRide", "department": "Transit",
     "purpose": "Route changes, service alerts and rider information.", "pio_name": "Kevin Romero",
     "pio_title": "Marketing and Communications Manager", "holders": ["emp-1301", "emp-1302"]},
    {"platform": "instagram", "handle": "@cabqparks", "department": "Parks and Recreation",
     "purpose": "Parks, pools, programs and closures.", "pio_name": "Ana Lucero",
     "pio_title": "Community Outreach Coordinator", "holders": ["emp-1401"]},
    {"platform": "facebook", "handle": "ABQAnimalWelfare", "department": "Animal Welfare",
     "purpose": "Adoptable pets, clinics and shelter news.", "pio_name": "Rebecca Baca",
     "pio_title": "Public Information Officer", "holders": ["emp-1501", "emp-1502"]},
    {"platform": "x", "handle": "@ABQSolidWaste", "department": "Solid Waste",
     "purpose": "Collection schedules, holiday changes and recycling information.", "pio_name": "Tomás Griego",
     "pio_title": "Communications Coordinator", "holders": ["emp-1601"]},
    {"platform": "facebook", "handle": "abqlibrary", "department": "Libraries",
     "purpose": "Library events, programs and branch hours.", "pio_name": "Elena Martinez",
     "pio_title": "Marketing Manager", "holders": ["emp-1701"]},
    {"platform": "facebook", "handle": "ABQSeniorAffairs", "department": "Senior Affairs",
     "purpose": "Programs, meals and services for older adults.", "pio_name": "Gloria Trujillo",
     "pio_title": "Public Information Officer", "holders": ["emp-1801"]},
    {"platform": "instagram", "handle": "@abqartsculture", "department": "Arts & Culture",
     "purpose": "Museums, BioPark, KiMo Theatre and public art.", "pio_name": "Samuel Archuleta",
     "pio_title": "Marketing and Communications Manager", "holders": ["emp-1901"]},
    {"platform": "youtube", "handle": "@GOV16ABQ", "department": "Mayor's Office",
     "purpose": "GOV-TV 16: City Council meetings and public programming.", "pio_name": "Maria Sandoval",
     "pio_title": "Director of Communications", "holders": []},
    {"platform": "nextdoor", "handle": "City of Albuquerque", "department": "Mayor's Office",
     "purpose": "Neighborhood notices and public meeting announcements.", "pio_name": "Maria Sandoval",
     "pio_title": "Director of Communications", "holders": ["emp-1002"], "status": "suspended"},
]

_PROFILE = {
    "facebook": "https://www.facebook.com/{h}", "instagram": "https://www.instagram.com/{h}/",
    "x": "https://x.com/{h}", "youtube": "https://www.youtube.com/{h}", "nextdoor": "https://nextdoor.com/agency/{h}/",
}


def _profile_url(platform: str, handle: str) -> str:
    h = handle.lstrip("@") if platform != "youtube" else handle
    return _PROFILE[platform].format(h=h.replace(" ", "-").lower())


# --- the new policy: the full draft (all eight R-24-89 elements) ---------------------------------

NEW_POLICY_DRAFT: list[dict[str, Any]] = [
    {"key": "purpose-and-scope", "heading": "Purpose and scope", "elements": [], "body_markdown": """\
The City of Albuquerque uses social media to inform residents quickly, to invite them into public
decisions and to hear from them. Every official City account speaks for the City, and residents are
entitled to expect from it the same accuracy, fairness and courtesy they would expect at a City
counter.

This policy implements City Council Resolution R-24-89. It applies to:

- every **official City account** listed in the City's registry of official accounts, on any platform;
- every City employee, contractor or volunteer who holds **posting privileges** on such an account;
- the **public information officer (PIO)** responsible for each account and the department director
  to whom that PIO reports.

Personal accounts of employees are outside this policy except where an employee presents a personal
account as speaking for the City. Administrative Instruction 1-19 continues to apply alongside this
policy; where the two differ, the stricter requirement applies."""},
    {"key": "behavioral-expectations", "heading": "Behavioral expectations",
     "elements": ["behavioral_expectations"], "body_markdown": """\
Staff who post on an official account act as representatives of the City at all times. They shall:

1. be **respectful, courteous and professional** in every post, reply and direct message, including
   when a resident is angry, rude or wrong;
2. be **accurate**: verify facts before posting, cite the City source where one exists, and correct
   errors promptly and visibly (see *Restorative actions*);
3. remain **politically neutral**: no endorsement of candidates, parties or ballot positions, and no
   commentary on matters before Council beyond the City's adopted position;
4. keep **personal opinions** off official accounts and never use an official account to pursue a
   personal interest or dispute;
5. protect **privacy**: never post personal information about residents, employees or people in City
   custody, and move any conversation that needs such information to a private, official channel;
6. follow the City's **records retention**, **accessibility** (plain language, alternative text, captions)
   and **language access** requirements.

Staff who are unsure whether a post meets these expectations shall ask their PIO before posting."""},
    {"key": "content-specifications", "heading": "Content specifications",
     "elements": ["content_specifications"], "body_markdown": """\
Official accounts publish content that serves a City purpose: service information, public safety and
emergency notices, public meetings and opportunities to comment, programs and events, and the
decisions and achievements of City departments.

Official accounts shall **not** publish:

- content that is false or misleading, or that presents opinion as fact;
- partisan political content or content supporting or opposing a candidate or ballot measure;
- advertising or endorsement of private businesses, products or services, except City partners
  acknowledged under an approved agreement;
- content that discriminates against or demeans any person or group on the basis of a protected
  characteristic;
- confidential, privileged or personal information, or information about an open investigation
  beyond what the responsible department has released;
- material that infringes copyright or that the City has no right to use.

Images and video need alternative text or captions. Posts on emergencies follow the Office of
Emergency Management's approved messages. Each department keeps a content calendar reviewed by its PIO."""},
    {"key": "prohibition-on-personal-attacks", "heading": "Prohibition on personal attacks",
     "elements": ["prohibition_on_personal_attacks"], "body_markdown": """\
An official City account shall **never** be used to attack, insult, mock, threaten or demean any
person, whether a resident, a public figure, a member of the media, an elected official or a City
employee. This prohibition covers posts, replies, quote-posts, reactions, direct messages and images.

In particular, official accounts shall not:

- comment on a person's character, motives, appearance, intelligence, identity or private life;
- use sarcasm, ridicule or name-calling, or share content that does;
- single out an individual who has criticized the City for public rebuke;
- argue with members of the public or attempt to "win" an exchange.

Criticism of the City is protected speech. The City responds to the substance of criticism, with
facts, or not at all."""},
    {"key": "response-guidelines", "heading": "Response guidelines", "elements": ["response_guidelines"],
     "body_markdown": """\
Official accounts respond to residents in a way that is **timely, factual and helpful**:

- Questions about City services are answered, or routed to 311 or the responsible department, within
  **two business days**.
- Replies stick to facts, link to an authoritative City source where one exists and avoid jargon.
- When a resident disagrees, staff may state the City's position and the facts **once**, and then
  offer a way to continue the conversation privately (311, email, a public meeting). Staff do not
  continue a back-and-forth in public.
- Comments are never deleted or hidden because they are critical. Comments may be hidden only under
  the City's published comment guidelines (for example threats, obscenity, spam or personal
  information), and each such action is logged with its reason.
- Users are not blocked except as the comment guidelines allow and with the PIO's approval; the block
  is logged and reviewed quarterly.
- Any exchange that escalates, or that concerns a possible violation of this policy, is referred to
  the PIO before any further reply."""},
    {"key": "monitoring-and-review", "heading": "Monitoring and review", "elements": ["monitoring_and_review"],
     "body_markdown": """\
Each PIO monitors the accounts they are responsible for and reviews a sample of each account's
posts and replies **at least monthly** against this policy, recording the review in the City's case
management system.

Residents may report a possible violation at any time through the feedback and reporting form on the
City's Transparency page, without giving their name. Every report receives a reference and a receipt
code with which the reporter can follow its progress.

Reports and findings of monthly reviews are triaged within **three business days** and investigated
by staff independent of the account concerned. The City publishes, on the Transparency page,
aggregate statistics about reports, findings and monitoring coverage, suppressing small numbers that
could identify individuals."""},
    {"key": "disciplinary-actions", "heading": "Disciplinary actions", "elements": ["disciplinary_actions"],
     "body_markdown": """\
A violation of this policy may lead to disciplinary action in accordance with the City's Personnel
Rules and Regulations and any applicable collective bargaining agreement. Action is proportionate to
the seriousness of the violation, its impact on the people affected and on public trust, and any
previous violations. It follows a progressive ladder:

1. documented coaching by the supervisor and PIO;
2. written reprimand;
3. suspension or removal of posting privileges on one or more official accounts;
4. suspension without pay, demotion or dismissal, for serious or repeated violations.

A serious violation, such as a threat, the disclosure of confidential information or a deliberate
personal attack, may begin at any step. Employees have the rights of notice and response that the
Personnel Rules provide."""},
    {"key": "restorative-actions", "heading": "Restorative actions", "elements": ["restorative_actions"],
     "body_markdown": """\
Beyond discipline, the City repairs the harm a violation causes. Depending on the case, restorative
actions include:

- a **public correction** or clarification on the same account, as visible as the original post;
- a **public or private apology** to the person affected, approved by the PIO;
- removal of the offending content, **preserving a copy** as a public record;
- **training** for the employee on this policy, de-escalation or accessible communication;
- a **temporary revocation of posting privileges**, restored only after the training is completed;
- a review of the account's practices by the PIO, with changes reported to the department director.

Each restorative action has an owner and a due date, and its completion is recorded. The share of
restorative actions completed on time is published on the Transparency page."""},
    {"key": "policy-review", "heading": "Policy review", "elements": ["policy_review"], "body_markdown": """\
This policy is reviewed **at least every twelve months** from its publication or its last review,
whichever is later, by the Office of the Mayor's communications team together with the City
Attorney's Office and Human Resources. The review considers the reports received, the findings of
monitoring, changes in platforms and law, and feedback received through the Transparency page.

Each review is recorded with its outcome (the policy is **reaffirmed** or a **revision is started**).
The date of the next review is shown on the Transparency page, and a review that is overdue is shown
there plainly. Revisions are published with a summary of what changed and a comparison with the
previous version."""},
]

# --- the interim versions already published (shorter; the draft above replaces them) -------------

INTERIM_V1: list[dict[str, Any]] = [
    {"key": "purpose-and-scope", "heading": "Purpose and scope", "elements": [], "body_markdown": """\
These interim standards apply to every official City social media account and to every employee
who posts on one, until the City adopts its full social media policy under Resolution R-24-89."""},
    {"key": "behavioral-expectations", "heading": "Behavioral expectations",
     "elements": ["behavioral_expectations"], "body_markdown": """\
Staff posting on official accounts are courteous, accurate and politically neutral, and keep
personal opinions off official accounts."""},
    {"key": "content-specifications", "heading": "Content specifications",
     "elements": ["content_specifications"], "body_markdown": """\
Official accounts publish City service information, public safety notices, public meetings and
events. They do not publish partisan content, advertising or personal information."""},
    {"key": "prohibition-on-personal-attacks", "heading": "Prohibition on personal attacks",
     "elements": ["prohibition_on_personal_attacks"], "body_markdown": """\
Official accounts never attack, insult or demean any person."""},
    {"key": "response-guidelines", "heading": "Response guidelines", "elements": ["response_guidelines"],
     "body_markdown": """\
Staff answer questions about City services within three business days, stick to facts and do not
argue with members of the public."""},
    {"key": "monitoring-and-review", "heading": "Monitoring and review", "elements": ["monitoring_and_review"],
     "body_markdown": """\
PIOs review their accounts' activity each quarter. Residents may report concerns through 311."""},
    {"key": "disciplinary-actions", "heading": "Disciplinary actions", "elements": ["disciplinary_actions"],
     "body_markdown": """\
Violations are handled under the City's Personnel Rules and Regulations."""},
    {"key": "restorative-actions", "heading": "Restorative actions", "elements": ["restorative_actions"],
     "body_markdown": """\
Errors are corrected publicly on the same account."""},
    {"key": "policy-review", "heading": "Policy review", "elements": ["policy_review"], "body_markdown": """\
These interim standards are reviewed within twelve months."""},
]


def _interim_v2() -> list[dict[str, Any]]:
    v2 = [dict(s) for s in INTERIM_V1]
    by_key = {s["key"]: s for s in v2}
    by_key["response-guidelines"]["body_markdown"] = """\
Staff answer questions about City services within two business days, stick to facts and do not
argue with members of the public. Critical comments are not deleted or hidden because they are
critical."""
    by_key["monitoring-and-review"]["body_markdown"] = """\
PIOs review their accounts' activity each month. Residents may report concerns through 311 or the
feedback form on the City's Transparency page, without giving their name."""
    by_key["restorative-actions"]["body_markdown"] = """\
Errors are corrected publicly on the same account. Where a post harmed a person, the PIO may
arrange an apology, training for the employee, or a temporary revocation of posting privileges."""
    return v2


# --- AI 1-19 (summary) ------------------------------------------------------------------------------

AI_1_19: list[dict[str, Any]] = [
    {"key": "about-this-summary", "heading": "About this summary", "elements": [], "body_markdown": """\
This page summarises Administrative Instruction 1-19, *Social Media Policy* (2022), for the public.
It is a plain-language summary prepared for the Transparency page, not the text of the instruction;
the signed instruction held by the Office of the City Clerk is authoritative."""},
    {"key": "purpose", "heading": "Purpose", "elements": [], "body_markdown": """\
The instruction sets out how City departments establish, manage and use social media accounts to
communicate with the public, and how employees conduct themselves when they speak for the City
online."""},
    {"key": "establishing-accounts", "heading": "Establishing official accounts", "elements": [],
     "body_markdown": """\
Departments open official accounts only with the approval of the Office of the Mayor's
communications team. Each account has a designated administrator and a public information officer,
uses City-controlled credentials, and is identified clearly as an official City account."""},
    {"key": "conduct-and-content", "heading": "Conduct and content", "elements": [], "body_markdown": """\
Employees posting for the City are professional and accurate, avoid political activity and personal
opinions, protect confidential and personal information, and follow the City's brand, accessibility
and records retention requirements."""},
    {"key": "public-comments", "heading": "Public comments", "elements": [], "body_markdown": """\
Official accounts that allow comments post the City's comment guidelines. Comments are moderated
only under those guidelines, consistently and without regard to the viewpoint expressed."""},
    {"key": "records-and-security", "heading": "Records and security", "elements": [], "body_markdown": """\
Content posted on official accounts is a public record and is retained under the City's retention
schedules. Account credentials are managed by the department and changed when an administrator
leaves."""},
    {"key": "compliance", "heading": "Compliance", "elements": [], "body_markdown": """\
Violations of the instruction may result in the removal of posting privileges and in disciplinary
action under the City's Personnel Rules and Regulations."""},
]


def _check(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code >= 400:
        raise RuntimeError(f"policy_api demo: {resp.request.method} {resp.request.url} -> {resp.status_code}: "
                           f"{resp.text[:500]}")
    body: dict[str, Any] = resp.json() if resp.content else {}
    return body


def _publish(editor: httpx.Client, approver: httpx.Client, policy_id: str, version_id: str,
             effective_date: str) -> None:
    """These versions were published before the system existed: they are imported with their real
    publication date (the review clock runs from it, so AI 1-19 of 2022 shows as overdue)."""
    base = f"/v1/policies/{policy_id}/versions/{version_id}"
    _check(editor.post(base + "/submit"))
    elements = approver.get("/v1/elements")
    _check(elements)
    keys = [e["key"] for e in elements.json()]  # the approver attests each element
    _check(approver.post(base + "/approve", json={"attested_elements": keys}))
    _check(approver.post(base + "/publish", json={"effective_date": effective_date, "published_on": effective_date}))


def load(ctx: DemoContext) -> None:
    editor = ctx.client("policy_api", roles=["policy_editor"], subject=EDITOR)
    approver = ctx.client("policy_api", roles=["policy_approver"], subject=APPROVER)
    records = ctx.client("policy_api", roles=["records_manager"], subject=RECORDS)
    try:
        existing = _check(editor.get("/v1/policies", params={"include_unpublished": True, "limit": 1}))
        accounts = _check(records.get("/v1/accounts", params={"limit": 1}))
        if existing["total"] or accounts["total"]:
            return

        for item in ACCOUNTS:
            body = {k: v for k, v in item.items() if k not in ("holders", "status")}
            body["profile_url"] = _profile_url(item["platform"], item["handle"])
            account = _check(records.post("/v1/accounts", json=body))
            for employee in item["holders"]:
                _check(records.post(f"/v1/accounts/{account['id']}/privileges/grant",
                                    json={"employee_id": employee, "reason": "Designated account administrator"}))
            if item.get("status", "active") != "active":  # suspended after its privileges were granted
                _check(records.patch(f"/v1/accounts/{account['id']}", json={"status": item["status"]}))
        # One privilege history with a revocation, as after a restorative action.
        police = _check(records.get("/v1/accounts", params={"department": "Police", "limit": 1}))["items"][0]
        _check(records.post(f"/v1/accounts/{police['id']}/privileges/revoke",
                            json={"employee_id": "emp-1102", "reason": "Temporary revocation pending training"}))

        ai = _check(editor.post("/v1/policies", json={
            "kind": "administrative_instruction", "identifier": "AI 1-19", "title": "Social Media Policy",
            "department": "Office of the Chief Administrative Officer", "binds_account_holders": True,
        }))
        draft = _check(editor.post(f"/v1/policies/{ai['id']}/versions", json={
            "label": "2022", "change_summary": "Instruction issued in 2022 (summary published for R-24-89 §1.B).",
            "sections": AI_1_19,
        }))
        _publish(editor, approver, ai["id"], draft["id"], "2022-07-01")

        smp = _check(editor.post("/v1/policies", json={
            "kind": "social_media_policy", "identifier": "SMP-1", "department": "Office of the Mayor",
            "title": "Social Media Policy for Official City Accounts",
        }))
        v1 = _check(editor.post(f"/v1/policies/{smp['id']}/versions", json={
            "label": "2024.1", "change_summary": "Interim standards adopted after Resolution R-24-89.",
            "sections": INTERIM_V1,
        }))
        _publish(editor, approver, smp["id"], v1["id"], "2024-09-01")
        v2 = _check(editor.post(f"/v1/policies/{smp['id']}/versions", json={
            "label": "2025.1", "sections": _interim_v2(),
            "change_summary": "Faster responses, monthly monitoring, anonymous reporting, restorative actions.",
        }))
        _publish(editor, approver, smp["id"], v2["id"], "2025-03-01")
        _check(editor.post(f"/v1/policies/{smp['id']}/versions", json={
            "label": "2026.1 (draft)", "sections": NEW_POLICY_DRAFT,
            "change_summary": "The full policy required by R-24-89, replacing the interim standards.",
        }))
        for employee in ("emp-1001", "emp-1101", "emp-1201"):
            acker = ctx.client("policy_api", roles=["pio"], subject=employee)
            try:
                _check(acker.post(f"/v1/policies/{smp['id']}/versions/{v2['id']}/acknowledgements"))
            finally:
                acker.close()
    finally:
        for c in (editor, approver, records):
            c.close()
