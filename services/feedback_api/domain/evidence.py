"""Evidence files: the type is decided by content (magic bytes), never by name or declared type;
images are decoded and re-encoded from pixels only, which drops EXIF (GPS, device, times), XMP,
IPTC, ICC profiles and comments; PDFs are parsed and rewritten by qpdf (pikepdf) with every
script, action, embedded file, form and metadata removed.

Bounded (issue 21 item 2): a pixel budget per image and per report is checked from the image
headers of **every** file before **any** pixel is decoded (``Image.open`` reads the header only),
so five 39-megapixel PNGs of 154 KB each are refused without decoding one. Pillow's own
decompression-bomb guard is set to the same per-image budget and its warning or error becomes the
same 413. The decoding itself runs in a separate process with a time and memory cap
(``domain/evidence_worker.py``). Everything here is plain Python and can run in that worker.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf")
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}

# PDF keys that carry scripts, actions, embedded or attached files, forms (AcroForm and XFA),
# rich media or metadata. pikepdf gives names already decoded (``/J#61vaScript`` is
# ``/JavaScript``), so escaped spellings are caught by the same keys.
PDF_REMOVED_KEYS = frozenset({
    "/OpenAction", "/AA", "/A", "/JS", "/JavaScript", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/EF",
    "/FileAttachment", "/RichMedia", "/RichMediaContent", "/RichMediaSettings", "/AcroForm", "/XFA",
    "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Metadata", "/PieceInfo", "/URI", "/Next",
})
PDF_REMOVED_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D",
                                     "/Widget"})
MAX_PDF_PAGES = 500


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


@dataclass(frozen=True)
class EvidenceLimits:
    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 25_000_000  # per image
    max_report_pixels: int = 60_000_000  # all images of one report together


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


def _err(loc: list[str | int], msg: str, type_: str = "value_error") -> dict[str, object]:
    return {"loc": loc, "msg": msg, "type": type_}


def _loc(index: int) -> list[str | int]:
    return ["body", "evidence", index]


def _mp(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".rstrip("0").rstrip(".")


def _too_many_pixels(index: int, size: tuple[int, int] | None, limits: EvidenceLimits) -> PayloadTooLarge:
    what = (f" is {size[0]} x {size[1]} pixels ({_mp(size[0] * size[1])} megapixels);" if size
            else " has too many pixels;")
    return PayloadTooLarge(
        f"Evidence image {index + 1}{what} the limit is {_mp(limits.max_pixels)} megapixels per image. "
        "Please send a screenshot or a smaller copy.",
        errors=[_err(_loc(index), "image has too many pixels", "too_many_pixels")],
    )


def classify(data: bytes, *, index: int, limits: EvidenceLimits) -> str:
    """Size and type of one file, by content. Raises 413, 415 or 422 naming its position."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"Evidence file {index + 1} is larger than {limits.max_bytes} bytes.")
    if not data:
        raise ValidationFailed("An evidence file is empty.", errors=[_err(_loc(index), "empty file")])
    media_type = sniff(data)
    if media_type is None:
        raise UnsupportedMediaType(
            f"Evidence file {index + 1} is not an accepted type ({', '.join(ALLOWED_TYPES)}).",
            errors=[_err(_loc(index), "unsupported file type", "unsupported_media_type")],
        )
    return media_type


def image_size(data: bytes, media_type: str, *, index: int, limits: EvidenceLimits) -> tuple[int, int]:
    """The image's size from its header alone (no pixel is decoded). Pillow's own bomb guard
    (its error; in the evidence worker it is set to the per-image budget) is the same 413."""
    unreadable = ValidationFailed("An evidence image cannot be read.", errors=[_err(_loc(index), "unreadable image")])
    try:
        with warnings.catch_warnings():
            # over the budget, Pillow warns (we then report the size ourselves); over twice it, it raises
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if _PIL_FORMAT.get(media_type) != probe.format:
                    raise unreadable
                width, height = probe.size
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(index, None, limits) from exc
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise unreadable from exc
    if width * height > limits.max_pixels:
        raise _too_many_pixels(index, (width, height), limits)
    return width, height


