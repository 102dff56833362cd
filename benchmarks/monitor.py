"""`tripwire monitor` detectors and ingestion, measured.

1. Detection delay. Per-event defect flags of one slice, with strata as in production: answers in
   four languages (mix 50/30/15/5% python/javascript/c/shell) whose syntax-error rates differ
   (1.0/1.5/2.0/3.0%), and a rare flag (unexpected-script characters, 0.2% in every language).
   A fault then corrupts 0.8%, 4% or 16% of the slice's events, sticky (from the change on) or
   intermittent (on 200 events, off 600). The monitor's own detector (risk-adjusted CUSUM,
   baseline from a 2,000-event warm-up, threshold from ARL0 averaged over the baseline's
   uncertainty); delay in the slice's events after the change, next to the exact zero-start
   delay of the same CUSUMs on their lattice (Markov chain) and Siegmund's approximation for the
   same (sticky) shift, both averaged over the warm-ups' designs, and Lorden's h / KL for a
   CUSUM that knows the true rates before and after (the best any CUSUM can do).
2. False alarms: fresh warm-ups per run, then null streams (no fault) with the warm-up's prompt
   mix and with a harmless mix shift to 25/25/30/20%: the risk-adjusted detector next to the
   same detector with one pooled baseline rate (what a plain Bernoulli CUSUM does); then the
   full traffic simulator with a prompt-mix shift half way, every slice and metric, with the
   real online checks.
3. Ingestion throughput: the real server (uvicorn) on loopback, SQLite WAL (synchronous=FULL)
   and PostgreSQL when its binaries are installed, driven by an httpx async load generator with
   N concurrent clients posting batches.

    python benchmarks/monitor.py [--runs 100] [--null-events 50000] [--sim-seeds 4]
                                 [--throughput-events 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tripwire.monitor import (  # noqa: E402
    Detector,
    DetectorConfig,
    Event,
    Slice,
    Traffic,
    check_event,
    simulate,
)
from tripwire.stats import bernoulli_cusum, kl_bernoulli  # noqa: E402

ARL0 = 100_000.0
WARMUP = 2000
SL = Slice("v1", "us-east", "tpu-v5e", "chat")
LANGUAGES = ("python", "javascript", "c", "shell")
MIX = np.array([0.50, 0.30, 0.15, 0.05])
SHIFTED = np.array([0.25, 0.25, 0.30, 0.20])
METRICS = {"syntax_error": np.array([0.010, 0.015, 0.020, 0.030]),
           "unexpected_script": np.array([0.002, 0.002, 0.002, 0.002])}  # fmt: skip


def _warmed(metric: str, seed: int, pooled: bool = False) -> Detector:
    rng = np.random.default_rng(seed)
    det = Detector(DetectorConfig(arl0=ARL0, warmup=WARMUP, metrics=(metric,)))
    k = rng.choice(4, size=WARMUP, p=MIX)
    x = rng.random(WARMUP) < METRICS[metric][k]
    for ki, xi in zip(k, x, strict=True):
        det.observe(SL, {metric: bool(xi)}, stratum="" if pooled else LANGUAGES[ki])
    return det


def _run(det: Detector, metric: str, rng: np.random.Generator, mix: np.ndarray, horizon: int,
         fault: float = 0.0, sticky: bool = True) -> int | None:  # fmt: skip
    """Events until the detector alarms (None: not within ``horizon``)."""
    k = rng.choice(4, size=horizon, p=mix)
    u = rng.random(horizon)
    p0 = METRICS[metric][k]
    on = np.ones(horizon, bool) if sticky else (np.arange(horizon) % 800) < 200
    rate = np.where(on, p0 + (1 - p0) * fault, p0)
    for t in range(horizon):
        if det.observe(SL, {metric: bool(u[t] < rate[t])}, stratum=LANGUAGES[k[t]]):
            return t
    return None


def delay_table(runs: int, horizon: int, warmups: int = 10) -> None:
    print(
        f"\n## Detection delay (ARL0 = {ARL0:,.0f} events per stream; {runs} runs per row "
        f"over {warmups} warm-ups of {WARMUP:,} events; horizon {horizon:,} events)\n"
    )
    print(
        "| metric (p0 by language) | fault share | pattern | detected | mean delay | median | "
        "exact ARL1, this CUSUM | Siegmund, this CUSUM | Lorden h/KL, tuned CUSUM |"
    )
    print("|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for metric, p0 in METRICS.items():
        for fault in (0.008, 0.04, 0.16):
            for sticky in (True, False):
                delays, designs = [], {}
                for seed in range(runs):
                    # warm-ups repeat across rows, so each one's calibrated design is cached
                    det = _warmed(metric, seed=seed % warmups)
                    rng = np.random.default_rng(1000 + seed)
                    delays.append(_run(det, metric, rng, MIX, horizon, fault, sticky))
                    designs[seed % warmups] = det._designs[(SL.route, metric)]
                hit = [d for d in delays if d is not None]
                exact, siegmund = [], []
                for design in designs.values():
                    strata = sorted(design.rates)
                    true0 = [float(p0[LANGUAGES.index(s)]) for s in strata]
                    shifted = [p + (1 - p) * fault for p in true0]
                    exact.append(design.cusum.arl(shifted))
                    siegmund.append(design.cusum.expected_delay(shifted))
                pbar, p1bar = float(MIX @ p0), float(MIX @ (p0 + (1 - p0) * fault))
                tuned = bernoulli_cusum(round(pbar, 8), round(p1bar, 8), ARL0)
                lorden = tuned.h / kl_bernoulli(p1bar, pbar)
                label = "/".join(f"{v:.1%}" for v in p0) if len(set(p0)) > 1 else f"{p0[0]:.1%}"
                theory = [
                    _fmt(v) if sticky else "-"
                    for v in (float(np.mean(exact)), float(np.mean(siegmund)), lorden)
                ]
                print(f"| {metric} ({label}) | {fault:.1%} | "
                      f"{'sticky' if sticky else 'intermittent'} | {len(hit)}/{runs} | "
                      f"{_fmt(np.mean(hit)) if hit else '-'} | "
                      f"{_fmt(np.median(hit)) if hit else '-'} | "
                      f"{' | '.join(theory)} |")  # fmt: skip


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if math.isfinite(v) else "never"


def _null_rate(metric: str, mix: np.ndarray, runs: int, n: int, pooled: bool) -> tuple[int, int]:
    alarms = exposure = 0
    for seed in range(runs):
        det = _warmed(metric, seed=50_000 + seed, pooled=pooled)
        if pooled:
            # the pooled detector sees every event as one stratum
            rng = np.random.default_rng(90_000 + seed)
            k = rng.choice(4, size=n, p=mix)
            x = rng.random(n) < METRICS[metric][k]
            t = next((i for i, xi in enumerate(x) if det.observe(SL, {metric: bool(xi)})), None)
        else:
            t = _run(det, metric, np.random.default_rng(90_000 + seed), mix, n)
        alarms += t is not None
        exposure += n if t is None else t + 1
    return alarms, exposure


def _sim_flags(seed: int, n: int) -> list[tuple[Slice, dict[str, bool | None], str]]:
    out = []
    for r in simulate(Traffic(n=n, seed=seed, mix_shift_at=n // 2)):
        if isinstance(r, Event):
            c = check_event(r)
            out.append((Slice.of(r), c.flags, c.stratum))
    return out


def false_alarm_table(runs: int, n: int, sim_seeds: int, sim_events: int) -> None:
    print(f"\n## False alarms (target: {1e6 / ARL0:.0f} per 1M stream-events, ARL0 = "
          f"{ARL0:,.0f})\n")  # fmt: skip
    print("| stream | baseline | mix after warm-up | streams x events | alarms | "
          "alarms per 1M stream-events |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for metric in METRICS:
        for mix_name, mix in (("warm-up mix", MIX), ("shifted mix", SHIFTED)):
            for pooled in (False, True):
                if metric == "unexpected_script" and pooled:
                    continue  # the same rate in every language: pooling changes nothing
                a, e = _null_rate(metric, mix, runs, n, pooled)
                base = "pooled rate" if pooled else "per language"
                print(f"| null, {metric} | {base} | {mix_name} | {runs} x {n:,} | {a} | "
                      f"{a / e * 1e6:.2f} |")  # fmt: skip
    flags = [_sim_flags(300 + s, sim_events) for s in range(sim_seeds)]
    for pooled in (False, True):
        alarms = exposure = 0
        for stream in flags:
            det = Detector(DetectorConfig(arl0=ARL0, warmup=WARMUP))
            for sl, f, stratum in stream:
                exposure += sum(v is not None for v in f.values())
                alarms += len(det.observe(sl, f, stratum="" if pooled else stratum))
        base = "pooled rate" if pooled else "per language"
        print(f"| simulator, all slices x metrics, real checks | {base} | shift at half | "
              f"{sim_seeds} seeds x {sim_events:,} events | {alarms} | "
              f"{alarms / exposure * 1e6:.2f} |")  # fmt: skip


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


async def _load(url: str, events: list[dict], clients: int, batch: int) -> float:
    import httpx

    chunks = [events[i : i + batch] for i in range(0, len(events), batch)]
    queue: asyncio.Queue = asyncio.Queue()
    for c in chunks:
        queue.put_nowait(c)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            while not queue.empty():
                body = {"events": queue.get_nowait()}
                r = await client.post(
                    "/v1/events", json=body, headers={"Authorization": "Bearer w"}
                )
                r.raise_for_status()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - t0


def throughput_table(n: int) -> None:
    import tests.monitor.conftest as support
    from tests.monitor.conftest import running_server

    support.WRITE = "w"
    records = [r for r in simulate(Traffic(n=n, seed=9)) if isinstance(r, Event)]
    print(f"\n## Ingestion throughput (real server on loopback, {n:,} events per row)\n")
    print("| database | clients | batch | events/s | batches/s |")
    print("|---|---|---|---|---|")
    with _postgres() as pg_url, tempfile.TemporaryDirectory() as tmp:
        dbs = [("SQLite WAL", None)] + ([("PostgreSQL", pg_url)] if pg_url else [])
        for name, url in dbs:
            for i, (clients, batch) in enumerate(((1, 1), (4, 1), (4, 50), (8, 200))):
                db = url or f"sqlite:///{tmp}/m{i}.db"
                if url is not None:  # a fresh database per row
                    from sqlalchemy import create_engine, text

                    engine = create_engine(url, isolation_level="AUTOCOMMIT")
                    with engine.connect() as conn:
                        conn.execute(text(f"CREATE DATABASE bench{i}"))
                    engine.dispose()
                    db = url.rsplit("/", 1)[0] + f"/bench{i}"
                with running_server(db, Path(tmp) / "log") as server:
                    count = min(n, 1500) if batch == 1 else n
                    body = [r.model_dump(mode="json") for r in records[:count]]
                    secs = asyncio.run(_load(server.url, body, clients, batch))
                print(f"| {name} | {clients} | {batch} | {count / secs:,.0f} | "
                      f"{count / batch / secs:,.1f} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=30_000)
    ap.add_argument("--null-events", type=int, default=50_000)
    ap.add_argument("--sim-seeds", type=int, default=4)
    ap.add_argument("--sim-events", type=int, default=12_000)
    ap.add_argument("--throughput-events", type=int, default=6000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["delay", "false", "throughput"])
    args = ap.parse_args()
    if "delay" not in args.skip:
        delay_table(args.runs, args.horizon)
    if "false" not in args.skip:
        false_alarm_table(max(args.runs // 2, 10), args.null_events, args.sim_seeds,
                          args.sim_events)  # fmt: skip
    if "throughput" not in args.skip:
        throughput_table(args.throughput_events)


if __name__ == "__main__":
    main()
