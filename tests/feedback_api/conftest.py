"""Fixtures for feedback_api tests: an app on its test database with its secrets in a temp folder,
policy_api pointed at a closed port unless a test runs a real one."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from PIL import Image

from tests.support.live import free_port

GPS_LATITUDE = 0x0002


@pytest.fixture
def fb_app(make_app: Callable[..., FastAPI], tmp_path) -> Callable[..., FastAPI]:
    def factory(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "secrets_dir": str(tmp_path / "secrets"),
            "policy_api_url": f"http://127.0.0.1:{free_port()}",  # nobody listens: policy_api is "down"
            "case_api_url": f"http://127.0.0.1:{free_port()}",
            "directory_timeout_seconds": 1.0,
            "rate_submit_per_client": "1000/minute",  # tests that check limits set their own
            "rate_receipt_per_client": "1000/minute",
        }
        values.update(overrides)
        return make_app("feedback_api", **values)

    return factory


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_text": "@abqcityexample",
        "platform": "facebook",
        "links": ["https://www.facebook.com/abq/posts/123?fbclid=XYZ"],
        "seen_on": date(2026, 11, 20).isoformat(),
        "categories": ["personal_attack"],
        "description": "The City account insulted a resident in the comments.",
    }
    body.update(overrides)
    return body


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x0131] = "GeoTagger 9000"  # Software
    gps = exif.get_ifd(0x8825)
    gps[0x0001] = "N"
    gps[GPS_LATITUDE] = (35.0, 5.0, 3.0)
    gps[0x0003] = "W"
    gps[0x0004] = (106.0, 39.0, 2.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    img = Image.new("RGBA", (10, 10), (0, 0, 255, 128))
    img.save(out, "PNG", pnginfo=_pnginfo())
    return out.getvalue()


def _pnginfo() -> Any:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "taken at 35.08N 106.65W")
    return info
