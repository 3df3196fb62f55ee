"""``python -m bench [--quick] [--db sqlite|postgresql|both] [--only ROW,...] [--no-profile] [--cases N]``

One run measures the baselines (always: every ratio is to the bare Starlette hello of the same
run) and the scenarios, prints the table with the targets of issues #9 and #13 and whether each
is met, and writes ``bench/RESULTS.md``. A scenario that cannot run (its probe request fails) is
reported as "not available" with the reason, and the run goes on. ``--only`` runs the named rows
alone (``python -m bench --only intake_burst --db sqlite``); ``--list`` names them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, text

from bench import baselines
from bench.blackhole import BlackHole
from bench.loadgen import LOAD_CPU, LoadResult, get_script, mixed_script, post_script, run_wrk
from bench.seed import run_demo_loaders, seed_cases
from bench.servers import REPO, Server, Stack, hello_server, rss_bytes
from shared.auth import issue_dev_token
from shared.db import make_engine
from shared.settings import AuthSettings

RESULTS = REPO / "bench" / "RESULTS.md"
MIB = 1024 * 1024


@dataclass
class Row:
    scenario: str
    db: str
    conns: int
    result: LoadResult | None = None
    rss_growth_mib: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Config:
    duration: float
    warmup: float
    cases: int
    profile: bool
    baseline_db_seconds: float
    only: frozenset[str] = frozenset()
    burst_idle: float = 30.0

    def wants(self, row: str) -> bool:
        return not self.only or row in self.only


@dataclass
class Run:
    cfg: Config
    rows: list[Row] = field(default_factory=list)
    baselines: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    load_start: str = ""
    #: measures the hello again (set by main while the hello server runs); returns req/s
    remeasure: Callable[[], float] | None = None
    hello_now: float = 0.0
    hello_log: list[str] = field(default_factory=list)

    @property
    def hello(self) -> float:
        """The hello the rows are divided by: the one measured just before the current scenario
        (this machine's speed drifted 2x within one run: 11.5k req/s at the start of the 15:50 run,
        23.6k at its end), else the run's first."""
        return self.hello_now or self.baselines.get("hello_rps", 0.0)

    def refresh_hello(self, before: str) -> None:
        if self.remeasure is None:
            return
        self.hello_now = self.remeasure()
        self.hello_log.append(f"{before}: {self.hello_now:,.0f}")


def measure(server: Server, url: str, *, conns: int, cfg: Config, script: str = "",
            rounds: int = 1) -> tuple[LoadResult, float]:
    """Warm up, then measure; RSS growth is the server's RSS after the measured run(s) minus
    after the warm-up (so first-request allocations are not counted as growth)."""
    run_wrk(url, connections=min(conns, 32), duration=cfg.warmup, script=script)
    settle(server)
    before = rss_bytes(server.pid)
    result = None
    for _ in range(rounds):
        result = run_wrk(url, connections=conns, duration=cfg.duration, script=script)
    assert result is not None
    return result, (rss_bytes(server.pid) - before) / MIB


def settle(server: Server, timeout: float = 60.0) -> float:
    """Wait until the requests wrk left in flight are done (slow endpoints keep working after
    wrk stops), so one measurement does not pay for the previous one's backlog. Returns the
    seconds it waited."""
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            # /readyz is a ``def`` endpoint: it queues behind whatever still holds the thread pool
            # (an ``async`` route such as /openapi.json answers at once however deep the backlog).
            # The baselines have no such route: 404 is fine; a 503 (--limit-concurrency, or the
            # database pool) is not "settled".
            ok = httpx.get(server.url + "/readyz", timeout=timeout).status_code != 503
        except httpx.HTTPError:
            ok = False
        if ok and time.perf_counter() - t0 < 0.05:
            break
        time.sleep(0.2)
    return time.monotonic() - start


def report_body(marker: str = "{{N}}") -> str:
    return json.dumps({
        "account_text": "City of Albuquerque (bench)",
        "platform": "facebook",
        "links": [f"https://www.facebook.com/cabq/posts/bench-{marker}"],
        "categories": ["personal_attack"],
        "description": "The official account replied to a resident with a personal insult. (benchmark)",
    })


# --- scenarios ------------------------------------------------------------------------------


ROWS = ("healthz", "policy_reads", "transparency", "intake_burst", "outage_drain", "finding_probe", "report_post",
        "receipt_status", "write_path_without_hash", "widget_mixed", "case_list", "policy_overload", "draft_check")

# The intake burst and outage drain rows (issue #13): fixed by the issue, the same in --quick.
BURST_REPORTS, BURST_SECONDS = 600, 30.0
WIDGET_GETS = ("/widget/v1/loader.js", "/widget/v1/frame", "/v1/public/options", "/v1/public/accounts",
               "/v1/public/policies")
OUTAGE_SECONDS, OUTAGE_RATE, DRAIN_TARGET_S = 60.0, 2.0, 30.0
UNDELIVERED = "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND NOT dead"


