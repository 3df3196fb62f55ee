"""Unit tests of the plain domain modules: receipts, the URL normaliser, evidence sanitising,
the contact cipher, delivery classification, and the rate-limit client key."""

from __future__ import annotations

import io

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from services.feedback_api.domain.contact import ContactCipher, ContactCipherError, decode_key, is_valid_email, new_key
from services.feedback_api.domain.evidence import sanitise, sniff
from services.feedback_api.domain.receipts import ReceiptHasher, new_receipt, normalise_receipt
from shared.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from shared.http import Outcome, classify
from shared.post_urls import InvalidPostUrl, incident_key, normalise_post_url
from shared.ratelimit import client_address, parse_networks
from tests.feedback_api.conftest import jpeg_with_gps, png_bytes

PEPPER = b"p" * 32


# --- receipts -------------------------------------------------------------------------------


def test_receipt_is_16_digits_and_random():
    receipts = {new_receipt() for _ in range(200)}
    assert all(len(r) == 16 and r.isdigit() for r in receipts)
    assert len(receipts) == 200


def test_receipt_hash_is_deterministic_peppered_and_not_the_receipt():
    hasher = ReceiptHasher(PEPPER, memory_kib=64, time_cost=1)
    receipt = "1234567812345678"
    h = hasher.hash(receipt)
    assert h == hasher.hash(receipt)
    assert receipt not in h and h.startswith("a2id1$")
    assert hasher.hash("1234567812345679") != h
    assert ReceiptHasher(b"q" * 32, memory_kib=64, time_cost=1).hash(receipt) != h


def test_receipt_pepper_must_be_long_enough():
    with pytest.raises(ValueError):
        ReceiptHasher(b"short")


@pytest.mark.parametrize(("typed", "expected"), [
    ("1234 5678 1234 5678", "1234567812345678"),
    ("1234-5678-1234-5678", "1234567812345678"),
    ("123456781234567", None),
    ("12345678123456789", None),
    ("abcd567812345678", None),
    ("\uff11" * 16, None),  # full-width digits are not ASCII digits
    ("", None),
])
def test_receipt_normalisation(typed, expected):
    assert normalise_receipt(typed) == expected


# --- URL normaliser ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [
    "https://www.facebook.com/abq/posts/123",
    "http://facebook.com/abq/posts/123/",
    "https://m.facebook.com/abq/posts/123?fbclid=IwAR0xyz",
    "HTTPS://WWW.FACEBOOK.COM/abq/posts/123#comments",
    "https://facebook.com:443/abq/posts/123?utm_source=share&utm_medium=copy",
    "facebook.com/abq/posts/123",
])
def test_variants_of_one_post_share_an_incident_key(variant):
    assert normalise_post_url(variant) == "https://facebook.com/abq/posts/123"
    assert incident_key(variant) == incident_key("https://facebook.com/abq/posts/123")


def test_twitter_and_x_are_the_same_post():
    assert incident_key("https://twitter.com/cabq/status/1?s=20&t=abc") == incident_key("https://x.com/cabq/status/1")


def test_content_parameters_are_kept_and_sorted():
    assert normalise_post_url("https://youtube.com/watch?v=abc&si=track") == "https://youtube.com/watch?v=abc"
    assert normalise_post_url("https://youtu.be/abc") == "https://youtube.com/watch?v=abc"
    a = normalise_post_url("https://facebook.com/permalink.php?story_fbid=1&id=2")
    b = normalise_post_url("https://facebook.com/permalink.php?id=2&story_fbid=1")
    assert a == b and "story_fbid=1" in a
    assert incident_key("https://x.com/cabq/status/1") != incident_key("https://x.com/cabq/status/2")


def test_non_http_links_are_refused():
    with pytest.raises(InvalidPostUrl):
        normalise_post_url("javascript:alert(1)")
    with pytest.raises(InvalidPostUrl):
        normalise_post_url("ftp://example.com/x")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghij/?=&.", min_size=1, max_size=30))
def test_normalising_is_idempotent(path):
    try:
        once = normalise_post_url("https://example.com/" + path)
    except (InvalidPostUrl, ValueError):
        return
    assert normalise_post_url(once) == once


# --- evidence -------------------------------------------------------------------------------------


def test_sniff_by_content_not_name():
    assert sniff(jpeg_with_gps()) == "image/jpeg"
    assert sniff(png_bytes()) == "image/png"
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff(b"MZ\x90\x00 this is an exe") is None
    assert sniff(b"<html><script>") is None


