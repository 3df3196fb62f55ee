from __future__ import annotations

import httpx

from tests.staff_console.conftest import ConsoleUser


def test_sign_in_and_queue(console_stack, token):
    r = httpx.post(console_stack.case.url + "/v1/cases", headers=token("intake"),
                   json={"categories": ["personal_attack"], "summary": "A reply insulted a resident.",
                         "department": "Police"})
    assert r.status_code == 201, r.text
    user = ConsoleUser(console_stack.console.url)
    page = user.sign_in("intake", "Police", "emp-1001")
    assert page.status_code == 200, page.text
    assert "Queue" in page.text and r.json()["reference"] in page.text
    case_page = user.http.get(f"/cases/{r.json()['id']}")
    assert case_page.status_code == 200, case_page.text
    for path in ("/cases", "/monitoring", "/policies", "/registry", "/account", "/not-available/records"):
        resp = user.http.get(path)
        assert resp.status_code in (200,), (path, resp.status_code, resp.text[:2000])
        assert "[" + "case." not in resp.text