def db_scalar(url: str, sql: str, **params: Any) -> Any:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            stmt = text(sql)
            for k, v in params.items():
                if isinstance(v, list | tuple):
                    stmt = stmt.bindparams(bindparam(k, expanding=True))
            return conn.execute(stmt, params).scalar()
    finally:
        engine.dispose()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def pool_ready(url: str) -> str:
    """feedback_api's pre-made receipts (``civicsocial_receipt_pool_ready`` on /metrics), as text."""
    try:
        for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
            if line.startswith("civicsocial_receipt_pool_ready "):
                return str(int(float(line.split()[1])))
    except httpx.HTTPError:
        pass
    return "unknown"


def trickle(url: str, *, rate: float, count: int, tag: str) -> dict[str, Any]:
    """``bench/trickle.py`` (open-loop report POSTs on a fixed schedule) pinned to the load core."""
    cmd = ["taskset", "-c", LOAD_CPU, sys.executable, "-m", "bench.trickle", url, "--rate", str(rate),
           "--count", str(count), "--tag", tag]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=count / rate + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("TRICKLEJSON ")), None)
    if line is None:
        raise RuntimeError(f"trickle produced no result: {out.stderr[-400:]}")
    data: dict[str, Any] = json.loads(line[len("TRICKLEJSON "):])
    return data


def trickle_result(t: dict[str, Any]) -> LoadResult:
    st: dict[str, int] = t["statuses"]
    by = Counter({int(k): v for k, v in st.items()})
    ok = sum(v for k, v in by.items() if 200 <= k < 300)
    errors: dict[str, int] = t["errors"]
    return LoadResult(
        requests=sum(by.values()), duration_s=float(t["wall_s"]),
        p50_ms=float(t["p50_ms"]), p90_ms=float(t["p90_ms"]), p99_ms=float(t["p99_ms"]),
        max_ms=float(t["max_ms"]), c2xx=ok, c3xx=sum(v for k, v in by.items() if 300 <= k < 400),
        c4xx=sum(v for k, v in by.items() if 400 <= k < 500 and k != 429), c429=by[429],
        c5xx=sum(v for k, v in by.items() if k >= 500 and k != 503), c503=by[503],
        socket_errors=sum(errors.values()),
    )


def delivered_once(fdb: str, cdb: str, references: list[str]) -> tuple[int, int, int]:
    """(reports stored for these references, case links to them, distinct reports linked)."""
    if not references:
        return 0, 0, 0
    ids = make_engine(fdb, pool_size=1)
    try:
        with ids.connect() as conn:
            stmt = text("SELECT id FROM submissions WHERE reference IN :refs").bindparams(
                bindparam("refs", expanding=True))
            report_ids = [str(r[0]) for r in conn.execute(stmt, {"refs": references})]
    finally:
        ids.dispose()
    if not report_ids:
        return 0, 0, 0
    links = int(db_scalar(cdb, "SELECT count(*) FROM case_reports WHERE report_id IN :ids", ids=report_ids))
    distinct = int(db_scalar(cdb, "SELECT count(DISTINCT report_id) FROM case_reports WHERE report_id IN :ids",
                             ids=report_ids))
    return len(report_ids), links, distinct


