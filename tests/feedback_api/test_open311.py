"""Open311 GeoReport v2: service discovery, definitions, filing with an api_key (form-encoded),
reading requests back, and errors in the GeoReport format."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlmodel import Session

from services.feedback_api.domain.models import Contact, OutboxMessage, Submission

KEY = "cabq-311-test-key"


def _app(fb_app):
    # one key configured raw, one by its SHA-256 only
    return fb_app(open311_api_keys=[KEY, "sha256:" + hashlib.sha256(b"other-key").hexdigest()])


def _form(**overrides):
    form = {
        "api_key": KEY,
        "service_code": "csm-arguing-with-public",
        "attribute[platform]": "x",
        "attribute[post_url]": "https://twitter.com/cabq/status/42?s=20",
        "attribute[account]": "@cabq",
        "attribute[seen_on]": "2026-11-20T18:03:00-07:00",
        "description": "The account argued with a resident for ten replies.",
        "lat": "35.0844", "long": "-106.6504", "address_string": "1 Civic Plaza",
        "first_name": "Pat", "last_name": "Example", "phone": "505-555-0100", "device_id": "dev-xyz",
        "email": "pat@example.org",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _is_georeport_error(r, code):
    body = r.json()
    return (r.status_code == code and isinstance(body, list) and body[0]["code"] == code
            and isinstance(body[0]["description"], str))


async def test_service_list_and_definitions(fb_app, client):
    c = client(_app(fb_app))
    r = await c.get("/open311/v2/services.json", params={"jurisdiction_id": "cabq.gov"})
    assert r.status_code == 200
    services = r.json()
    assert len(services) == 6
    for s in services:
        assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
        assert s["metadata"] is True and s["type"] in ("realtime", "batch", "blackbox")
    r = await c.get(f"/open311/v2/services/{services[0]['service_code']}.json")
    assert r.status_code == 200
    definition = r.json()
    assert definition["service_code"] == services[0]["service_code"]
    codes = {a["code"]: a for a in definition["attributes"]}
    assert codes["platform"]["datatype"] == "singlevaluelist" and codes["platform"]["required"] is True
    assert {"key": "x", "name": "X"} in codes["platform"]["values"]
    for a in definition["attributes"]:
        assert {"variable", "code", "datatype", "required", "datatype_description", "order", "description"} <= set(a)
    assert _is_georeport_error(await c.get("/open311/v2/services/nope.json"), 404)


async def test_filing_and_reading_a_request(fb_app, client, databases):
    c = client(_app(fb_app))
    r = await c.post("/open311/v2/requests.json", data=_form())
    assert r.status_code == 200, r.text
    [created] = r.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    request_id = created["service_request_id"]
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        sub = s.execute(select(Submission)).scalar_one()
        dump = str(sub.model_dump())
        assert sub.channel == "open311" and sub.receipt_hash is None and sub.categories == ["arguing_with_public"]
        assert sub.seen_on.isoformat() == "2026-11-20" and sub.links == ["https://twitter.com/cabq/status/42?s=20"]
        for personal in ("35.0844", "Civic Plaza", "Pat", "555-0100", "dev-xyz", "pat@example.org"):
            assert personal not in dump
        assert s.execute(select(Contact)).scalar_one() is not None  # the email, encrypted
        assert s.execute(select(OutboxMessage)).scalar_one().payload["has_contact"] is True
    r = await c.get(f"/open311/v2/requests/{request_id}.json")
    assert r.status_code == 200
    [req] = r.json()
    assert req["service_request_id"] == request_id and req["status"] == "open"
    assert req["service_code"] == "csm-arguing-with-public" and req["requested_datetime"].endswith("T00:00:00Z")
    assert req["description"] is None and req["lat"] is None
    r = await c.get("/open311/v2/requests.json", params={"service_request_id": f"{request_id},R-NONE-NONE"})
    assert [x["service_request_id"] for x in r.json()] == [request_id]
    listing = {"status": "open", "service_code": "csm-arguing-with-public"}
    assert _is_georeport_error(await c.get("/open311/v2/requests.json", params=listing), 403)  # no api_key
    r = await c.get("/open311/v2/requests.json", params={**listing, "api_key": KEY})
    assert [x["service_request_id"] for x in r.json()] == [request_id]
    r = await c.get("/open311/v2/requests.json", params=listing, headers={"X-API-Key": "other-key"})
    assert [x["service_request_id"] for x in r.json()] == [request_id]
    assert (await c.get("/open311/v2/requests.json", params={"status": "closed", "api_key": KEY})).json() == []
    assert _is_georeport_error(await c.get("/open311/v2/requests.json", params={"api_key": "wrong"}), 403)
    assert _is_georeport_error(await c.get("/open311/v2/requests/R-NONE-NONE.json"), 404)
    assert _is_georeport_error(await c.get("/open311/v2/requests.json", params={"status": "pending",
                                                                                  "api_key": KEY}), 400)


async def test_filing_errors_are_in_georeport_format(fb_app, client, databases):
    c = client(_app(fb_app))
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", data=_form(api_key=None)), 403)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", data=_form(api_key="wrong")), 403)
    r = await c.post("/open311/v2/requests.json", data=_form(api_key="other-key"))
    assert r.status_code == 200  # the key configured by hash works
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", data=_form(service_code=None)), 400)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", data=_form(service_code="potholes")), 404)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json",
                                            data=_form(**{"attribute[platform]": "myspace"})), 400)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json",
                                            data=_form(**{"attribute[post_url]": "javascript:alert(1)"})), 400)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", data=_form(email="not-an-email")), 400)
    assert _is_georeport_error(await c.post("/open311/v2/requests.json", json={"api_key": KEY}), 400)


async def test_open311_filing_is_rate_limited(fb_app, client):
    c = client(fb_app(open311_api_keys=[KEY], rate_open311_per_client="1/minute"))
    assert (await c.post("/open311/v2/requests.json", data=_form())).status_code == 200
    r = await c.post("/open311/v2/requests.json", data=_form())
    assert _is_georeport_error(r, 429) and int(r.headers["retry-after"]) >= 1


async def test_unknown_paths_and_bad_parameters_answer_in_georeport_format(fb_app, client):
    c = client(_app(fb_app))
    assert _is_georeport_error(await c.get("/open311/v2/services.yaml"), 400)
    assert _is_georeport_error(await c.get("/open311/v2/nothing-here.json"), 404)
    # what FastAPI would have refused as problem+json is a GeoReport error here
    r = await c.get("/open311/v2/services.json", params={"jurisdiction_id": "x" * 500})
    assert _is_georeport_error(r, 400) and r.headers["content-type"].startswith("application/json")
    r = await c.get("/open311/v2/requests.json", params={"service_request_id": "R-" * 2000})
    assert _is_georeport_error(r, 400)


def _xml(r):
    from xml.dom.minidom import parseString  # our own answer, in a test

    assert r.headers["content-type"] == "text/xml; charset=utf-8", r.headers["content-type"]
    return parseString(r.content)


def _texts(doc, tag):
    return [n.firstChild.data if n.firstChild else "" for n in doc.getElementsByTagName(tag)]


async def test_xml_is_answered_too_geo_report_v2s_default_format(fb_app, client):
    c = client(_app(fb_app))
    services = _xml(await c.get("/open311/v2/services.xml"))
    assert services.documentElement.tagName == "services"
    assert len(services.getElementsByTagName("service")) == 6
    assert "csm-arguing-with-public" in _texts(services, "service_code") and _texts(services, "metadata")[0] == "true"
    definition = _xml(await c.get("/open311/v2/services/csm-arguing-with-public.xml"))
    assert definition.documentElement.tagName == "service_definition"
    [platform] = [a for a in definition.getElementsByTagName("attribute")
                  if _texts(a, "code")[0] == "platform"]
    assert "x" in _texts(platform, "key") and platform.getElementsByTagName("values")
    r = await c.post("/open311/v2/requests.xml", data=_form())
    created = _xml(r)
    assert r.status_code == 200 and created.documentElement.tagName == "service_requests"
    [reference] = _texts(created, "service_request_id")
    one = _xml(await c.get(f"/open311/v2/requests/{reference}.xml"))
    assert _texts(one, "service_request_id") == [reference] and _texts(one, "status") == ["open"]
    assert _texts(one, "description") == [""]  # not published
    listing = _xml(await c.get("/open311/v2/requests.xml", params={"api_key": KEY}))
    assert _texts(listing, "service_request_id") == [reference]
    for r, code in ((await c.get("/open311/v2/requests.xml"), 403),
                    (await c.get("/open311/v2/services/nope.xml"), 404),
                    (await c.post("/open311/v2/requests.xml", data=_form(api_key="wrong")), 403),
                    (await c.get("/open311/v2/nothing.xml"), 404)):
        errors = _xml(r)
        assert r.status_code == code and errors.documentElement.tagName == "errors"
        assert _texts(errors, "code") == [str(code)] and _texts(errors, "description")[0]


async def test_discovery_documents(fb_app, client):
    c = client(_app(fb_app))
    doc = (await c.get("/open311/v2/discovery.json")).json()
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://127.0.0.1:8002/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"} and doc["changeset"]
    xml = _xml(await c.get("/open311/v2/discovery.xml"))
    assert xml.documentElement.tagName == "discovery"
    assert _texts(xml, "format") == ["text/xml", "application/json"]
    assert _texts(xml, "url") == ["http://127.0.0.1:8002/open311/v2"]


def test_dev_mode_has_a_well_known_listing_key_and_production_has_none():
    from services.feedback_api.routers.open311 import DEV_OPEN311_KEY, open311_keys
    from services.feedback_api.settings import FeedbackSettings

    assert open311_keys(FeedbackSettings(mode="dev")) == [DEV_OPEN311_KEY]
    assert open311_keys(FeedbackSettings(mode="dev", open311_api_keys=[KEY])) == [KEY]  # configured: only those
    production = FeedbackSettings(
        mode="production", contact_encryption_key="k", rate_limit_key_secret="s", receipt_pepper="p",
        auth={"jwks_url": "https://idp.example/jwks", "token_url": "https://idp.example/token",
              "client_id": "feedback_api", "client_secret": "c"})
    assert open311_keys(production) == []
