"""Post URLs: many reports of the same post become one incident, and a post found in a monitoring
review lands on the same case as the public's reports of it (feedback_api and case_api both use this).

``incident_key`` is the SHA-256 of the normalised post URL. Normalising makes the usual variants of
one post's address agree: scheme and host case, ``www.``/``m.``/``mobile.`` hosts, twitter.com vs
x.com, default ports, trailing slashes, fragments, and tracking parameters (``utm_*``, ``fbclid``...).
Parameters that identify content (``v`` on YouTube, ``story_fbid``/``id`` on Facebook) are kept.
The URL is only parsed, never fetched.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_HOST_PREFIXES = ("www.", "m.", "mobile.", "mbasic.", "web.")
_HOST_ALIASES = {
    "twitter.com": "x.com",
    "fb.com": "facebook.com",
    "youtu.be": "youtube.com",
    "instagr.am": "instagram.com",
}
_TRACKING_PREFIXES = ("utm_", "__cft__", "__tn__", "mibextid")
_TRACKING = frozenset({
    "fbclid", "gclid", "igshid", "igsh", "si", "s", "t", "ref", "ref_src", "ref_url", "rdid", "share_id",
    "feature", "app", "mc_cid", "mc_eid", "_rdr", "rdt", "sfnsn", "xmt", "refsrc", "hc_ref", "notif_id",
    "notif_t", "comment_tracking", "is_from_webapp", "sender_device", "lang", "hl",
})


class InvalidPostUrl(ValueError):
    pass


def normalise_post_url(url: str) -> str:
    raw = url.strip()
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:
        raise InvalidPostUrl("the link is not a valid address") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidPostUrl("only http(s) links can be reported")
    host = (hostname or "").lower().rstrip(".")
    if not host:
        raise InvalidPostUrl("the link has no host")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    host = _HOST_ALIASES.get(host, host)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path or "/"
    if url.strip().lower().find("youtu.be/") != -1 and path.strip("/"):
        # youtu.be/<id> is youtube.com/watch?v=<id>
        query = [("v", path.strip("/"))]
        path = "/watch"
    else:
        query = []
    while "//" in path:
        path = path.replace("//", "/")
    if len(path) > 1:
        path = path.rstrip("/")
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        lowered = key.lower()
        if lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES):
            continue
        query.append((key, value))
    return urlunsplit(("https", netloc, path, urlencode(sorted(set(query))), ""))


def incident_key(url: str) -> str:
    """The key case_api groups reports by. Deterministic, not secret (post URLs are public)."""
    return hashlib.sha256(("incident:v1:" + normalise_post_url(url)).encode()).hexdigest()
