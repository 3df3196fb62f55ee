"""Structured JSON logs (structlog) with a request id.

Privacy rule: no log line carries a client address, user agent, referer, query
string or request body. Uvicorn's access log (which prints client addresses) is
turned off; ``RequestContextMiddleware`` writes our own access line instead.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

import structlog

_configured = False


class _LineWriter:
    """structlog's output: one flushed line per event, one lock shared with the access log so
    lines from the event loop and from worker threads never interleave."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream  # None: whatever sys.stdout is at write time (tests capture it)
        self.lock = threading.Lock()

    def msg(self, message: str) -> None:
        stream = self.stream or sys.stdout
        with self.lock:
            stream.write(message + "\n")
            stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = failure = msg


class _AccessLog:
    json = True
    enabled = True
    writer = _LineWriter()


# The access line's fields are almost always plain tokens (an HTTP method, a route template of
# ours, a request id the middleware has checked): those are written with an f-string, anything
# else goes through json.dumps. Measured in-process on /healthz: json.dumps and a microsecond
# isoformat were 7 of the line's 11 us.
_PLAIN = re.compile(r"[A-Za-z0-9_./{}:<>-]{0,200}")


class _Stamp:
    """The access line's timestamp, to the second (no finer than an access log needs), formatted
    once per second."""

    second = -1
    text = ""

    @classmethod
    def now(cls) -> str:
        second = int(time.time())
        if second != cls.second:
            cls.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            cls.second = second
        return cls.text


def access_line(*, method: str, route: str, status: int, duration_ms: float, request_id: str) -> None:
    """The access line for one request, in the same JSON shape as every other log line.

    It skips structlog's processor chain: measured with wrk on a bare Starlette app, that chain
    (context copy, timestamper, renderer) plus the old context clearing took ~50 us a request,
    as long as the whole bare request. Console logs (``log_json=false``, local use) still go
    through structlog."""
    if not _AccessLog.enabled:
        return
    if not _AccessLog.json:
        structlog.get_logger("access").info("request", request_id=request_id, method=method, route=route,
                                            status=status, duration_ms=duration_ms)
        return
    stamp = _Stamp.now()
    if _PLAIN.fullmatch(method) and _PLAIN.fullmatch(route) and _PLAIN.fullmatch(request_id):
        line = (f'{{"method": "{method}", "route": "{route}", "status": {int(status)}, '
                f'"duration_ms": {float(duration_ms)}, "event": "request", "request_id": "{request_id}", '
                f'"level": "info", "timestamp": "{stamp}"}}')
    else:
        line = jsonlib.dumps({"method": method, "route": route, "status": int(status),
                              "duration_ms": float(duration_ms), "event": "request", "request_id": request_id,
                              "level": "info", "timestamp": stamp})
    _AccessLog.writer.msg(line)


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    writer = _LineWriter()
    _AccessLog.writer, _AccessLog.json = writer, json
    _AccessLog.enabled = logging.getLevelName(level.upper()) <= logging.INFO
    structlog.configure(
        processors=[*shared_processors, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: writer,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # uvicorn.access logs "client_ip:port - request line": never let it run.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
