"""Importing posts for monitoring reviews (R-24-89 §1.A.5), at any size.

A file (CSV, an archiving service's CSV export, a JSON array or JSON Lines) is read as a stream of
rows and stored in batches, one unit of work per batch, so memory and transaction length stay
bounded whatever the file's size (the CLI's 20,000-row import and the API's streamed upload use
the same ``import_stream``). Every row is validated on its own: a refused row is reported with its
row number and reason and never aborts the others. Idempotent on the normalised post URL
(``shared.post_urls.incident_key``, as feedback_api), so a re-run or a retried chunk imports
nothing twice. Each stored post is scored by the risk scorer (domain/risk.py) on the way in.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from pydantic import AnyHttpUrl, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.case_api.domain import audit
from services.case_api.domain.models import MonitoredAccount, MonitoredPost
from services.case_api.domain.risk import Scorer, default_scorer
from shared.db import Database
from shared.post_urls import InvalidPostUrl, incident_key, normalise_post_url

MAX_TEXT = 10000
MAX_THREAD = 200
MAX_URL = 2000
BATCH_SIZE = 500
MAX_REASONS = 1000  # refused rows reported one by one; past this only counted
FORMATS = ("csv", "archivesocial", "json")

_ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "post url", "post_url", "permalink", "link", "post link"),
    "account": ("account_id", "account", "account name", "handle", "username", "screen name", "page"),
    "posted_at": ("posted_at", "timestamp", "date", "created", "created at", "created_at", "post date",
                  "published", "date posted"),
    "text": ("text", "content", "message", "body", "post text", "post content", "caption"),
    "thread": ("comments", "comment thread", "replies", "thread", "comments_json"),
    "screenshot": ("screenshot", "screenshot_url", "screenshot url", "capture", "capture url", "image url",
                   "media url"),
}

_HTTP_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


@dataclass
class ImportResult:
    received: int = 0
    imported: int = 0
    duplicates: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    refused_total: int = 0

    def add(self, other: ImportResult, keep: int = MAX_REASONS) -> None:
        self.received += other.received
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.refused_total += other.refused_total
        self.refused.extend(other.refused[: max(0, keep - len(self.refused))])


@dataclass(frozen=True)
class CheckedUrl:
    original: str
    normalised: str
    key: str


def check_url(value: Any, *, what: str = "post URL") -> CheckedUrl:
    """A full http(s) address with a real host name and a path; raises ValueError with the reason.
    Parsed by pydantic's URL parser (the WHATWG rules), never fetched."""
    raw = str(value or "").strip()
    if not raw:
        raise ValueError(f"missing {what}")
    if len(raw) > MAX_URL:
        raise ValueError(f"{what} longer than {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in raw):
        raise ValueError(f"{what} {raw[:80]!r} contains spaces or control characters")
    if not raw.lower().startswith(("https://", "http://")):
        raise ValueError(f"{what} {raw[:80]!r} is not an http(s) address")
    try:
        parsed = _HTTP_URL.validate_python(raw)
    except PydanticValidationError as exc:
        msg = exc.errors()[0]["msg"].removeprefix("Input should be a valid URL, ")
        raise ValueError(f"{what} {raw[:80]!r} is not a valid address: {msg}") from exc
    host = parsed.host or ""
    if parsed.username or parsed.password:
        raise ValueError(f"{what} carries a user name or password")
    if "." not in host or host.replace(".", "").isdigit() or host.startswith("["):
        raise ValueError(f"{what} {raw[:80]!r}: the host {host!r} is not a public domain name")
    if (parsed.path or "/") == "/" and not parsed.query:
        raise ValueError(f"{what} {raw[:80]!r} names a site, not a post")
    try:
        return CheckedUrl(original=raw, normalised=normalise_post_url(raw), key=incident_key(raw))
    except InvalidPostUrl as exc:
        raise ValueError(f"{what}: {exc}") from exc


def parse_time(value: Any, now: datetime) -> datetime:
    dt: datetime | None = None
    if isinstance(value, datetime):
        dt = value
    else:
        s = str(value or "").strip()
        if not s:
            raise ValueError("missing timestamp")
        if len(s) > 40:
            raise ValueError("unreadable timestamp")
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y", "%Y-%m-%d %H:%M"):
                try:
                    dt = datetime.strptime(s, fmt)  # archive exports are in UTC
                    break
                except ValueError:
                    continue
        if dt is None:
            raise ValueError(f"unreadable timestamp {s[:40]!r}")
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if dt > now + timedelta(minutes=5):
        raise ValueError("timestamp is in the future")
    return dt


def parse_thread(value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        items = value
    else:
        s = str(value).strip()
        if s.startswith("["):
            items = json.loads(s)
            if not isinstance(items, list):
                raise ValueError("comments must be a list")
        else:  # one comment per line, "author: text"
            items = []
            for line in s.splitlines():
                if line.strip():
                    author, sep, text = line.partition(":")
                    items.append({"author": author.strip(), "text": text.strip()} if sep else {"text": line.strip()})
    out = []
    for item in items[:MAX_THREAD]:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            raise ValueError("each comment must be an object or a string")
        out.append({"author": str(item.get("author") or "")[:200] or None, "text": str(item.get("text") or "")[:2000],
                    "at": str(item.get("at") or item.get("timestamp") or "")[:40] or None})
    return out


def _pick(row: dict[str, Any], name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for alias in _ALIASES[name]:
        if alias in lowered and lowered[alias] not in (None, ""):
            return lowered[alias]
    return None


# --- reading files as streams of rows ----------------------------------------------------


def rows_from_csv_text(text: str) -> list[dict[str, Any]]:
    return list(iter_rows(io.StringIO(text.lstrip("\ufeff")), "csv"))


def iter_rows(stream: IO[str], fmt: str) -> Iterator[dict[str, Any]]:
    """Rows of a text stream (opened with ``utf-8-sig`` and ``newline=""``), read lazily: CSV (a
    header row, any of the aliases), or JSON as an array (read whole: keep those small) or JSON
    Lines (one object a line, streamed)."""
    if fmt in ("csv", "archivesocial"):
        for r in csv.DictReader(stream):
            yield dict(r)
        return
    if fmt != "json":
        raise ValueError(f"unknown format {fmt!r}")
    lines = iter(stream)
    for first in lines:
        if first.strip():
            break
    else:
        return
    if first.lstrip().startswith("["):
        rows = json.loads(first + "".join(lines))
        for r in rows if isinstance(rows, list) else [rows]:
            yield r if isinstance(r, dict) else {"_not_an_object": r}
        return
    for n, line in enumerate(itertools.chain([first], lines), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            yield {"_unreadable": f"line {n} is not JSON"}
            continue
        yield obj if isinstance(obj, dict) else {"_not_an_object": obj}


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- storing -----------------------------------------------------------------------------


def import_stream(db: Database, *, rows: Iterable[dict[str, Any]], source: str, now: datetime, actor: str,
                  default_account: str | None = None, first_row: int = 1, batch_size: int = BATCH_SIZE,
                  scorer: Scorer | None = None, progress: Callable[[int], None] | None = None,
                  keep_reasons: int = MAX_REASONS) -> ImportResult:
    """Import rows in batches of ``batch_size``, one write unit per batch (a crash keeps the
    batches before it; re-running is safe). ``progress(n)`` is told after each batch; the reasons
    of the first ``keep_reasons`` refused rows are kept (all are counted)."""
    scorer = scorer or default_scorer()
    total = ImportResult()
    n = first_row
    for batch in _batches(rows, batch_size):
        with db.write() as s:
            part = import_batch(s, rows=batch, source=source, now=now, default_account=default_account,
                                first_row=n, scorer=scorer)
        total.add(part, keep_reasons)
        n += len(batch)
        if progress is not None:
            progress(len(batch))
    with db.write() as s:
        audit.append(s, actor=actor, action="monitoring.imported", case_id=None,
                     detail={"source": source, "received": total.received, "imported": total.imported,
                             "duplicates": total.duplicates, "refused": total.refused_total}, now=now)
    return total


@dataclass(frozen=True)
class _Good:
    row: int
    url: CheckedUrl
    account_id: str
    posted_at: datetime
    text: str
    thread: list[dict[str, Any]]
    screenshot: str | None


def import_batch(session: Session, *, rows: list[dict[str, Any]], source: str, now: datetime,
                 default_account: str | None, first_row: int, scorer: Scorer) -> ImportResult:
    """Validate every row, then store the new ones: one query for the accounts, one for the URLs
    already known, one flush. A URL that another import stored meanwhile (IntegrityError) is
    retried row by row with a savepoint each, so the batch still keeps its good rows."""
    result = ImportResult(received=len(rows))
    accounts = session.exec(select(MonitoredAccount.account_id, MonitoredAccount.handle)).all()
    ids = {a for a, _ in accounts}
    handles = {h.lstrip("@").lower(): a for a, h in accounts}
    good: list[_Good] = []
    seen_keys: set[str] = set()
    for n, row in enumerate(rows, start=first_row):
        try:
            g = _validate(row, n=n, now=now, default_account=default_account, ids=ids, handles=handles)
        except ValueError as exc:
            result.refused_total += 1
            result.refused.append({"row": n, "reason": str(exc)})
            continue
        if g.url.key in seen_keys:
            result.duplicates += 1
            continue
        seen_keys.add(g.url.key)
        good.append(g)
    keys = [g.url.key for g in good]
    known = set(session.exec(select(MonitoredPost.url_key).where(col(MonitoredPost.url_key).in_(keys))).all()
                ) if keys else set()
    fresh = [g for g in good if g.url.key not in known]
    result.duplicates += len(good) - len(fresh)
    handle_of = {a: h.lstrip("@").lower() for a, h in accounts}
    posts = [_post(g, source=source, now=now, scorer=scorer, handle=handle_of.get(g.account_id, "")) for g in fresh]
    try:
        with session.begin_nested():
            session.add_all(posts)
            session.flush()
        result.imported += len(posts)
    except IntegrityError:
        for g in fresh:
            try:
                with session.begin_nested():
                    session.add(_post(g, source=source, now=now, scorer=scorer,
                                      handle=handle_of.get(g.account_id, "")))
                    session.flush()
                result.imported += 1
            except IntegrityError:
                result.duplicates += 1
    return result


def _validate(row: dict[str, Any], *, n: int, now: datetime, default_account: str | None, ids: set[str],
              handles: dict[str, str]) -> _Good:
    if "_unreadable" in row:
        raise ValueError(str(row["_unreadable"]))
    if "_not_an_object" in row:
        raise ValueError("a row must be an object")
    url = check_url(_pick(row, "url"))
    raw_account = _pick(row, "account")
    account = str(raw_account).strip() if raw_account not in (None, "") else (default_account or "")
    if not account:
        raise ValueError("no account (give account_id, or a handle known to the registry)")
    if account not in ids:
        key = account.lstrip("@").lower()
        if key not in handles:
            raise ValueError(f"unknown account {account[:60]!r}: sync the registry first")
        account = handles[key]
    posted_at = parse_time(_pick(row, "posted_at"), now)
    text = str(_pick(row, "text") or "")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters")
    try:
        thread = parse_thread(_pick(row, "thread"))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable comment thread: {exc}") from exc
    shot = _pick(row, "screenshot")
    screenshot = check_url(shot, what="screenshot URL").original if shot not in (None, "") else None
    return _Good(row=n, url=url, account_id=account, posted_at=posted_at, text=text, thread=thread,
                 screenshot=screenshot)


def _post(g: _Good, *, source: str, now: datetime, scorer: Scorer, handle: str) -> MonitoredPost:
    """The post is scored, and so is each of the account's own replies in its thread (the
    incidents behind R-24-89 were replies to residents), each against the comment before it;
    the post keeps the highest score."""
    assessment = scorer.assess(g.text)
    previous: str | None = g.text
    for c in g.thread:
        text = str(c.get("text") or "")
        if text and handle and str(c.get("author") or "").lstrip("@").lower() == handle:
            reply = scorer.assess(text, replying_to=previous)
            if reply.score > assessment.score:
                assessment = reply
        previous = text or previous
    return MonitoredPost(url=g.url.normalised, original_url=g.url.original, url_key=g.url.key,
                         account_id=g.account_id, posted_at=g.posted_at, text=g.text, thread=g.thread,
                         screenshot_url=g.screenshot, source=source, imported_at=now,
                         risk_score=assessment.score, risk_rules=[h.rule for h in assessment.hits])