def scenarios_for(stack: Stack, run: Run, db: str) -> None:
    cfg = run.cfg
    s = stack.servers
    pol, fb, case = s["policy_api"], s["feedback_api"], s["case_api"]
    fdb, cdb = stack.db_urls["feedback_api"], stack.db_urls["case_api"]
    auth = AuthSettings(dev_key_file=stack.key_file)
    state: dict[str, str | None] = {"policy_id": None, "receipt": None}

    def token(*roles: str, department: str | None = None) -> str:
        return issue_dev_token(auth, "dev", subject="bench-staff", roles=list(roles), department=department)

    def add(name: str, conns: int, result: LoadResult | None, growth: float | None, *, target: str = "",
            ratio: float | None = None, met: bool | None = None, note: str = "") -> Row:
        row = Row(name, db, conns, result, growth, ratio, target, met, note)
        run.rows.append(row)
        print(format_row(row), flush=True)
        return row

    def unavailable(name: str, why: str, target: str = "") -> None:
        add(name, 0, None, None, target=target, note=f"not available: {why}")

    def first_policy() -> str | None:
        if state["policy_id"] is None:
            r = httpx.get(pol.url + "/v1/policies?limit=5", timeout=10)
            r.raise_for_status()
            items = r.json().get("items", [])
            state["policy_id"] = items[0]["id"] if items else None
        return state["policy_id"]

    def wait_drained(timeout: float = 180.0) -> None:
        """Earlier rows leave outbox messages behind; the delivery rows start from an empty outbox."""
        if not wait_until(lambda: int(db_scalar(fdb, UNDELIVERED)) == 0, timeout, 0.5):
            run.notes.append(f"{db}: outbox still had {db_scalar(fdb, UNDELIVERED)} undelivered after {timeout:.0f} s")

    def healthz() -> None:
        """The kernel floor: /healthz of a service (FastAPI + the kernel's middleware, no database)."""
        r, g = measure(pol, pol.url + "/healthz", conns=32, cfg=cfg)
        ratio = r.rps / run.hello
        add("service /healthz (kernel floor)", 32, r, g, ratio=ratio, target=">= 0.40x hello",
            met=ratio >= 0.40 and r.c5xx == 0 and r.c503 == 0)

    def policy_reads() -> None:
        """Uncached (there is no response cache in the services any more): every request runs the queries."""
        r, g = measure(pol, pol.url + "/v1/policies", conns=32, cfg=cfg)
        read_row(add, "GET /v1/policies (list, uncached)", r, g, run, ratio_target=0.25, p99_target=25)
        pid = first_policy()
        if not pid:
            unavailable("GET /v1/policies/{id}", "no published policy (demo data missing)", ">= 0.25x hello")
            return
        url = f"{pol.url}/v1/policies/{pid}"
        r, g = measure(pol, url, conns=32, cfg=cfg)
        read_row(add, "GET /v1/policies/{id} (uncached)", r, g, run, ratio_target=0.25, p99_target=25)
        if profile_ok(run, "GET /v1/policies/{id}", db):
            run.profiles[f"GET /v1/policies/{{id}} ({db})"] = profile(pol, url, "", cfg)
        etag = httpx.get(url, timeout=10).headers.get("etag")
        if not etag:
            unavailable("GET /v1/policies/{id} 304", "no ETag on the policy response")
            return
        r, g = measure(pol, url, conns=32, cfg=cfg, script=get_script({"If-None-Match": etag}))
        row = read_row(add, "GET /v1/policies/{id} 304 (If-None-Match)", r, g, run, ratio_target=0.25,
                       p99_target=25)
        if r.c3xx == 0:
            row.note = "no 304 answered to If-None-Match"
            row.met = False

    def transparency() -> None:
        r, g = measure(pol, pol.url + "/transparency", conns=32, cfg=cfg)
        read_row(add, "GET /transparency (HTML, uncached)", r, g, run, ratio_target=0.10)

    def intake_burst() -> None:
        """600 reports in 30 s (open loop, production argon2id) while wrk loads the widget's GETs;
        then every 201 must reach case_api exactly once."""
        wait_drained()
        name = f"intake burst: {BURST_REPORTS} report POSTs in {BURST_SECONDS:.0f} s"
        # feedback_api idle before the burst, as between bursts in production (its receipt pool
        # refills while no request is waiting on a hash)
        time.sleep(cfg.burst_idle)
        steps: list[tuple[str, str, dict[str, str], str | None]] = [("GET", p, {}, None) for p in WIDGET_GETS]
        widget: dict[str, LoadResult] = {}
        wrk_thread = threading.Thread(target=lambda: widget.setdefault("r", run_wrk(
            fb.url + "/", connections=16, duration=BURST_SECONDS + 2, script=mixed_script(steps))))
        ready = pool_ready(fb.url)
        before = rss_bytes(fb.pid)
        wrk_thread.start()
        time.sleep(1.0)
        t = trickle(fb.url, rate=BURST_REPORTS / BURST_SECONDS, count=BURST_REPORTS, tag=f"burst-{db}-{os.getpid()}")
        sent_done = time.monotonic()
        wrk_thread.join()
        growth = (rss_bytes(fb.pid) - before) / MIB
        rep = trickle_result(t)
        refs: list[str] = t["references"]
        ok201 = len(refs)
        failed = f"; client errors {t['errors']}" if t["errors"] else ""
        delivered = wait_until(lambda: delivered_once(fdb, cdb, refs)[2] >= ok201, 120, 0.5)
        drain_s = time.monotonic() - sent_done
        stored, links, distinct = delivered_once(fdb, cdb, refs)
        once = delivered and stored == links == distinct == ok201
        w = widget.get("r")
        add(name + " (production argon2id)", 0, rep, growth, ratio=None, target="report p99 < 1 s; every 201 "
            "delivered to case_api exactly once",
            met=rep.p99_ms < 1000 and once and ok201 == BURST_REPORTS,
            note=f"{ok201} x 201 in {float(t['wall_s']):.1f} s; stored {stored}, case links {links}, distinct "
                 f"{distinct}; all delivered {drain_s:.1f} s after the last POST; receipt pool held {ready} at "
                 f"the start{failed}" if delivered else
                 f"{ok201} x 201; after 120 s only {distinct} delivered (stored {stored}, links {links}){failed}")
        if w is not None:
            add("intake burst: widget GETs during the burst (" + ", ".join(p.rsplit("/", 1)[-1] for p in WIDGET_GETS)
                + ")", 16, w, None, ratio=w.rps / run.hello, target="p99 < 100 ms",
                met=w.p99_ms < 100 and w.c5xx == 0 and w.c4xx == 0 and w.c503 == 0)

    def outage_drain() -> None:
        """case_api down for 60 s under 2 reports/s, then up: the time from its /readyz answering
        200 to the last of those reports reaching it (production backoff and relay settings)."""
        wait_drained()
        name = f"outage drain: case_api down {OUTAGE_SECONDS:.0f} s under {OUTAGE_RATE:.0f} reports/s"
        case.stop()
        try:
            t = trickle(fb.url, rate=OUTAGE_RATE, count=int(OUTAGE_SECONDS * OUTAGE_RATE),
                        tag=f"outage-{db}-{os.getpid()}")
        finally:
            case.start()
        ready = case.ready_at
        refs: list[str] = t["references"]
        done = wait_until(lambda: delivered_once(fdb, cdb, refs)[2] >= len(refs), 300, 0.1)
        drain_s = time.monotonic() - ready
        stored, links, distinct = delivered_once(fdb, cdb, refs)
        rep = trickle_result(t)
        ok = done and drain_s <= DRAIN_TARGET_S and stored == links == distinct == len(refs) and rep.c5xx == 0
        add(name, 0, rep, None, target=f"all delivered <= {DRAIN_TARGET_S:.0f} s after case_api /readyz 200",
            met=ok, note=(f"{len(refs)} x 201 while down; last delivered {drain_s:.1f} s after /readyz 200; "
                          f"links {links}, distinct {distinct}") if done else
            f"not all delivered in 300 s: {distinct} of {len(refs)}")

    def finding_probe() -> None:
        """policy_api accepts connections and never answers (case_api's POLICY_API_URL is a black
        hole): a sustained finding (which asks policy_api for the employee's acknowledgement) is
        in flight while an unrelated POST /v1/cases is timed."""
        name = "probe: POST /v1/cases while a POST /finding waits on a hung policy_api"
        hdr = {"Authorization": f"Bearer {token('admin', 'intake', 'investigator', 'hr', department='Police')}"}
        new_case = {"department": "Police", "categories": ["personal_attack"], "summary": "Bench probe case.",
                    "platform": "facebook", "account_text": "@ABQPolice"}
        with BlackHole() as hole:
            case.stop()
            case.env = {**case.env, "CASE_API_POLICY_API_URL": hole.url}
            case.start()
            try:
                with httpx.Client(base_url=case.url, headers=hdr, timeout=60) as c:
                    r = c.post("/v1/cases", json=new_case)
                    r.raise_for_status()
                    cid = r.json()["id"]
                    for step in ({"to": "triaged"}, {"to": "investigating"}):
                        c.post(f"/v1/cases/{cid}/transitions", json=step).raise_for_status()
                    c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "E-BENCH-1"}).raise_for_status()
                    finding: dict[str, Any] = {}

                    def record() -> None:
                        t0 = time.perf_counter()
                        with httpx.Client(base_url=case.url, headers=hdr, timeout=60) as c2:
                            resp = c2.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 2})
                        finding.update(status=resp.status_code, seconds=time.perf_counter() - t0)

                    th = threading.Thread(target=record)
                    th.start()
                    wait_until(lambda: hole.accepted > 0, 10, 0.01)
                    time.sleep(0.1)
                    in_flight = th.is_alive()  # still waiting on policy_api when the timed writes start
                    times = []
                    for _ in range(5):
                        t0 = time.perf_counter()
                        resp = c.post("/v1/cases", json=new_case)
                        times.append((time.perf_counter() - t0) * 1000)
                        resp.raise_for_status()
                    th.join(90)
            finally:
                case.stop()
                case.env = {k: v for k, v in case.env.items() if k != "CASE_API_POLICY_API_URL"}
                case.start()
        worst = max(times)
        met = worst < 100 and in_flight
        add(name, 1, None, None, target="unrelated POST /v1/cases < 100 ms", met=met,
            note=f"5 POST /v1/cases while the finding was in flight: max {worst:.1f} ms, "
                 f"median {sorted(times)[2]:.1f} ms; black hole accepted {hole.accepted} connection(s); "
                 f"finding answered {finding.get('status')} after {float(finding.get('seconds', 0)):.1f} s"
                 + ("" if in_flight else "; finding returned before the timed writes: probe proved nothing"))

    def report_post() -> None:
        """Durable write + outbox (the relay forwards to case_api in the background, same core)."""
        name = "POST /v1/reports (durable + outbox)"
        probe = httpx.post(fb.url + "/v1/reports", content=report_body("probe"),
                           headers={"Content-Type": "application/json"}, timeout=10)
        if probe.status_code not in (200, 201):
            unavailable(name, f"probe POST answered {probe.status_code}: {probe.text[:100]}", ">= 25% of hello")
            return
        state["receipt"] = probe.json().get("receipt")
        script = post_script("/v1/reports", report_body())
        r, g = measure(fb, fb.url + "/v1/reports", conns=32, cfg=cfg, script=script)
        ratio = r.rps / run.hello
        commits = run.baselines.get(f"{db}_commits", float("nan"))
        add(name, 32, r, g, ratio=ratio, target=">= 25% of hello (issue #9)", met=ratio >= 0.25 and r.c5xx == 0,
            note=f"{r.rps / commits:.2f}x the raw {db} commit loop")
        if profile_ok(run, "POST /v1/reports", db):
            run.profiles[f"POST /v1/reports ({db})"] = profile(fb, fb.url + "/v1/reports", script, cfg)
        r1, _ = measure(fb, fb.url + "/v1/reports", conns=256, cfg=cfg, script=script)
        settle(fb)
        before = rss_bytes(fb.pid)
        r2 = run_wrk(fb.url + "/v1/reports", connections=256, duration=cfg.duration, script=script)
        growth = (rss_bytes(fb.pid) - before) / MIB
        # the reports uvicorn admitted are hashed and stored after wrk has gone: wait for them, so
        # the next row does not meet their backlog (its 503s), and say how long they took
        drained = settle(fb, timeout=120)
        overload_row(add, "POST /v1/reports overload", r1, r2, growth,
                     extra=f"; the admitted reports finished {drained:.1f} s after wrk stopped")

    def receipt_status() -> None:
        name = "POST /v1/receipts/status"
        if not state["receipt"]:
            probe = httpx.post(fb.url + "/v1/reports", content=report_body("receipt-probe"),
                               headers={"Content-Type": "application/json"}, timeout=10)
            probe.raise_for_status()
            state["receipt"] = probe.json().get("receipt")
        body = json.dumps({"receipt": state["receipt"]})
        script = ("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\n"
                  f"wrk.body = {json.dumps(body)}\n")
        r, g = measure(fb, fb.url + "/v1/receipts/status", conns=32, cfg=cfg, script=script)
        row = read_row(add, name, r, g, run)
        if r.c429:
            row.note = (row.note + " " if row.note else "") + "hard rate limit answers 429 (by design)"

    def write_path_without_hash() -> None:
        """Diagnostic: the same two POSTs with argon2id at its minimum cost (m=8 KiB, t=1), to
        show what the durable write, the outbox and the lookup cost apart from the receipt hash
        that issue 5 requires (~50 ms of CPU each at m=19 MiB, t=2). feedback_api is restarted
        on the same database; receipts issued before no longer match, so a new one is taken."""
        fb.stop()
        fb.env = {**fb.env, **CHEAP_HASH}
        fb.start()
        try:
            probe = httpx.post(fb.url + "/v1/reports", content=report_body("cheap-probe"),
                               headers={"Content-Type": "application/json"}, timeout=10)
            script = post_script("/v1/reports", report_body())
            r, g = measure(fb, fb.url + "/v1/reports", conns=32, cfg=cfg, script=script)
            ratio = r.rps / run.hello
            commits = run.baselines.get(f"{db}_commits", float("nan"))
            add("POST /v1/reports, hash at minimum cost (diagnostic)", 32, r, g, ratio=ratio,
                target=">= 25% of hello", met=ratio >= 0.25 and r.c5xx == 0,
                note=f"{r.rps / commits:.2f}x the raw {db} commit loop")
            body = json.dumps({"receipt": probe.json().get("receipt")})
            lookup = ("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\n"
                      f"wrk.body = {json.dumps(body)}\n")
            r, g = measure(fb, fb.url + "/v1/receipts/status", conns=32, cfg=cfg, script=lookup)
            read_row(add, "POST /v1/receipts/status, hash at minimum cost (diagnostic)", r, g, run)
        finally:
            fb.stop()
            fb.env = {k: v for k, v in fb.env.items() if k not in CHEAP_HASH}
            fb.start()

    def widget_mixed() -> None:
        """What widget page views cost: loader, frame, options, accounts, policies, and a report."""
        steps: list[tuple[str, str, dict[str, str], str | None]] = [("GET", p, {}, None) for p in WIDGET_GETS]
        steps.append(("POST", "/v1/reports", {"Content-Type": "application/json"}, report_body()))
        r, g = measure(fb, fb.url + "/", conns=32, cfg=cfg, script=mixed_script(steps))
        label = "widget mixed (" + ", ".join(p.rsplit("/", 1)[-1] for _, p, _, _ in steps) + ")"
        read_row(add, label, r, g, run)

    def case_list() -> None:
        target = ">= 0.06x hello; p99 < 50 ms"
        wait_drained()  # the report rows' backlog would otherwise be delivered to case_api meanwhile
        t0 = time.monotonic()
        seed_cases(cdb, cfg.cases)
        run.notes.append(f"{db}: seeded {cfg.cases} cases in {time.monotonic() - t0:.0f} s")
        hdr = {"Authorization": f"Bearer {token('admin', 'investigator', 'auditor')}"}
        url = case.url + "/v1/cases?limit=25"
        probe = httpx.get(url, headers=hdr, timeout=30)
        if probe.status_code != 200:
            unavailable(f"GET /v1/cases?limit=25 ({cfg.cases} cases)",
                        f"probe answered {probe.status_code}: {probe.text[:100]}", target)
            return
        # the page's ``total`` is exact only up to a cap (case_api TOTAL_CAP): count the table itself
        rows = int(db_scalar(cdb, "SELECT count(*) FROM cases"))
        r, g = measure(case, url, conns=32, cfg=cfg, script=get_script(hdr))
        ratio = r.rps / run.hello
        add(f"GET /v1/cases?limit=25 ({rows} cases)", 32, r, g, ratio=ratio, target=target,
            met=ratio >= 0.06 and r.p99_ms < 50 and r.c5xx == 0 and r.c4xx == 0 and r.c503 == 0)
        if profile_ok(run, "GET /v1/cases", db):
            run.profiles[f"GET /v1/cases ({db})"] = profile(case, url, get_script(hdr), cfg)

    def policy_overload() -> None:
        pid = first_policy()
        if not pid:
            unavailable("GET /v1/policies/{id} overload", "no published policy", "only 2xx/429/503; flat RSS")
            return
        url = f"{pol.url}/v1/policies/{pid}"
        r1, _ = measure(pol, url, conns=256, cfg=cfg)
        settle(pol)
        before = rss_bytes(pol.pid)
        r2 = run_wrk(url, connections=256, duration=cfg.duration)
        overload_row(add, "GET /v1/policies/{id} overload", r1, r2, (rss_bytes(pol.pid) - before) / MIB)

    def draft_check() -> None:
        """Issue 18: the PIOs' draft check, a 500-character argumentative reply, at 8 connections
        (no database; the policy in force is read from policy_api once a minute)."""
        name = "POST /v1/drafts/check (500-character draft, 8 conns)"
        text = ("Maybe check your facts before you post next time. The pool schedule has been on our website "
                "for weeks, and we are not going to keep explaining it. ")
        text = (text * 4)[:490] + " #{{N}}"
        body = json.dumps({"text": text, "replying_to": "Why is the pool still closed?"})
        hdr = {"Authorization": f"Bearer {token('pio', department='Parks')}"}
        probe = httpx.post(case.url + "/v1/drafts/check", content=body.replace("{{N}}", "0"),
                           headers={**hdr, "Content-Type": "application/json"}, timeout=10)
        if probe.status_code != 200:
            unavailable(name, f"probe answered {probe.status_code}: {probe.text[:100]}", "p99 < 50 ms")
            return
        r, g = measure(case, case.url + "/v1/drafts/check", conns=8, cfg=cfg,
                       script=post_script("/v1/drafts/check", body, hdr))
        add(name, 8, r, g, ratio=r.rps / run.hello, target="p99 < 50 ms (issue 18)",
            met=r.p99_ms < 50 and r.c5xx == 0 and r.c4xx == 0 and r.c503 == 0,
            note=f"policy quoted from {probe.json()['policy_source']}")

    fns: dict[str, Callable[[], None]] = {
        "healthz": healthz, "policy_reads": policy_reads, "transparency": transparency,
        "intake_burst": intake_burst, "outage_drain": outage_drain, "finding_probe": finding_probe,
        "report_post": report_post, "receipt_status": receipt_status,
        "write_path_without_hash": write_path_without_hash, "widget_mixed": widget_mixed,
        "case_list": case_list, "policy_overload": policy_overload, "draft_check": draft_check,
    }
    assert tuple(fns) == ROWS
    for label, fn in fns.items():
        if not cfg.wants(label):
            continue
        try:
            run.refresh_hello(f"{label} ({db})")
            fn()
        except Exception as exc:
            unavailable(label, f"scenario failed: {type(exc).__name__}: {str(exc)[:160]}")


