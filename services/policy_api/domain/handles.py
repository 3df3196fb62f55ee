"""One account, one registry entry (issue 20 item 6): handles are compared by a normal form.

``ABQPolice.bsky.social``, ``@abqpolice.bsky.social`` and ``https://bsky.app/profile/abqpolice.bsky.social``
are the same account. Pure: no I/O. The shown handle keeps its case (``clean``); uniqueness is on
``handle_key`` with the platform."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

#: Hosts whose profile URLs are accepted in place of a handle.
PROFILE_HOSTS = ("bsky.app", "facebook.com", "fb.com", "m.facebook.com", "x.com", "twitter.com",
                 "mobile.twitter.com", "instagram.com", "youtube.com", "m.youtube.com", "nextdoor.com",
                 "tiktok.com", "threads.net", "linkedin.com")
#: Path segments that come before the handle in a profile URL (bsky.app/profile/x, youtube.com/c/x...).
_PREFIXES = {"profile", "c", "user", "channel", "u", "agency", "pages", "company", "in", "pg", "people"}
_SPACES = re.compile(r"\s+")


def _is_url(raw: str) -> bool:
    lowered = raw.lower()
    if lowered.startswith(("http://", "https://", "www.")):
        return True
    host = lowered.split("/", 1)[0]
    return "/" in lowered and host.removeprefix("www.") in PROFILE_HOSTS


def clean(raw: str) -> str:
    """The handle as shown: a profile URL reduced to the handle in it, spaces trimmed and collapsed; case
    and a leading ``@`` kept as given."""
    text = _SPACES.sub(" ", raw).strip()
    if not _is_url(text):
        return text
    url = urlsplit(text if "://" in text else f"https://{text}")
    segments = [s for s in url.path.split("/") if s]
    if segments and segments[0].lower() == "profile.php":
        ident = parse_qs(url.query).get("id", [""])[0]
        return f"profile.php?id={ident}" if ident else text
    while segments and segments[0].lower() in _PREFIXES and len(segments) > 1:
        segments = segments[1:]
    return segments[0] if segments else text


def handle_key(raw: str) -> str:
    """The normal form compared for uniqueness: ``clean``, without a leading ``@``, lower-cased."""
    return clean(raw).lstrip("@").strip().casefold()