def test_jpeg_loses_exif_and_gps():
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture really has GPS
    clean = sanitise(original, index=0, max_bytes=10**6, max_pixels=10**7)
    assert clean.media_type == "image/jpeg"
    img = Image.open(io.BytesIO(clean.content))
    assert not img.getexif() and "exif" not in img.info
    assert b"SpyCam" not in clean.content and b"GeoTagger" not in clean.content
    assert img.size == (64, 48)


def test_png_text_chunks_are_dropped():
    clean = sanitise(png_bytes(), index=0, max_bytes=10**6, max_pixels=10**7)
    assert b"35.08N" not in clean.content
    assert Image.open(io.BytesIO(clean.content)).mode == "RGBA"


def test_wrong_type_too_big_and_fake_files_are_refused():
    with pytest.raises(UnsupportedMediaType):
        sanitise(b"MZ\x90\x00 not an image", index=0, max_bytes=10**6, max_pixels=10**7)
    with pytest.raises(PayloadTooLarge):
        sanitise(jpeg_with_gps(), index=0, max_bytes=100, max_pixels=10**7)
    with pytest.raises(ValidationFailed):
        sanitise(b"\xff\xd8\xff\xe0 truncated jpeg", index=0, max_bytes=10**6, max_pixels=10**7)
    with pytest.raises(ValidationFailed):
        sanitise(b"%PDF-1.4\nnot really a pdf", index=0, max_bytes=10**6, max_pixels=10**7)
    with pytest.raises(ValidationFailed):
        sanitise(b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF",
                 index=0, max_bytes=10**6, max_pixels=10**7)


def test_pixel_bombs_are_refused():
    out = io.BytesIO()
    Image.new("L", (4000, 4000)).save(out, "PNG")
    with pytest.raises(PayloadTooLarge) as refused:  # 413, from the header
        sanitise(out.getvalue(), index=0, max_bytes=10**7, max_pixels=10_000_000)
    assert "4000 x 4000 pixels (16 megapixels)" in refused.value.detail
    with pytest.raises(PayloadTooLarge) as refused:
        sanitise(out.getvalue(), index=0, max_bytes=10**7, max_pixels=1_000_000)
    assert "the limit is 1 megapixels per image" in refused.value.detail


def test_a_plain_pdf_is_accepted():
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    assert sanitise(out.getvalue(), index=0, max_bytes=10**6, max_pixels=10**7).media_type == "application/pdf"


# --- contact cipher ---------------------------------------------------------------------------------


def test_contact_is_encrypted_and_bound_to_its_row():
    cipher = ContactCipher(decode_key(new_key()))
    token = cipher.encrypt("resident@example.org", submission_id="s1")
    assert "resident" not in token and "example" not in token
    assert cipher.decrypt(token, submission_id="s1") == "resident@example.org"
    with pytest.raises(ContactCipherError):
        cipher.decrypt(token, submission_id="s2")
    with pytest.raises(ContactCipherError):
        ContactCipher(decode_key(new_key())).decrypt(token, submission_id="s1")


@pytest.mark.parametrize(("email", "ok"), [
    ("a@example.org", True), ("first.last+tag@sub.example.co", True), ("no-at.example.org", False),
    ("a@b", False), ("a b@example.org", False), ("x" * 250 + "@example.org", False),
])
def test_email_validation(email, ok):
    assert is_valid_email(email) is ok


# --- delivery classification ------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "outcome"), [
    (201, Outcome.DELIVERED), (200, Outcome.DELIVERED), (404, Outcome.RETRY), (409, Outcome.RETRY),
    (429, Outcome.RETRY), (500, Outcome.RETRY), (503, Outcome.RETRY), (400, Outcome.DEAD), (401, Outcome.DEAD),
    (403, Outcome.DEAD), (422, Outcome.DEAD),
])
def test_delivery_outcomes(status, outcome):
    """What case_api's answers mean for feedback_api's relay: the kernel's one classification."""
    assert classify(httpx.Response(status, json={"title": "x"})) is outcome


# --- rate-limit client key -----------------------------------------------------------------------------


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_address("10.1.1.1", "203.0.113.9", proxies) == "203.0.113.9"
    assert client_address("198.51.100.2", "203.0.113.9", proxies) == "198.51.100.2"  # not a proxy: ignored
    # spoofed left-most entries are ignored: the right-most untrusted hop is the client
    assert client_address("10.1.1.1", "1.2.3.4, 203.0.113.9, 10.2.2.2", proxies) == "203.0.113.9"
    assert client_address("10.1.1.1", "garbage", proxies) == "10.1.1.1"
    assert client_address("2001:db8::1", None, proxies) == "2001:db8::/64"
    assert client_address(None, None, proxies) == "unknown"
