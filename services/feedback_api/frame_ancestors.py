"""Which City pages may embed the widget: ``FEEDBACK_API_FRAME_ANCESTORS`` in CSP source syntax.

Each entry is a CSP host-source limited to what an *origin* can be (CSP Level 3, §2.3.1):
``scheme://host[:port]`` where the host may start with ``*.`` (any subdomain, not the apex) and
the port may be ``*``. Paths, queries, bare hosts, ``'self'`` and a lone ``*`` are refused: an
entry the browser would read differently from us (a path is ignored by ``frame-ancestors``
matching; a bare host allows ``http:`` too) is a configuration mistake, so the service refuses
to start and says which entry and why, instead of dropping it silently.

The same parsed entries decide two things: the CSP header (the browser's check) and whether a
``parent`` origin named by the loader is trusted as the ``postMessage`` target (our check).
Written here rather than taken from a library because no maintained Python package parses
*and* matches CSP sources; the grammar is small and the tests cover each rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SCHEMES = ("https", "http")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_ENTRY = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^:/?#]+)(:(?P<port>[0-9]{1,5}|\*))?(?P<rest>.*)$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class InvalidAncestor(ValueError):
    """An entry of FEEDBACK_API_FRAME_ANCESTORS that is not a CSP origin source."""


@dataclass(frozen=True)
class Source:
    scheme: str
    host: str  # lower case; starts with "*." for a subdomain wildcard
    port: str | None  # digits, "*", or None (the scheme's default)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")

    def matches(self, origin: str) -> bool:
        parsed = _ENTRY.match(origin.strip().lower())
        if parsed is None or parsed.group("rest") or parsed.group("port") == "*":
            return False
        scheme, host = parsed.group("scheme"), parsed.group("host")
        port = parsed.group("port") or _DEFAULT_PORTS.get(scheme)
        if scheme != self.scheme:
            return False
        if self.host.startswith("*."):
            if not host.endswith(self.host[1:]) or host == self.host[2:]:
                return False
        elif host != self.host:
            return False
        return self.port == "*" or port == (self.port or _DEFAULT_PORTS.get(self.scheme))


def parse_source(entry: str) -> Source:
    text = entry.strip()
    parsed = _ENTRY.match(text.lower())
    if parsed is None:
        raise InvalidAncestor(f"{entry!r} is not scheme://host[:port] (for example https://www.cabq.gov)")
    scheme, host, port, rest = parsed.group("scheme", "host", "port", "rest")
    if scheme not in _SCHEMES:
        raise InvalidAncestor(f"{entry!r}: the scheme must be https or http")
    if rest not in ("", "/"):
        raise InvalidAncestor(f"{entry!r}: no path, query or fragment (frame-ancestors matches origins only)")
    if not _HOST.match(host):
        raise InvalidAncestor(f"{entry!r}: {host!r} is not a host name (a '*.' prefix is the only wildcard)")
    if port not in (None, "*") and not 0 < int(port) <= 65535:
        raise InvalidAncestor(f"{entry!r}: the port must be 1-65535 or *")
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return Source(scheme=scheme, host=host, port=port)


def parse_all(entries: Iterable[str]) -> list[Source]:
    """Every entry parsed, or ``InvalidAncestor`` naming each entry that is wrong."""
    sources: list[Source] = []
    problems: list[str] = []
    for entry in entries:
        try:
            sources.append(parse_source(entry))
        except InvalidAncestor as exc:
            problems.append(str(exc))
    if problems:
        raise InvalidAncestor("FEEDBACK_API_FRAME_ANCESTORS: " + "; ".join(problems))
    return sources


def directive_value(sources: Iterable[Source]) -> str:
    """The ``frame-ancestors`` value: the sources, or ``'none'`` when there are none."""
    return " ".join(str(s) for s in sources) or "'none'"


def trusted_parent(sources: Iterable[Source], parent: str | None) -> str | None:
    """``parent`` (an origin the loader reports) when a source matches it, else ``None``."""
    if not parent:
        return None
    origin = parent.strip().rstrip("/").lower()
    return origin if any(s.matches(origin) for s in sources) else None
