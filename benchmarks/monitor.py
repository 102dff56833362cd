"""`tripwire monitor` detectors and ingestion, measured.

1. Thresholds against the ARL0 target: the robust banks built from warm-up outcomes (a 1% rate
   seen in 500 events, none in 500, 1% in 2,000, 54% in 500), per ARL0 from 1e4 to 1e8: each
   chart's threshold in nats next to log(K x ARL0), the exact false-alarm rate at the design
   rate, and the time to design it. (The design this replaces averaged over posterior quantiles
   up to 0.99995 and gave 65 to 1,400 nats at ARL0 6e6.)
2. False alarms through `monitor replay` (the real checks on simulated traffic, fresh warm-ups):
   stationary traffic, a prompt-mix shift, a volume change (one hardware pool's traffic x4, and
   time compressed), and an equal-quality rollout (v2 with v1's quality), per stream at the
   default --arl and for the family at a --family-arl small enough to measure.
3. Detection delay on one slice whose four languages differ in rate (1/1.5/2/3% at 50/30/15/5%):
   the monitor's detector (fresh warm-ups of 2,000 and 20,000 events) next to a plain Bernoulli
   CUSUM that knows both rates (exact zero-start delay on its lattice) and river's PageHinkley
   (threshold calibrated on null streams), both at the false-alarm rate measured for the
   monitor's detector on null streams.
4. Ingestion throughput of the real server (uvicorn on loopback, SQLite WAL with
   synchronous=FULL, and PostgreSQL when installed; the checks of batches of 32 or more in a
   worker process, the default on 2 cores) under an httpx load generator, and replay
   speed at the default and at --family-arl 1e6; both next to the monitor as it was before
   issue #18 (``--baseline`` commit, extracted with git archive) when the history is there.
5. Streams like the issue's: five languages (Go among them), four hardware pools, two routes;
   four real changes (a release truncating 9% of answers, Go failing to parse 15 points more
   on one pool, 4% corrupted on one pool, 10% corrupted on and off) and four harmless ones
   (prompt-mix shift, equal-quality rollout, volume change, a new pool): what is detected, how
   fast, and every alert on the wrong slice, before the change, or on a harmless stream.

    python benchmarks/monitor.py [--runs 60] [--seeds 4] [--events 20000] [--skip ...]

The machine these numbers come from may be shared (the project's is, by three agents): every
speed is printed with the peer measured in the same run, and the ratio is what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tripwire.monitor import (  # noqa: E402
    Detector,
    DetectorConfig,
    Event,
    Fault,
    Slice,
    Traffic,
    replay,
    simulate,
)
from tripwire.stats import bernoulli_cusum, cusum_bank, robust_rate, smallest_shift  # noqa: E402

SL = Slice("v1", "us-east", "tpu-v5e", "chat")
LANGUAGES = ("python", "javascript", "c", "shell")
MIX = np.array([0.50, 0.30, 0.15, 0.05])
RATES = np.array([0.010, 0.015, 0.020, 0.030])
DELAY_ARL0 = 10_000.0
BASELINE = "0de378a"
"""The monitor before issue #18 (with the watch-coverage work it builds on)."""


def thresholds_table() -> None:
    print("\n## 1. Thresholds against the ARL0 target (robust banks from a warm-up)\n")
    print("| warm-up outcome | ARL0 | design rate | charts (shift: h nats) | max h / log(K ARL0) "
          "| exact FA x ARL0 at design rate | design ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    cases = (("5 of 500 (1%)", 5, 500), ("0 of 500", 0, 500), ("20 of 2,000 (1%)", 20, 2000),
             ("270 of 500 (54%)", 270, 500))  # fmt: skip
    for arl0 in (1e4, 1e5, 1e6, 6e6, 1.2e7, 1e8):
        for name, x, n in cases:
            cusum_bank.cache_clear()
            t0 = time.perf_counter()
            rate = round(robust_rate(x, n, arl0), 7)
            floor = round(smallest_shift(x, n, rate, arl0), 6)
            bank = cusum_bank((rate,), (floor,), ((1.0,),), arl0)
            ms = (time.perf_counter() - t0) * 1000
            k = len(bank.charts)
            charts = ", ".join(f"{c.shift:.3f}: {c.h:.1f}" for c in bank.charts)
            ratio = max(c.h for c in bank.charts) / math.log(k * arl0)
            print(f"| {name} | {arl0:.2g} | {rate:.4f} | {charts} | {ratio:.2f} | "
                  f"{bank.false_alarm_rate() * arl0:.2f} | {ms:.0f} |")  # fmt: skip