# argon2id at its floor: the drills use the same (tests/drills/support.py)
CHEAP_HASH = {"FEEDBACK_API_RECEIPT_HASH_MEMORY_KIB": "8", "FEEDBACK_API_RECEIPT_HASH_TIME_COST": "1"}


def read_row(add: Callable[..., Row], name: str, r: LoadResult, g: float, run: Run,
             ratio_target: float | None = None, p99_target: float = 50) -> Row:
    ratio = r.rps / run.hello
    # a run in which nothing was answered has no p99 to meet (wrk reports 0 ms)
    met = r.ok > 0 and r.p99_ms < p99_target and r.c5xx == 0 and r.c4xx == 0 and r.c503 == 0
    target = f"p99 < {p99_target:.0f} ms"
    if ratio_target is not None:
        target = f">= {ratio_target:.2f}x hello; " + target
        met = met and ratio >= ratio_target
    return add(name, 32, r, g, ratio=ratio, target=target, met=met)


def overload_row(add: Callable[..., Row], name: str, r1: LoadResult, r2: LoadResult, growth: float,
                 extra: str = "") -> Row:
    """Two back-to-back 256-connection runs: status codes over both, memory growth across the
    second (flat = under 16 MiB once the first run has warmed every pool and cache). A run in
    which nothing completes is not met either: the server must keep answering (2xx, 429 or 503)."""
    bad = r1.c5xx + r2.c5xx + r1.c4xx + r2.c4xx
    answered = r2.ok + r2.c429 + r2.c503
    ok = bad == 0 and growth < 16 and answered > 0
    note = (f"run 1: {r1.rps:.0f} req/s, 5xx {r1.c5xx}, 4xx {r1.c4xx}, 503 {r1.c503}, "
            f"socket errors {r1.socket_errors}")
    if answered == 0:
        note = "no response at all within the run; " + note
    note += extra
    return add(name, 256, r2, growth, ratio=None, target="only 2xx/429/503; flat RSS", met=ok, note=note)


