"""Fixtures for feedback_api tests: an app on its test database with its secrets in a temp folder,
policy_api pointed at a closed port unless a test runs a real one."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
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


@contextmanager
def feedback_subprocess(databases, dev_key, tmp_path, extra_env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """feedback_api as a real uvicorn process on the test database; yields (url, stdout log file)."""
    port = free_port()
    log_path = tmp_path / f"feedback_api-{port}.log"
    env = dict(os.environ)
    env.update({
        "FEEDBACK_API_MODE": "dev",
        "FEEDBACK_API_DATABASE_URL": databases["feedback_api"].url,
        "FEEDBACK_API_AUTO_MIGRATE": "false",
        "FEEDBACK_API_AUTH__DEV_KEY_FILE": str(dev_key),
        "FEEDBACK_API_SECRETS_DIR": str(tmp_path / "secrets"),
        "FEEDBACK_API_LOG_LEVEL": "DEBUG",
        "FEEDBACK_API_LOG_JSON": "true",
        "FEEDBACK_API_CASE_API_URL": f"http://127.0.0.1:{free_port()}",  # down: relay retries get logged too
        "FEEDBACK_API_POLICY_API_URL": f"http://127.0.0.1:{free_port()}",
        "FEEDBACK_API_OUTBOX_BASE_BACKOFF_SECONDS": "0.05",
        "FEEDBACK_API_OUTBOX_MAX_BACKOFF_SECONDS": "0.2",
    })
    env.update(extra_env)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "services.feedback_api.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "debug"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("feedback_api did not start: " + log_path.read_text()[-2000:])
            yield url, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
