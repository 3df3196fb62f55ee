"""A message to a reporter from the console goes to one report: on a case that several residents
reported, the form asks which one (the API refuses a message without it, 422), and the message is
stored against the report chosen (real case_api, feedback_api and policy_api on loopback)."""

from __future__ import annotations

import html
import re

import httpx

from tests.case_api.helpers import forward, idem
from tests.staff_console.conftest import ConsoleUser


def test_message_form_on_a_case_with_several_reports_names_one_report(console_stack, token):
    svc = token("service:feedback_api", subject="service:feedback_api")
    reports = [forward(incident_key="console-two-reporters", description=f"Resident {n} saw the reply.")
               for n in (1, 2)]
    with httpx.Client(base_url=console_stack.case.url, timeout=15) as c:
        ids = {c.post("/v1/intake/reports", json=b, headers={**svc, **idem(b["report_id"])}).json()["case_id"]
               for b in reports}
    assert len(ids) == 1
    case_id = ids.pop()
    user = ConsoleUser(console_stack.console.url)
    assert user.sign_in("intake", "Police", "intake-1").status_code == 200
    page = html.unescape(user.http.get(f"/cases/{case_id}").text)
    select = re.search(r'<select id="message-report_id" name="report_id"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no report selector on a case with two reports"
    offered = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert offered == ["", *(b["report_id"] for b in reports)]

    # not chosen: the API's 422 comes back as an error on the selector, nothing is sent
    refused = html.unescape(user.post(f"/cases/{case_id}/messages", {"body": "Thank you for telling us."},
                                      page=f"/cases/{case_id}").text)
    assert 'aria-invalid="true"' in refused.split('id="message-report_id"', 1)[1].split(">", 1)[0]
    assert "Thank you for telling us." in refused  # the text typed is kept

    chosen = reports[1]["report_id"]
    done = user.post(f"/cases/{case_id}/messages", {"body": "We are looking into it.", "report_id": chosen},
                     page=f"/cases/{case_id}")
    assert "The message is on its way to the reporter." in html.unescape(done.text)
    with httpx.Client(base_url=console_stack.case.url, timeout=15) as c:
        sent = c.get(f"/v1/cases/{case_id}/messages", headers=token("investigator", subject="inv-1")).json()
    outbound = [m for m in sent if m["body"] == "We are looking into it."]
    assert len(outbound) == 1 and outbound[0].get("report_id") == chosen, sent


def test_a_case_with_one_report_has_no_selector(console_stack, token):
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward(incident_key="console-one-reporter", description="One resident saw it.")
    with httpx.Client(base_url=console_stack.case.url, timeout=15) as c:
        case_id = c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])}).json()["case_id"]
    user = ConsoleUser(console_stack.console.url)
    assert user.sign_in("intake", "Police", "intake-1").status_code == 200
    page = user.http.get(f"/cases/{case_id}").text
    assert 'name="report_id"' not in page and 'action="/cases/' + case_id + '/messages"' in page
