"""`tripwire monitor` detectors and ingestion, measured.

1. Detection delay. Simulated per-event defect flags of one slice: background rate p0 (measured
   rates of the simulator's checks: 0.2% unexpected-script, 1.5% syntax errors), then a fault
   corrupting 0.8%, 4% or 16% of the slice's events, sticky (from the change on) or intermittent
   (on 200 events, off 600). The monitor's own detector (baseline from a 2,000-event warm-up,
   CUSUM tuned to 3x the baseline, threshold from ARL0) at a fixed false-alarm rate; delay in
   the slice's events after the change, next to Siegmund's approximation for the same CUSUM and
   the same (sticky) shift, and Lorden's h / KL for a CUSUM tuned to the true shift.
2. False alarms: the same detectors over null streams and over the full traffic simulator with a
   harmless prompt-mix shift (more C and shell, slower answers), across every slice and metric.
3. Ingestion throughput: the real server (uvicorn, SQLite WAL, synchronous=FULL) on loopback,
   driven by an httpx async load generator with N concurrent clients posting batches.

    python benchmarks/monitor.py [--runs 200] [--throughput-events 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tripwire.monitor import Detector, DetectorConfig, Event, Slice, Traffic, simulate  # noqa: E402
from tripwire.stats import bernoulli_cusum, kl_bernoulli  # noqa: E402

ARL0 = 100_000.0
WARMUP = 2000
SL = Slice("v1", "us-east", "tpu-v5e", "chat")


def _delay(p0: float, fault: float, sticky: bool, seed: int, horizon: int = 60_000) -> int | None:
    """Events after the change until the detector alarms (None: not within the horizon)."""
    rng = np.random.default_rng(seed)
    det = Detector(DetectorConfig(arl0=ARL0, warmup=WARMUP, metrics=("m",)))
    for x in rng.random(WARMUP) < p0:
        det.observe(SL, {"m": bool(x)})
    for t in range(horizon):
        on = sticky or (t % 800) < 200
        rate = p0 + (1 - p0) * fault if on else p0
        if det.observe(SL, {"m": bool(rng.random() < rate)}):
            return t
    return None


def delay_table(runs: int) -> None:
    print(f"\n## Detection delay (ARL0 = {ARL0:,.0f} events per stream; {runs} runs per row)\n")
    print("| metric p0 | fault share | pattern | detected | mean delay | median | "
          "Siegmund (this CUSUM) | Lorden h/KL (tuned CUSUM) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for p0 in (0.002, 0.015):
        for fault in (0.008, 0.04, 0.16):
            for sticky in (True, False):
                d = [_delay(p0, fault, sticky, seed) for seed in range(runs)]
                hit = [x for x in d if x is not None]
                p_est = (p0 * WARMUP + 0.5) / (WARMUP + 1)
                design = bernoulli_cusum(
                    round(p_est, 8), round(min(max(3 * p_est, p_est + 0.003), 0.999), 8), ARL0
                )
                p1 = p0 + (1 - p0) * fault
                siegmund = design.expected_delay(p1)
                tuned = bernoulli_cusum(round(p0, 8), round(p1, 8), ARL0)
                lorden = tuned.h / kl_bernoulli(p1, p0)
                print(f"| {p0:.3f} | {fault:.1%} | {'sticky' if sticky else 'intermittent'} | "
                      f"{len(hit)}/{runs} | {np.mean(hit) if hit else math.nan:,.0f} | "
                      f"{np.median(hit) if hit else math.nan:,.0f} | "
                      f"{siegmund if sticky else math.nan:,.0f} | "
                      f"{lorden if sticky else math.nan:,.0f} |")  # fmt: skip


def false_alarm_table(runs: int) -> None:
    print("\n## False alarms\n")
    print("| stream | events per stream | streams | alarms | alarms per 1M stream-events | "
          "target (1M / ARL0) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    n = 50_000
    for p0 in (0.002, 0.015):
        alarms = 0
        for seed in range(runs):
            rng = np.random.default_rng(10_000 + seed)
            det = Detector(DetectorConfig(arl0=ARL0, warmup=WARMUP, metrics=("m",)))
            for x in rng.random(WARMUP + n) < p0:
                alarms += len(det.observe(SL, {"m": bool(x)}))
        print(f"| null, p0={p0} | {n:,} | {runs} | {alarms} | {alarms / (runs * n) * 1e6:.2f} | "
              f"{1e6 / ARL0:.2f} |")  # fmt: skip
    total_alarms = 0
    stream_events = 0
    seeds = 4
    for seed in range(seeds):
        records = simulate(Traffic(n=12_000, seed=100 + seed, mix_shift_at=6000))
        det = Detector(DetectorConfig(arl0=ARL0, warmup=500))
        from tripwire.monitor import check_event

        for r in records:
            if isinstance(r, Event):
                flags = check_event(r).flags
                stream_events += sum(v is not None for v in flags.values())
                total_alarms += len(det.observe(Slice.of(r), flags))
    print(f"| simulator, prompt-mix shift at half (all slices x metrics) | 12,000 events x "
          f"{seeds} seeds | - | {total_alarms} | {total_alarms / stream_events * 1e6:.2f} | "
          f"{1e6 / ARL0:.2f} |")  # fmt: skip


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
    print(
        f"\n## Ingestion throughput (real server on loopback, SQLite WAL, {n:,} events per row)\n"
    )
    print("| clients | batch | events/s | batches/s |")
    print("|---|---|---|---|")
    for clients, batch in ((1, 1), (4, 1), (4, 50), (8, 200)):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/m.db"
            with running_server(url, Path(tmp) / "log") as server:
                count = min(n, 1500) if batch == 1 else n
                body = [r.model_dump(mode="json") for r in records[:count]]
                secs = asyncio.run(_load(server.url, body, clients, batch))
        print(f"| {clients} | {batch} | {count / secs:,.0f} | {count / batch / secs:,.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--throughput-events", type=int, default=6000)
    args = ap.parse_args()
    delay_table(args.runs)
    false_alarm_table(max(args.runs // 4, 10))
    throughput_table(args.throughput_events)


if __name__ == "__main__":
    main()
