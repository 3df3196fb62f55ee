"""GeoReport v2 answers in JSON or XML (XML is the spec's default format), and its error format.

The XML shapes are the spec's (http://wiki.open311.org/GeoReport_v2): ``<services><service>``,
``<service_definition><attributes><attribute><values><value>``, ``<service_requests><request>``,
``<errors><error><code/><description/></error></errors>`` and ``<discovery>...<endpoints>
<endpoint><formats><format>``. ``None`` is an empty element, booleans are ``true``/``false``.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET  # building XML only, never parsing it

from fastapi.responses import JSONResponse, Response

FORMATS = ("json", "xml")
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
# a list under one of these keys holds elements named by the value
LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            tag = LIST_ITEMS.get(key, "item")
            for item in value:
                element = ET.SubElement(child, tag)
                if isinstance(item, dict):
                    _fill(element, item)
                else:
                    element.text = _text(item)
        else:
            child.text = _text(value)


def to_xml(root: str, data: dict[str, Any] | list[dict[str, Any]], item: str | None = None) -> bytes:
    element = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(ET.SubElement(element, item or "item"), entry)
    else:
        _fill(element, data)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def answer(fmt: str, data: Any, *, root: str, item: str | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, data, item), status_code=status_code, media_type=XML_MEDIA_TYPE,
                        headers=headers)
    return JSONResponse(data, status_code=status_code, headers=headers)


def error(fmt: str, code: int, description: str, headers: dict[str, str] | None = None) -> Response:
    return answer(fmt if fmt in FORMATS else "json", [{"code": code, "description": description}],
                  root="errors", item="error", status_code=code, headers=headers)