# --- profiling --------------------------------------------------------------------------------


def profile_ok(run: Run, scenario: str, db: str) -> bool:
    """Profile each hot path once per database."""
    return run.cfg.profile and not any(k.startswith(scenario) and k.endswith(f"({db})") for k in run.profiles)


def profile(server: Server, url: str, script: str, cfg: Config) -> list[tuple[str, float]]:
    """py-spy samples the server while wrk loads it; returns the top frames by own time."""
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    pyspy = Path(sys.executable).parent / "py-spy"
    if not pyspy.exists():
        return [("py-spy not installed (pip install py-spy)", 0.0)]
    secs = max(3, round(cfg.duration))
    proc = subprocess.Popen([str(pyspy), "record", "--pid", str(server.pid), "--duration", str(secs),
                             "--rate", "200", "--format", "raw", "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    run_wrk(url, connections=32, duration=secs, script=script)
    proc.wait(60)
    settle(server)
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = idle = 0
    for line in out.read_text().splitlines() if out.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_short(x) for x in stack.split(";")]
        # idle threadpool workers waiting for work (py-spy cannot tell them idle in
        # --nonblocking mode): counted apart so the shares are of busy time
        if "(threading.py:" in frames[-1] and frames[-1].startswith("Condition.wait"):
            idle += n
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out.unlink(missing_ok=True)
    if not total:
        return [("no samples (py-spy needs ptrace permission)", 0.0)]
    top = [(f"own  {f}", n / total) for f, n in own.most_common(10)]
    # inclusive time of our own functions: where in services/ and shared/ the busy time goes
    ours = [(f, n) for f, n in incl.most_common(400) if "(services/" in f or "(shared/" in f]
    top += [(f"incl {f}", n / total) for f, n in ours[:12]]
    top.append((f"({idle} idle worker-thread samples excluded, {total} busy samples)", 0.0))
    return top


def _short(frame: str) -> str:
    frame = frame.replace(str(REPO) + "/", "")
    for marker in ("site-packages/", "lib/python3."):
        if marker in frame:
            frame = frame.split(marker, 1)[1]
    return frame


# --- output -------------------------------------------------------------------------------------


HEADER = ("| scenario | db | conns | req/s | x hello | p50 ms | p99 ms | 2xx/3xx | 4xx | 429 | 503 | 5xx | "
          "sock err | RSS growth MiB | target | met |")
SEP = "|" + "---|" * 16


def format_row(row: Row) -> str:
    r = row.result
    met = "" if row.met is None else ("met" if row.met else "NOT met")
    if r is None:
        verdict = f"{met} — {row.note}" if met else row.note
        return f"| {row.scenario} | {row.db} | - | - | - | - | - | - | - | - | - | - | - | - | {row.target} | " \
               f"{verdict} |"
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
    growth = f"{row.rss_growth_mib:+.1f}" if row.rss_growth_mib is not None else "-"
    met_note = f"{met}{' — ' + row.note if row.note else ''}"
    conns = str(row.conns) if row.conns else "open loop"
    return (f"| {row.scenario} | {row.db} | {conns} | {r.rps:,.0f} | {ratio} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
            f"{r.ok} | {r.c4xx} | {r.c429} | {r.c503} | {r.c5xx} | {r.socket_errors} | {growth} | {row.target} | "
            f"{met_note} |")


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[:1]
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; Python "
            f"{platform.python_version()}; {wrk_v[0] if wrk_v else 'wrk'}")