def check_budget(files: Sequence[bytes], limits: EvidenceLimits) -> list[str]:
    """Every file's type, and the pixel budgets per image and per report, before any decoding."""
    types = [classify(data, index=i, limits=limits) for i, data in enumerate(files)]
    total = 0
    for i, (data, media_type) in enumerate(zip(files, types, strict=True)):
        if media_type == "application/pdf":
            continue
        width, height = image_size(data, media_type, index=i, limits=limits)
        total += width * height
        if total > limits.max_report_pixels:
            raise PayloadTooLarge(
                f"The evidence images of this report have more than {_mp(limits.max_report_pixels)} megapixels "
                f"together (image {i + 1} goes over). Please send fewer or smaller images.",
                errors=[_err(_loc(i), "report's images have too many pixels together", "too_many_pixels")],
            )
    return types


def sanitise_all(files: Sequence[bytes], limits: EvidenceLimits) -> list[CleanFile]:
    """Check all, then clean each. What the evidence worker runs."""
    types = check_budget(files, limits)
    return [_clean(data, media_type, index=i, limits=limits)
            for i, (data, media_type) in enumerate(zip(files, types, strict=True))]


def sanitise(data: bytes, *, index: int, max_bytes: int, max_pixels: int) -> CleanFile:
    """Validate and clean one file in this process (tests and tools; intake uses the worker)."""
    limits = EvidenceLimits(max_bytes=max_bytes, max_pixels=max_pixels, max_report_pixels=max_pixels)
    media_type = check_budget([data], limits)[0]
    return _clean(data, media_type, index=index, limits=limits)


def _clean(data: bytes, media_type: str, *, index: int, limits: EvidenceLimits) -> CleanFile:
    if media_type == "application/pdf":
        return CleanFile(media_type, clean_pdf(data, index=index))
    return CleanFile(media_type, reencode(data, media_type, index=index, limits=limits))


# --- PDF ----------------------------------------------------------------------------------------------


def _scrub(obj: Any, seen: set[tuple[int, int]]) -> None:
    """Remove active and metadata keys from every dictionary reachable from ``obj``."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Object) and item.is_indirect:
            og = item.objgen
            if og in seen:
                continue
            seen.add(og)
        if isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
            for key in list(item.keys()):
                if key in PDF_REMOVED_KEYS:
                    del item[key]
            for key in list(item.keys()):
                stack.append(item[key])
        elif isinstance(item, pikepdf.Array):
            stack.extend(list(item))


def clean_pdf(data: bytes, *, index: int) -> bytes:
    """Parse and rewrite with qpdf: no scripts, actions, embedded files, forms (AcroForm, XFA), rich
    media, document info or XMP metadata; escaped names are understood because qpdf decodes them.
    A file qpdf cannot parse, or that needs a password, is refused (422)."""
    loc = _loc(index)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise ValidationFailed(f"PDF evidence may have at most {MAX_PDF_PAGES} pages.",
                                       errors=[_err(loc, "PDF with too many pages")])
            for page in pdf.pages:
                annots = page.obj.get("/Annots")
                if isinstance(annots, pikepdf.Array):
                    keep = [a for a in annots if not (isinstance(a, pikepdf.Dictionary)
                                                      and a.get("/Subtype") in PDF_REMOVED_ANNOTATIONS)]
                    page.obj["/Annots"] = pikepdf.Array(keep)
            names = pdf.Root.get("/Names")
            if isinstance(names, pikepdf.Dictionary):
                for key in ("/JavaScript", "/EmbeddedFiles", "/XFAResources"):
                    if key in names:
                        del names[key]
            seen: set[tuple[int, int]] = set()
            _scrub(pdf.Root, seen)
            for obj in pdf.objects:  # objects not reachable from the catalogue are not written anyway
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    _scrub(obj, seen)
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                     deterministic_id=True)
            return out.getvalue()
    except DomainError:
        raise
    except pikepdf.PasswordError as exc:
        raise ValidationFailed("PDF evidence may not be password-protected.",
                               errors=[_err(loc, "encrypted PDF")]) from exc
    except (pikepdf.PdfError, ValueError, RuntimeError, OSError) as exc:
        raise ValidationFailed("An evidence file claims to be a PDF but cannot be read as one.",
                               errors=[_err(loc, "not a PDF")]) from exc


# --- images -------------------------------------------------------------------------------------------


def reencode(data: bytes, media_type: str, *, index: int, limits: EvidenceLimits) -> bytes:
    """Decode (the first frame only) and encode again from raw pixels. Call after ``image_size``."""
    bad = ValidationFailed("An evidence image cannot be read.", errors=[_err(_loc(index), "unreadable image")])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
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
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(index, None, limits) from exc
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
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
