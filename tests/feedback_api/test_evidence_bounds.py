"""Evidence processing is bounded (issue 21 item 2): pixel budgets checked from headers before any
decoding, decoding in a child process with time and memory caps, PDFs rewritten by qpdf with scripts,
actions, embedded files, forms and metadata gone, escaped names (``/J#61vaScript``) included."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pikepdf
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import Session

from services.feedback_api.domain import evidence
from services.feedback_api.domain.evidence import EvidenceLimits, check_budget, sanitise_all
from services.feedback_api.domain.models import Evidence, Submission
from shared.errors import PayloadTooLarge
from tests.feedback_api.conftest import png_bytes, report_body

# --- hand-made files ------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 6000, height: int = 6500, *, color_type: int = 2) -> bytes:
    """A real, valid PNG of ``width x height`` black pixels, made row by row (never in memory)."""
    channels = {0: 1, 2: 3}[color_type]
    packer = zlib.compressobj(9)
    row = b"\0" + b"\0" * (width * channels)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


BOMB = bomb_png()  # 39 megapixels


def build_pdf(objects: dict[int, bytes], *, info: int | None = None) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += (f"{offsets[number]:010d} 00000 n \n" if number in offsets else "0000000000 65535 f \n").encode()
    trailer = f"/Root 1 0 R /Size {size}" + (f" /Info {info} 0 R" if info else "")
    out += f"trailer\n<< {trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)} {extra} >>\nstream\n".encode() + data + b"\nendstream"


def hostile_pdf() -> bytes:
    """Scripts and actions under escaped names, an embedded executable, an XFA form, XMP and info."""
    return build_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R /Open#41ction 5 0 R"
           b" /A#41 << /WC << /S /J#61vaScript /JS (app.alert\\(2\\)) >> >>"
           b" /Names << /J#61vaScript << /Names [(x) 5 0 R] >> /Embedded#46iles << /Names [(evil.exe) 7 0 R] >> >>"
           b" /AcroForm << /Fields [] /XFA 8 0 R >> /Metadata 9 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
           b" /AA << /O << /S /L#61unch /F (calc.exe) >> >> /Annots [10 0 R 11 0 R] >>",
        4: _stream(b"0 0 m 100 100 l S"),
        5: b"<< /S /J#61vaScript /JS (app.alert\\(1\\)) /Next << /S /Launch /F (cmd.exe) >> >>",
        7: b"<< /Type /Filespec /F (evil.exe) /EF << /F 12 0 R >> >>",
        8: _stream(b"<xdp:xdp><script>app.alert(3)</script></xdp:xdp>"),
        9: _stream(b"<x:xmpmeta><dc:creator>Pat Example</dc:creator></x:xmpmeta>", "/Type /Metadata /Subtype /XML"),
        10: b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /URI /URI (https://tracker.example/x) >> >>",
        11: b"<< /Type /Annot /Subtype /FileAttachment /Rect [60 60 80 80] /FS 7 0 R >>",
        12: _stream(b"MZ-evil-payload", "/Type /EmbeddedFile"),
        13: b"<< /Author (Pat Example) /Producer (SpyWriter 9) /CreationDate (D:20261120180300) >>",
    }, info=13)


ACTIVE_KEYS = {"/JavaScript", "/JS", "/OpenAction", "/AA", "/A", "/Launch", "/EmbeddedFiles", "/EF", "/XFA",
               "/AcroForm", "/Metadata", "/URI", "/Next"}
ACTIVE_NAMES = {"/JavaScript", "/Launch", "/EmbeddedFile", "/FileAttachment"}


def assert_inert(content: bytes) -> None:
    for needle in (b"app.alert", b"Pat Example", b"SpyWriter", b"MZ-evil", b"tracker.example", b"calc.exe",
                   b"J#61vaScript", b"Open#41ction", b"JavaScript", b"OpenAction"):
        assert needle not in content, needle
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert len(pdf.pages) == 1
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root  # no document info, no XMP
        for obj in [pdf.trailer, *pdf.objects]:
            stack, seen = [obj], set()
            while stack:
                item = stack.pop()
                if isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
                    if item.is_indirect:
                        if item.objgen in seen:
                            continue
                        seen.add(item.objgen)
                    assert not (set(item.keys()) & ACTIVE_KEYS), set(item.keys()) & ACTIVE_KEYS
                    stack.extend(item[k] for k in item.keys())
                elif isinstance(item, pikepdf.Array):
                    stack.extend(item)
                elif isinstance(item, pikepdf.Name):
                    assert str(item) not in ACTIVE_NAMES


# --- pixel budgets ------------------------------------------------------------------------------------


def test_the_bomb_is_what_the_issue_describes():
    assert 100_000 < len(BOMB) < 200_000  # 114 KB (the issue's were 154 KB)
    with Image.open(io.BytesIO(BOMB)) as probe:  # Pillow itself calls it a bomb only past 89 MP
        assert probe.size == (6000, 6500) and probe.size[0] * probe.size[1] == 39_000_000


def test_five_39_megapixel_pngs_are_refused_from_their_headers_without_decoding(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(evidence, "reencode", never)
    monkeypatch.setattr(Image.Image, "load", never)
    limits = EvidenceLimits(max_bytes=5 * 1024 * 1024)  # the defaults: 25 MP per image, 60 MP per report
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(PayloadTooLarge) as refused:
            sanitise_all([BOMB] * 5, limits)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "6000 x 6500 pixels (39 megapixels)" in refused.value.detail
    assert refused.value.errors[0]["loc"] == ["body", "evidence", 0]
    assert elapsed < 0.5 and peak < 5 * 1024 * 1024  # decoding one would take 117 MB


def test_the_report_budget_counts_all_images_together(monkeypatch):
    monkeypatch.setattr(evidence, "reencode", lambda *a, **k: pytest.fail("decoded"))
    twenty_four = bomb_png(4000, 6000, color_type=0)
    limits = EvidenceLimits(max_bytes=5 * 1024 * 1024, max_pixels=25_000_000, max_report_pixels=60_000_000)
    assert check_budget([twenty_four, twenty_four], limits) == ["image/png"] * 2  # 48 MP: within
    with pytest.raises(PayloadTooLarge) as refused:
        check_budget([twenty_four, twenty_four, twenty_four], limits)
    assert "together" in refused.value.detail and refused.value.errors[0]["loc"] == ["body", "evidence", 2]


def test_pillows_own_bomb_guard_is_the_same_413():
    # Pillow raises DecompressionBombError from the header past twice its limit: the same 413
    monster = bomb_png(20000, 10000, color_type=0)  # 200 MP
    with pytest.raises(PayloadTooLarge) as refused:
        evidence.image_size(monster, "image/png", index=0, limits=EvidenceLimits(max_pixels=200_000_000))
    assert "too many pixels" in refused.value.detail


def _stored(databases, model) -> int:
    with Session(databases["feedback_api"].engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _upload(files: list[tuple[str, bytes, str]]) -> dict:
    return {"data": {"report": json.dumps(report_body())},
            "files": [("evidence", (name, content, ctype)) for name, content, ctype in files]}


def test_three_bomb_reports_at_once_are_refused_in_under_a_second(fb_app, live, databases):
    server = live(fb_app())
    bombs = _upload([(f"{i}.png", BOMB, "image/png") for i in range(5)])

    def post() -> tuple[int, float, dict]:
        started = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=30) as c:
            r = c.post("/v1/reports", **bombs)
        return r.status_code, time.perf_counter() - started, r.json()

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: post(), range(3)))
    for status, elapsed, problem in results:
        assert status == 413 and problem["type"] == "urn:civicsocial:problem:payload-too-large"
        assert "megapixels" in problem["detail"]
        print(f"bomb report refused in {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0, elapsed  # the issue measured 28-29 s each
    assert _stored(databases, Submission) == 0


async def test_evidence_processing_has_a_time_cap_and_a_memory_cap(fb_app, client, databases):
    big = bomb_png(4000, 6000)  # 24 MP, within the pixel budget: decoding is real work
    slow = client(fb_app(evidence_timeout_seconds=0.05))
    r = await slow.post("/v1/reports", **_upload([("a.png", big, "image/png")]))
    assert r.status_code == 422 and "longer than 0.05 seconds" in r.json()["detail"]
    small = client(fb_app(evidence_memory_mib=64))  # 24 MP of RGB is 72 MB
    r = await small.post("/v1/reports", **_upload([("a.png", big, "image/png")]))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert _stored(databases, Submission) == 0
    # and the service is fine: an ordinary image goes through
    r = await small.post("/v1/reports", **_upload([("b.png", png_bytes(), "image/png")]))
    assert r.status_code == 201, r.text


# --- PDFs -----------------------------------------------------------------------------------------------


def test_the_hostile_pdf_really_is_hostile():
    raw = hostile_pdf()
    with pikepdf.open(io.BytesIO(raw)) as pdf:  # qpdf decodes the escaped names
        assert "/OpenAction" in pdf.Root and pdf.Root.OpenAction.S == "/JavaScript"
        assert "/JavaScript" in pdf.Root.Names and "/EmbeddedFiles" in pdf.Root.Names
        assert pdf.docinfo["/Author"] == "Pat Example"
    assert b"/OpenAction" not in raw and b"/JavaScript" not in raw  # a byte filter would miss them


async def test_escaped_name_pdfs_are_sanitised_before_staff_see_them(fb_app, client, databases, token):
    c = client(fb_app())
    r = await c.post("/v1/reports", **_upload([("evidence.pdf", hostile_pdf(), "application/pdf")]))
    assert r.status_code == 201, r.text
    with Session(databases["feedback_api"].engine) as s:
        stored = s.execute(select(Evidence)).scalar_one()
    assert stored.media_type == "application/pdf"
    served = await c.get(f"/v1/internal/evidence/{stored.id}", headers=token("service:case_api"))
    assert served.status_code == 200
    for content in (stored.content, served.content):
        assert_inert(content)


def test_pdf_sanitising_keeps_an_ordinary_pdf_readable_and_refuses_broken_or_locked_ones():
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = "Pat Example"
    out = io.BytesIO()
    pdf.save(out)
    [clean] = sanitise_all([out.getvalue()], EvidenceLimits())
    assert_inert(clean.content)
    locked = io.BytesIO()
    pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="secret"))
    for bad in (locked.getvalue(), b"%PDF-1.4\nnot really a pdf\n%%EOF"):
        with pytest.raises(Exception) as refused:
            sanitise_all([bad], EvidenceLimits())
        assert getattr(refused.value, "status", None) == 422
