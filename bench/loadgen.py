"""wrk driver: one Lua script per scenario that counts status classes per thread and prints
one JSON line at the end (latency percentiles from wrk's own histogram)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LOAD_CPU = "1"

STATS_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  c2 = 0; c3 = 0; c4 = 0; c429 = 0; c5 = 0; c503 = 0
  if bench_init then bench_init(args) end
end
function response(status, headers, body)
  if status >= 200 and status < 300 then c2 = c2 + 1
  elseif status >= 300 and status < 400 then c3 = c3 + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status == 503 then c503 = c503 + 1
  elseif status >= 500 then c5 = c5 + 1
  else c4 = c4 + 1 end
end
function done(summary, latency, requests)
  local t = {c2 = 0, c3 = 0, c4 = 0, c429 = 0, c5 = 0, c503 = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"max_us":%.1f,"mean_us":%.1f,' ..
    '"c2xx":%d,"c3xx":%d,"c4xx":%d,"c429":%d,"c5xx":%d,"c503":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    t.c2, t.c3, t.c4, t.c429, t.c5, t.c503))
end
"""


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    c2xx: int
    c3xx: int
    c4xx: int
    c429: int
    c5xx: int
    c503: int
    socket_errors: int
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def ok(self) -> int:
        return self.c2xx + self.c3xx


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    # Debian: `apt-get install wrk`. Only tried when running as root, never silently elsewhere.
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True, timeout=300)
    except Exception as exc:
        raise SystemExit(f"wrk is not installed and could not be installed ({exc}); run `apt-get install wrk`") from exc
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is not installed: run `apt-get install wrk`")
    return path


def run_wrk(url: str, *, connections: int, duration: float, script: str = "", timeout_s: int = 10) -> LoadResult:
    """Run wrk pinned to the load core. ``script`` is Lua placed before the stats code; it may
    set ``wrk.method/body/headers`` or define ``request()`` and ``bench_init(args)``."""
    wrk = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + "\n" + STATS_LUA)
        lua = f.name
    try:
        cmd = ["taskset", "-c", LOAD_CPU, wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
               f"--timeout={timeout_s}s", "-s", lua, url]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        Path(lua).unlink(missing_ok=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk produced no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    d = json.loads(line[len("BENCHJSON "):])
    return LoadResult(
        requests=d["requests"], duration_s=d["duration_us"] / 1e6,
        p50_ms=d["p50_us"] / 1000, p90_ms=d["p90_us"] / 1000, p99_ms=d["p99_us"] / 1000, max_ms=d["max_us"] / 1000,
        c2xx=d["c2xx"], c3xx=d["c3xx"], c4xx=d["c4xx"], c429=d["c429"], c5xx=d["c5xx"], c503=d["c503"],
        socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"],
    )


def lua_string(s: str) -> str:
    return "[==[" + s + "]==]"


def lua_headers(headers: dict[str, str]) -> str:
    # "[ [==[" with spaces: "[[" would open a Lua long string
    return "{" + ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()) + "}"


def get_script(headers: dict[str, str] | None = None) -> str:
    if not headers:
        return ""
    return "".join(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}\n" for k, v in headers.items())


def post_script(path: str, body_template: str, headers: dict[str, str] | None = None) -> str:
    """POST with a body made unique per request: ``{{N}}`` in the template becomes a counter
    (thread-unique), so dedupe/incident keys never collapse two requests into one."""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    prefix, _, suffix = body_template.partition("{{N}}")
    return f"""
local n = 0
math.randomseed(os.time())
local tid = tostring(math.random(1, 1000000000))
local hdrs = {lua_headers(hdrs)}
local prefix = {lua_string(prefix)}
local suffix = {lua_string(suffix)}
function request()
  n = n + 1
  return wrk.format("POST", {lua_string(path)}, hdrs, prefix .. tid .. "-" .. n .. suffix)
end
"""


def mixed_script(steps: list[tuple[str, str, dict[str, str], str | None]]) -> str:
    """Round-robin over (method, path, headers, body-template-or-None)."""
    entries = []
    for method, path, headers, body in steps:
        prefix, _, suffix = (body or "").partition("{{N}}")
        entries.append(
            f"{{{lua_string(method)}, {lua_string(path)}, {lua_headers(headers)}, "
            f"{lua_string(prefix)}, {lua_string(suffix)}, {'true' if body else 'false'}}}"
        )
    return f"""
local steps = {{{", ".join(entries)}}}
local n = 0
math.randomseed(os.time())
local tid = tostring(math.random(1, 1000000000))
function request()
  n = n + 1
  local s = steps[(n % #steps) + 1]
  local body = nil
  if s[6] then body = s[4] .. tid .. "-" .. n .. s[5] end
  return wrk.format(s[1], s[2], s[3], body)
end
"""
