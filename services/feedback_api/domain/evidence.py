"""Evidence files: the type is decided by content (magic bytes), never by name or declared type;
images are decoded and re-encoded from pixels only, which drops EXIF (GPS, device, times), XMP,
IPTC, ICC profiles and comments; PDFs must be PDFs and carry no active content."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf")
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
# Active or embedded content a reporter's evidence has no reason to carry.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|OpenAction|AA|SubmitForm|GoToR)\b")


@dataclass(frozen=True)
class CleanFile:
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size_bytes(self) -> int:
        return len(self.content)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:1024].lstrip(b"\r\n\t ").startswith(b"%PDF-"):
        return "application/pdf"
    return None


def sanitise(data: bytes, *, index: int, max_bytes: int, max_pixels: int) -> CleanFile:
    """Validate and clean one file; raise a problem naming the file's position (never its name)."""
    loc: list[str | int] = ["body", "evidence", index]
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"Evidence file {index + 1} is larger than {max_bytes} bytes.")
    if not data:
        raise ValidationFailed("An evidence file is empty.", errors=[_err(loc, "empty file")])
    media_type = sniff(data)
    if media_type is None:
        raise UnsupportedMediaType(
            f"Evidence file {index + 1} is not an accepted type ({', '.join(ALLOWED_TYPES)}).",
            errors=[_err(loc, "unsupported file type", "unsupported_media_type")],
        )
    if media_type == "application/pdf":
        return CleanFile(media_type, _check_pdf(data, loc))
    return CleanFile(media_type, _reencode(data, media_type, loc, max_pixels))


def _err(loc: list[str | int], msg: str, type_: str = "value_error") -> dict[str, object]:
    return {"loc": loc, "msg": msg, "type": type_}


def _check_pdf(data: bytes, loc: list[str | int]) -> bytes:
    tail = data[-2048:]
    if b"%%EOF" not in tail or b"obj" not in data:
        raise ValidationFailed("An evidence file claims to be a PDF but is not one.", errors=[_err(loc, "not a PDF")])
    if _PDF_ACTIVE.search(data):
        raise ValidationFailed(
            "PDF evidence may not contain scripts, actions or embedded files.",
            errors=[_err(loc, "PDF with active content")],
        )
    return data


def _reencode(data: bytes, media_type: str, loc: list[str | int], max_pixels: int) -> bytes:
    bad = ValidationFailed("An evidence image cannot be read.", errors=[_err(loc, "unreadable image")])
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > max_pixels:
                raise ValidationFailed(
                    "An evidence image has too many pixels.", errors=[_err(loc, "image too large")]
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            if _PIL_FORMAT.get(media_type) != img.format:
                raise bad
            img.seek(0)  # animated GIF/WebP: the first frame only
            img.load()
            upright = ImageOps.exif_transpose(img)  # keep the picture upright once EXIF is gone
            pixels = upright if upright is not None else img
            mode = pixels.mode
            if media_type == "image/jpeg":
                target = "L" if mode in ("L", "1") else "RGB"
            elif mode in ("1", "L", "LA", "RGB", "RGBA"):
                target = mode
            else:
                target = "RGBA"
            converted = pixels.convert(target) if mode != target else pixels
            # A new image from raw pixels: no info, no EXIF/XMP/ICC, nothing but pixels.
            clean = Image.frombytes(converted.mode, converted.size, converted.tobytes())
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, EOFError) as exc:
        raise bad from exc
    out = io.BytesIO()
    fmt = _PIL_FORMAT[media_type]
    if fmt == "JPEG":
        clean.save(out, fmt, quality=90, optimize=True)
    elif fmt == "WEBP":
        clean.save(out, fmt, quality=90)
    else:
        clean.save(out, fmt)
    return out.getvalue()