def write_results(run: Run, command: str, started: datetime) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (see docs/bench.md for what each figure means). Do not edit by hand.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Load average (1/5/15 min) at the start: {run.load_start}; at the end: {_load()} (other work on "
        "the machine shares both cores)",
        f"- Settings: uvicorn (uvloop, httptools, one process, `--limit-concurrency 200 --backlog 2048` as "
        f"deployed, no access log from uvicorn; services log "
        f"at {os.environ.get('BENCH_LOG_LEVEL', 'INFO')} as in production) pinned to CPU 0; wrk (1 thread) pinned "
        f"to CPU 1; {run.cfg.duration:.0f} s per measurement after a {run.cfg.warmup:.0f} s warm-up. PostgreSQL "
        "itself is not pinned.",
        "",
        "## Baselines (same run)",
        "",
        f"- Bare Starlette JSON hello-world, 32 connections: **{run.baselines.get('hello_rps', 0):,.0f} req/s** "
        f"(p99 {run.baselines.get('hello_p99', 0):.1f} ms); the same at the end of the run: "
        f"{run.baselines.get('hello_end_rps', 0):,.0f} req/s",
        "- Each scenario's `x hello` is to the hello measured (3 s) just before that scenario, since the "
        "machine's speed drifts within a run: " + ("; ".join(run.hello_log) if run.hello_log else "none measured"),
    ]
    if "sqlite_commits" in run.baselines:
        lines.append(f"- Raw sqlite3 (WAL, synchronous=FULL, one committed INSERT per row): "
                     f"**{run.baselines['sqlite_commits']:,.0f} commits/s**")
    if "postgresql_commits" in run.baselines:
        lines.append(f"- Raw psycopg (autocommit, one INSERT per transaction): "
                     f"**{run.baselines['postgresql_commits']:,.0f} commits/s**")
    lines += ["", "## Scenarios", "", HEADER, SEP, *[format_row(r) for r in run.rows], ""]
    if run.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in run.notes], ""]
    if run.profiles:
        lines += ["## Profile (py-spy, top frames by share of samples)", ""]
        for name, frames in run.profiles.items():
            lines += [f"### {name}", "", "```", *[f"{share:6.1%}  {f}" for f, share in frames], "```", ""]
    RESULTS.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 s measurements, 10k cases (smoke run)")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--duration", type=float, help="seconds per measurement (default 10, quick 3)")
    ap.add_argument("--cases", type=int, help="cases seeded for the list query (default 100000, quick 10000)")
    ap.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    ap.add_argument("--only", default="", help="comma-separated rows to run alone (see --list); the hello "
                    "baseline is always measured")
    ap.add_argument("--list", action="store_true", help="print the row names and exit")
    ap.add_argument("--burst-idle", type=float, default=30.0,
                    help="seconds feedback_api is left idle before the intake burst (default 30)")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(ROWS))
        return 0
    only = frozenset(x.strip() for x in args.only.split(",") if x.strip())
    if unknown := only - set(ROWS):
        ap.error(f"unknown row(s) {', '.join(sorted(unknown))}; one of: {', '.join(ROWS)}")
    if len(os.sched_getaffinity(0)) < 2:
        print("warning: fewer than 2 CPUs available; server and load share a core", file=sys.stderr)
    cfg = Config(
        duration=args.duration or (3.0 if args.quick else 10.0),
        warmup=1.0 if args.quick else 2.0,
        cases=args.cases or (10_000 if args.quick else 100_000),
        profile=not args.no_profile,
        baseline_db_seconds=2.0 if args.quick else 5.0,
        only=only,
        burst_idle=args.burst_idle,
    )
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    started = datetime.now(UTC)
    run = Run(cfg, load_start=_load())
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(HEADER)
    print(SEP)
    with tempfile.TemporaryDirectory(prefix="civicsocial-bench-") as tmp:
        work = Path(tmp)
        # The hello server runs for the whole run (idle between measurements): it is measured
        # first, again before every scenario (each row's "x hello" is to that one), and at the end.
        hello = hello_server(work).start()
        r, g = measure(hello, hello.url + "/", conns=32, cfg=cfg)
        run.baselines["hello_rps"] = r.rps
        run.baselines["hello_p99"] = r.p99_ms
        row = Row("baseline: bare Starlette hello", "-", 32, r, g, 1.0)
        run.rows.append(row)
        print(format_row(row), flush=True)
        quick = Config(duration=min(cfg.duration, 3.0), warmup=min(cfg.warmup, 1.0), cases=cfg.cases,
                       profile=False, baseline_db_seconds=cfg.baseline_db_seconds)
        run.remeasure = lambda: measure(hello, hello.url + "/", conns=32, cfg=quick)[0].rps
        references = () if only else (("bench.hello:fastapi_async", "reference: FastAPI hello, async def"),
                                      ("bench.hello:fastapi_sync", "reference: FastAPI hello, def (threadpool)"))
        for target, label in references:
            ref = hello_server(work, target).start()
            try:
                r, g = measure(ref, ref.url + "/", conns=32, cfg=cfg)
                row = Row(label, "-", 32, r, g, r.rps / run.hello)
                run.rows.append(row)
                print(format_row(row), flush=True)
            finally:
                ref.stop()
        commit_rows = cfg.wants("report_post") or cfg.wants("write_path_without_hash")
        if "sqlite" in dbs and commit_rows:
            run.baselines["sqlite_commits"] = baselines.sqlite_commits_per_second(work, cfg.baseline_db_seconds)
        if "postgresql" in dbs and commit_rows:
            run.baselines["postgresql_commits"] = baselines.postgresql_commits_per_second(cfg.baseline_db_seconds)
        for db in dbs:
            (work / db).mkdir()
            stack = Stack(db, work / db)
            run.notes.append(f"{db}: load average {_load()} when its services started")
            try:
                stack.start()
                urls = {n: s.url for n, s in stack.servers.items()}
                run.notes += [f"{db}: {n}" for n in run_demo_loaders(urls, stack.key_file)]
                scenarios_for(stack, run, db)
            except Exception as exc:
                run.notes.append(f"{db}: run aborted: {type(exc).__name__}: {str(exc)[:200]}")
                print(f"{db}: run aborted: {exc}", file=sys.stderr)
            finally:
                stack.stop()
                for log in (work / db).glob("*.log"):
                    text = log.read_text(errors="replace")
                    errors = text.count('"level": "error"') + text.count("Traceback")
                    if errors:
                        run.notes.append(f"{db}: {log.name} holds {errors} error lines (first: "
                                         f"{_first_error(text)})")
        # the hello again at the end: how far the machine drifted during the run (it is shared)
        try:
            r, g = measure(hello, hello.url + "/", conns=32, cfg=cfg)
            run.baselines["hello_end_rps"] = r.rps
            row = Row("baseline again at the end: bare Starlette hello", "-", 32, r, g,
                      r.rps / run.baselines["hello_rps"])
            run.rows.append(row)
            print(format_row(row), flush=True)
        finally:
            hello.stop()
    print()
    for k, v in run.baselines.items():
        print(f"baseline {k}: {v:,.1f}")
    for n in run.notes:
        print("note:", n)
    if not args.no_write:
        write_results(run, command, started)
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if '"level": "error"' in line or "Error" in line:
            try:
                d = json.loads(line)
                last = (d.get("exception") or "").strip().splitlines()[-1:] or [""]
                return f"{d.get('event')}: {last[0][:240]}".replace("|", "/")
            except ValueError:
                return line[:200].replace("|", "/")
    return ""


__all__ = ["main"]