# 2. False alarms through replay ---------------------------------------------------------------


def _scenario(name: str, seed: int, n: int) -> list:
    half = n // 2
    if name == "stationary":
        return simulate(Traffic(n=n, seed=seed))
    if name == "prompt-mix shift":
        return simulate(Traffic(n=n, seed=seed, mix_shift_at=half))
    if name == "equal-quality rollout":
        return simulate(Traffic(n=n, seed=seed, versions=((0, "v1"), (half, "v2"))))
    if name == "volume change":  # after half: h100-a gets 4x the traffic, and events come 5x faster
        first = simulate(Traffic(n=half, seed=seed))
        last = first[-1].ts
        heavy = ("h100-a",) * 4 + ("h100-b", "tpu-v5e")
        second = simulate(Traffic(n=n - half, seed=seed + 10_000, hardware=heavy,
                                  start=last, seconds_per_event=0.1))  # fmt: skip
        return first + second
    raise ValueError(name)


def _write(records: list, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n")
    return path


def false_alarm_table(seeds: int, n: int, family: float) -> None:
    per_stream = DetectorConfig()
    fam = DetectorConfig(family_arl=family)
    print(f"\n## 2. False alarms through `monitor replay` ({seeds} seeds x {n:,} events per "
          f"scenario, warm-up {per_stream.warmup} per route)\n")  # fmt: skip
    print(f"Per stream at the default --arl {per_stream.arl0:,.0f} (target: 1 per "
          f"{per_stream.stream_arl0:,.0f} events of a stream) and for the family at "
          f"--family-arl {family:,.0f} (target: 1 per {family:,.0f} events anywhere; each stream "
          f"then at {fam.stream_arl0:,.0f}).\n")  # fmt: skip
    print("| traffic | judged events | stream-events | alerts at --arl | per stream (x target) "
          "| alerts at --family-arl | family (x target) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    totals = np.zeros(4)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("stationary", "prompt-mix shift", "volume change", "equal-quality rollout"):
            judged = stream_events = a_stream = a_family = 0
            for s in range(seeds):
                path = _write(_scenario(name, 700 + s, n), Path(tmp) / "s.jsonl")
                r1 = replay(path, per_stream)
                r2 = replay(path, fam)
                judged += r1["judged_events"]
                stream_events += sum(w["events"] for route in r1["coverage"]["routes"]
                                     for m in route["metrics"] for w in m["slices"])  # fmt: skip
                a_stream += len(r1["alerts"])
                a_family += len(r2["alerts"])
            totals += (stream_events, a_stream, judged, a_family)
            print(f"| {name} | {judged:,} | {stream_events:,} | {a_stream} | "
                  f"{a_stream / stream_events * per_stream.stream_arl0:.2f} | {a_family} | "
                  f"{a_family / judged * family:.2f} |")  # fmt: skip
    se, a1, jd, a2 = totals
    print(f"| all | {jd:,.0f} | {se:,.0f} | {a1:.0f} | {a1 / se * per_stream.stream_arl0:.2f} | "
          f"{a2:.0f} | {a2 / jd * family:.2f} |")  # fmt: skip
    print(
        f"\nAt the target, {se / per_stream.stream_arl0:.1f} alerts per stream-event budget "
        f"and {jd / family:.1f} for the family would be expected in these runs."
    )


# 3. Detection delay ---------------------------------------------------------------------------


def _stream(rng: np.random.Generator, n: int, fault: float = 0.0) -> tuple[list, list]:
    k = rng.choice(4, size=n, p=MIX)
    p = RATES[k] + (1 - RATES[k]) * fault
    return (rng.random(n) < p).tolist(), [LANGUAGES[i] for i in k]


def _warmed(warmup: int, seed: int) -> Detector:
    det = Detector(DetectorConfig(arl0=DELAY_ARL0, warmup=warmup, metrics=("syntax_error",),
                                  slice_by=()))  # fmt: skip
    x, strata = _stream(np.random.default_rng(seed), warmup)
    for xi, st in zip(x, strata, strict=True):
        det.observe(SL, {"syntax_error": xi}, None, st)
    return det


def _first_alarm(det: Detector, x: list, strata: list) -> int | None:
    obs = det.observe
    for t, (xi, st) in enumerate(zip(x, strata, strict=True)):
        if obs(SL, {"syntax_error": xi}, None, st):
            return t + 1
    return None


def _ours_null(warmup: int, runs: int, horizon: int) -> tuple[int, int]:
    alarms = exposure = 0
    for r in range(runs):
        det = _warmed(warmup, 50_000 + r)
        x, strata = _stream(np.random.default_rng(60_000 + r), horizon)
        t = _first_alarm(det, x, strata)
        alarms += t is not None
        exposure += horizon if t is None else t
    return alarms, exposure


def _ph_run(threshold: float, delta: float, x: list) -> int | None:
    from river.drift import PageHinkley

    ph = PageHinkley(min_instances=30, delta=delta, threshold=threshold, mode="up")
    for t, v in enumerate(x):
        ph.update(v)
        if ph.drift_detected:
            return t + 1
    return None


def _ph_arl(threshold: float, delta: float, warmup: int, runs: int, horizon: int) -> float:
    alarms = exposure = 0
    for r in range(runs):
        x, _ = _stream(np.random.default_rng(70_000 + r), warmup + horizon)
        t = _ph_run(threshold, delta, x)
        alarms += t is not None and t > warmup
        exposure += horizon if t is None else max(t - warmup, 0)
        if t is not None and t <= warmup:  # an alarm inside the warm-up counts too
            alarms += 1
    return exposure / max(alarms, 1)


def _ph_threshold(arl: float, delta: float, warmup: int, runs: int) -> float:
    """PageHinkley's threshold whose null ARL is ``arl`` (bisection in log threshold)."""
    lo, hi = math.log(0.5), math.log(200.0)
    for _ in range(9):
        mid = (lo + hi) / 2
        if _ph_arl(math.exp(mid), delta, warmup, runs, int(3 * arl)) < arl:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


def delay_table(runs: int, warmups: tuple[int, ...]) -> None:
    print(f"\n## 3. Detection delay at matched false-alarm rates (one slice, ARL0 "
          f"{DELAY_ARL0:,.0f} per stream; {runs} runs per row)\n")  # fmt: skip
    print("| warm-up | fault (share corrupted) | null ARL measured (alarms) | monitor: detected, "
          "mean delay | plain CUSUM, known rates (exact) | ratio | PageHinkley (river): "
          "detected, mean delay | ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    p0 = float(MIX @ RATES)
    for warmup in warmups:
        alarms, exposure = _ours_null(warmup, runs, int(8 * DELAY_ARL0))
        matched = exposure / max(alarms, 1)
        for fault in (0.01, 0.04, 0.16):
            p1 = float(MIX @ (RATES + (1 - RATES) * fault))
            plain = bernoulli_cusum(round(p0, 8), round(p1, 8), matched).arl(p1)
            ours = []
            for r in range(runs):
                det = _warmed(warmup, r)
                x, strata = _stream(np.random.default_rng(1000 + r), 20 * int(plain) + 2000,
                                    fault)  # fmt: skip
                ours.append(_first_alarm(det, x, strata))
            hit = [d for d in ours if d is not None]
            delta = (p1 - p0) / 2
            thr = _ph_threshold(matched, delta, warmup, max(runs // 3, 10))
            ph = []
            for r in range(runs):
                x0, _ = _stream(np.random.default_rng(2000 + r), warmup)
                x1, _ = _stream(np.random.default_rng(3000 + r), 20 * int(plain) + 2000, fault)
                t = _ph_run(thr, delta, x0 + x1)
                ph.append(None if t is None or t <= warmup else t - warmup)
            ph_hit = [d for d in ph if d is not None]
            mean = float(np.mean(hit)) if hit else math.nan
            ph_mean = float(np.mean(ph_hit)) if ph_hit else math.nan
            print(f"| {warmup:,} | {fault:.0%} | {matched:,.0f} ({alarms}) | {len(hit)}/{runs}, "
                  f"{mean:,.0f} | {plain:,.0f} | {mean / plain:.2f} | {len(ph_hit)}/{runs}, "
                  f"{ph_mean:,.0f} | {ph_mean / plain:.2f} |")  # fmt: skip


# 4. Ingestion throughput and replay speed ----------------------------------------------------


@contextlib.contextmanager
def _baseline_tree(commit: str) -> Iterator[Path | None]:
    """``src/`` of ``commit`` in a temporary folder (git archive: the checkout is untouched)."""
    try:
        data = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"],
                              capture_output=True, check=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        print(f"\n(baseline {commit} not in this checkout's history: no before/after ratios)")
        yield None
        return
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "src"


def wait_healthy(url: str) -> None:
    """Until the server at ``url`` answers ``/healthz`` (a minute at most), then a little more
    for its start to settle (imports, first requests)."""
    import httpx

    for _ in range(600):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        time.sleep(0.1)
    time.sleep(2)


@contextlib.contextmanager
def _server(db: str, log: Path, old_src: Path | None) -> Iterator[str]:
    from tests.monitor.conftest import CLI, READ, WRITE, free_port

    port = free_port()
    cmd = [sys.executable, "-c", CLI, "monitor", "serve", "--db", db, "--port", str(port)]
    env = {**os.environ, "TRIPWIRE_MONITOR_WRITE_TOKENS": WRITE,
           "TRIPWIRE_MONITOR_READ_TOKENS": READ}  # fmt: skip
    if old_src is not None:  # the old server took its tokens on the command line
        cmd += ["--write-token", WRITE, "--read-token", READ]
        env["PYTHONPATH"] = str(old_src)
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


async def _load(url: str, bodies: list[bytes], clients: int) -> float:
    import httpx

    from tests.monitor.conftest import WRITE

    queue = list(bodies)
    headers = {"Authorization": f"Bearer {WRITE}", "Content-Type": "application/json"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as client:
            while queue:
                (await client.post("/v1/events", content=queue.pop())).raise_for_status()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - t0


@contextlib.contextmanager
def _postgres() -> Iterator[str | None]:
    import pytest

    from tests.support.postgres import postgres_url

    try:
        with contextlib.contextmanager(postgres_url.__wrapped__)() as url:
            yield url
    except pytest.skip.Exception as exc:
        print(f"\n(PostgreSQL skipped: {exc})")
        yield None


def _fresh_pg(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def throughput_table(n: int, old_src: Path | None) -> None:
    records = [r.model_dump(mode="json", exclude_none=True) for r in simulate(Traffic(n=n, seed=9))
               if isinstance(r, Event)]  # fmt: skip
    print(f"\n## 4a. Ingestion throughput (real server on loopback, {n:,} events per row, "
          "acknowledged = committed; shared 2-core machine)\n")  # fmt: skip
    print("| database | clients | batch | events/s | before #18: events/s | ratio | load average |")
    print("|---|---|---|---|---|---|---|")
    with _postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log"
        for db_name in ("SQLite WAL", "PostgreSQL"):
            if db_name == "PostgreSQL" and pg is None:
                continue
            for i, (clients, batch) in enumerate(((1, 1), (4, 50), (8, 200), (8, 1000))):
                count = min(n, 1500) if batch == 1 else n
                bodies = [json.dumps({"events": records[j : j + batch]}).encode()
                          for j in range(0, count, batch)]  # fmt: skip
                rates = []
                for which, src in (("new", None), ("old", old_src)):
                    if which == "old" and src is None:
                        rates.append(math.nan)
                        continue
                    db = (_fresh_pg(pg, f"b{which}{i}") if db_name == "PostgreSQL" and pg
                          else f"sqlite:///{tmp}/{which}{i}.db")  # fmt: skip
                    with _server(db, log, src) as url:
                        rates.append(count / asyncio.run(_load(url, bodies, clients)))
                new, old = rates
                print(f"| {db_name} | {clients} | {batch} | {new:,.0f} | {old:,.0f} | "
                      f"{new / old:.1f} | {os.getloadavg()[0]:.1f} |")  # fmt: skip


_CPU_SCRIPT = """
import json, resource, sys, tempfile, time, uuid
import tripwire.monitor as m
from tripwire.monitor import EventBatch, Event, Traffic, simulate
n = int(sys.argv[1])
recs = [r.model_dump(mode="json", exclude_none=True) for r in simulate(Traffic(n=n, seed=9))
        if isinstance(r, Event)]
bodies = [json.dumps({"events": recs[i:i + 200]}).encode() for i in range(0, len(recs), 200)]
warm = min(10, len(bodies) // 2)  # a short run keeps half its batches to measure
db = f"sqlite:///{tempfile.mkdtemp()}/m.db"
if hasattr(m, "Service"):  # since #18; the checks in this process too (workers' CPU is unseen)
    kw = {"check_workers": 0} if "check_workers" in m.ServerConfig.__dataclass_fields__ else {}
    svc = m.Service(m.ServerConfig(db_url=db, detector=m.DetectorConfig(warmup=500), **kw))
    def ingest(body):
        return svc.ingest(EventBatch.model_validate_json(body))
else:  # before: the same steps the old endpoint took, warm-up 500 (its default)
    from tripwire.monitor._slices import Slice
    state = m.create_app(m.ServerConfig(db_url=db)).state.monitor
    def ingest(body):
        batch = EventBatch.model_validate_json(body)
        for ev in batch.events:
            ev.event_id = ev.event_id or uuid.uuid4().hex
        checked = [(ev, state.monitor.check(ev)) for ev in batch.events]
        with state.lock:
            state.store.add_events(checked)
            for ev, r in checked:
                state.counters.event(Slice.of(ev), r.flags)
                for a in state.monitor.observe(ev, r):
                    state.store.add_alert(a)
def cpu():  # this process and its children (the old shell check ran bash -n in one per answer)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime
for b in bodies[:warm]:
    ingest(b)
start = cpu()
for b in bodies[warm:]:
    json.dumps(ingest(b))
print(len(recs[200 * warm:]) / (cpu() - start))
"""


def ingest_cpu_table(n: int, old_src: Path | None) -> None:
    """The server's own work per event without HTTP, in CPU time (its own and its children's):
    what a loaded machine's scheduler does not change (wall-clock rates above depend on who
    else runs)."""
    print(f"\n## 4c. Ingestion work per event, in-process (validate, check, commit, observe; "
          f"{n:,} events in batches of 200, warm-up 500 per route; CPU time)\n")  # fmt: skip
    print("| run | events per CPU-second | before #18 | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "cpu.py"
        script.write_text(_CPU_SCRIPT, encoding="utf-8")

        def rate(src: Path | None) -> float:
            env = {**os.environ, **({"PYTHONPATH": str(src)} if src else {})}
            out = subprocess.run([sys.executable, str(script), str(n)], env=env,
                                 capture_output=True, text=True)  # fmt: skip
            return float(out.stdout.strip() or "nan")

        for run in (1, 2):  # interleaved, so both see the same machine
            new = rate(None)
            old = rate(old_src) if old_src else math.nan
            print(f"| {run} | {new:,.0f} | {old:,.0f} | {new / old:.1f} |")


def _replay_seconds(path: Path, args: list[str], src: Path | None) -> float:
    from tests.monitor.conftest import CLI

    env = {**os.environ, **({"PYTHONPATH": str(src)} if src else {})}
    t0 = time.perf_counter()
    out = str(path.with_suffix(".out.json"))
    cmd = [sys.executable, "-c", CLI, "monitor", "replay", str(path), "--json", out, *args]
    subprocess.run(cmd, env=env, capture_output=True)
    return time.perf_counter() - t0


def replay_table(n: int, old_src: Path | None) -> None:
    print(f"\n## 4b. Replay speed (`tripwire monitor replay`, {n:,} events with a fault, "
          "wall seconds including start-up)\n")  # fmt: skip
    print("| setting | seconds | events/s | before #18: seconds | ratio (before / now) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        fault = Fault(start=n // 2, rate=0.08, hardware="tpu-v5e", model_version="v2")
        t = Traffic(n=n, seed=5, versions=((0, "v1"), (n // 2, "v2")), faults=(fault,))
        path = _write(simulate(t), Path(tmp) / "events.jsonl")
        for label, args in (("default (--arl 1e5)", []),
                            ("--family-arl 1e6", ["--family-arl", "1e6"])):  # fmt: skip
            now = _replay_seconds(path, args, None)
            before = _replay_seconds(path, args, old_src) if old_src else math.nan
            print(f"| {label} | {now:.1f} | {n / now:,.0f} | {before:.1f} | {before / now:.1f} |")


# 5. Streams like the issue's -------------------------------------------------------------------

ISSUE_MIX = (("python", 0.35), ("javascript", 0.25), ("go", 0.15), ("c", 0.15), ("shell", 0.10))
ISSUE_SHIFTED = (("python", 0.15), ("javascript", 0.15), ("go", 0.35), ("c", 0.15),
                 ("shell", 0.20))  # fmt: skip
POOLS = ("h100-a", "h100-b", "tpu-v5e", "l4")


def _issue_stream(name: str, seed: int, n: int) -> tuple[list, dict[str, str] | None]:
    """One of the issue's kinds of stream (five languages, four pools, two routes), and the
    slice coordinates a right alert names (None: harmless, every alert is false)."""
    at = n // 2
    base = {"n": n, "seed": seed, "mix": ISSUE_MIX, "shifted_mix": ISSUE_SHIFTED,
            "hardware": POOLS}  # fmt: skip
    if name == "v2 truncates 9% (1% before)":
        fault = Fault(start=at, rate=0.08, model_version="v2", kind="truncate")
        t = Traffic(**base, versions=((0, "v1"), (at, "v2")), faults=(fault,))
        return simulate(t), {"model_version": "v2"}
    if name == "Go +15 points on one pool":
        t = Traffic(**base, faults=(Fault(start=at, rate=0.0, hardware="h100-b"),),
                    language_faults=(("go", 0.15),))  # fmt: skip
        return simulate(t), {"hardware": "h100-b"}
    if name == "4% corrupted on one pool":
        t = Traffic(**base, faults=(Fault(start=at, rate=0.04, hardware="tpu-v5e"),))
        return simulate(t), {"hardware": "tpu-v5e"}
    if name == "10% corrupted, on and off":
        fault = Fault(start=at, rate=0.10, hardware="l4", on=300, off=900)
        return simulate(Traffic(**base, faults=(fault,))), {"hardware": "l4"}
    if name == "prompt-mix shift":
        return simulate(Traffic(**base, mix_shift_at=at)), None
    if name == "equal-quality rollout":
        return simulate(Traffic(**base, versions=((0, "v1"), (at, "v2")))), None
    if name in ("volume change", "new pool"):
        first = simulate(Traffic(**{**base, "n": at}))
        pools = ("h100-a",) * 4 + POOLS[1:] if name == "volume change" else (*POOLS, "h200")
        rest = Traffic(**{**base, "n": n - at, "seed": seed + 10_000, "hardware": pools},
                       start=first[-1].ts, seconds_per_event=0.1)  # fmt: skip
        return first + simulate(rest), None
    raise ValueError(name)


def issue_table(n: int, seeds: int) -> None:
    print(f"\n## 5. Streams like the issue's ({n:,} events each, 5 languages, 4 pools, 2 routes; "
          f"the change or drift at event {n // 2:,}; {seeds} seeds)\n")  # fmt: skip
    print("| stream | setting | detected | median delay (events) | false alerts |")
    print("|---|---|---|---|---|")
    settings = (
        ("default", DetectorConfig()),
        ("--family-arl 1e6", DetectorConfig(family_arl=1e6)),
        ("--family-arl 1e6 --warmup 500", DetectorConfig(family_arl=1e6, warmup=500)),
    )
    names = ("v2 truncates 9% (1% before)", "Go +15 points on one pool",
             "4% corrupted on one pool", "10% corrupted, on and off", "prompt-mix shift",
             "equal-quality rollout", "volume change", "new pool")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for label, config in settings:
                found, delays, false = 0, [], 0
                for s in range(seeds):
                    records, target = _issue_stream(name, 900 + s, n)
                    report = replay(_write(records, Path(tmp) / "i.jsonl"), config)
                    right = [a for a in report["alerts"] if target is not None
                             and a["event_index"] >= n // 2
                             and all(a["slice"][k] == v for k, v in target.items())]  # fmt: skip
                    false += len(report["alerts"]) - len(right)
                    if right:
                        found += 1
                        delays.append(min(a["event_index"] for a in right) - n // 2)
                shown = f"{found}/{seeds}" if target is not None else "-"
                median = f"{np.median(delays):,.0f}" if delays else "-"
                print(f"| {name} | {label} | {shown} | {median} | {false} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--family-arl", type=float, default=20_000.0,
                    help="the family target of section 2 (small enough to measure)")  # fmt: skip
    ap.add_argument("--warmups", default="2000,20000")
    ap.add_argument("--throughput-events", type=int, default=24_000)
    ap.add_argument("--baseline", default=BASELINE, help="commit to compare speed against")
    sections = ["thresholds", "false", "delay", "throughput", "replay", "issue"]
    ap.add_argument("--skip", nargs="*", default=[], choices=sections)
    args = ap.parse_args()
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start)")  # fmt: skip
    if "thresholds" not in args.skip:
        thresholds_table()
    if "false" not in args.skip:
        false_alarm_table(args.seeds, args.events, args.family_arl)
    if "delay" not in args.skip:
        delay_table(args.runs, tuple(int(w) for w in args.warmups.split(",")))
    if {"throughput", "replay"} - set(args.skip):
        with _baseline_tree(args.baseline) as old_src:
            if "throughput" not in args.skip:
                throughput_table(args.throughput_events, old_src)
                ingest_cpu_table(args.throughput_events, old_src)
            if "replay" not in args.skip:
                replay_table(args.events, old_src)
    if "issue" not in args.skip:
        issue_table(args.events, args.seeds)


if __name__ == "__main__":
    main()
