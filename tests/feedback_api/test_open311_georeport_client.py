"""Open311 as a third-party client sees it: the ``georeport`` package from PyPI (its JSON and XML
modes, the latter parsed with xmltodict) against a live feedback_api on loopback."""

from __future__ import annotations

import httpx
import pytest
import requests
from georeport import GeoReport

KEY = "cabq-311-test-key"
FORM = {
    "api_key": KEY, "service_code": "csm-personal-attack", "attribute[platform]": "facebook",
    "attribute[post_url]": "https://www.facebook.com/abq/posts/777", "description": "A personal attack.",
}


@pytest.fixture
def server(fb_app, live):
    return live(fb_app(open311_api_keys=[KEY]))


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_lists_services_and_reads_requests(server, output_format):
    client = GeoReport(f"{server.url}/open311/v2", jurisdiction="cabq.gov", output_format=output_format)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert len(codes) == 6 and "csm-personal-attack" in codes
    definition = client.get_service_definition("csm-personal-attack")
    attributes = definition["attributes"]
    if output_format == "xml":
        attributes = attributes["attribute"]
    assert {a["code"] for a in attributes} >= {"platform", "post_url"}

    # a 311 system files (georeport has no POST; the form is the spec's) and the filer reads it back
    filed = httpx.post(f"{server.url}/open311/v2/requests.{output_format}", data=FORM, timeout=10)
    assert filed.status_code == 200, filed.text
    reference = (filed.json()[0]["service_request_id"] if output_format == "json"
                 else filed.text.split("<service_request_id>")[1].split("<")[0])
    one = client.get_service_request(reference)
    assert one["service_request_id"] == reference and one["status"] == "open"
    assert one["service_code"] == "csm-personal-attack"
    by_id = client.get_service_requests(service_request_id=reference)  # by its own reference: public
    if output_format == "xml":
        by_id = [by_id]  # xmltodict: one element is a dict
    assert [r["service_request_id"] for r in by_id] == [reference]

    # a listing without an api_key is refused, in Open311's error format
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_requests(status="open", service_code="csm-personal-attack")
    assert refused.value.response.status_code == 403
    if output_format == "json":
        assert refused.value.response.json()[0]["code"] == 403
    else:
        assert refused.value.response.text.count("<error><code>403</code>") == 1
    # with the key (as a query parameter, which georeport cannot add; a 311 system can) it lists
    listed = httpx.get(f"{server.url}/open311/v2/requests.{output_format}",
                       params={"status": "open", "api_key": KEY}, timeout=10)
    assert listed.status_code == 200 and reference in listed.text

    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("R-NONE-NONE")
    assert missing.value.response.status_code == 404


def test_discovery_is_served_for_clients(server):
    doc = requests.get(f"{server.url}/open311/v2/discovery.json", timeout=10).json()
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")
    assert "text/xml" in doc["endpoints"][0]["formats"]
    import xmltodict  # what georeport parses XML with

    xml = xmltodict.parse(requests.get(f"{server.url}/open311/v2/discovery.xml", timeout=10).content)
    assert xml["discovery"]["endpoints"]["endpoint"]["formats"]["format"] == ["text/xml", "application/json"]
