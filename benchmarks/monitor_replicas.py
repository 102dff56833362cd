"""`tripwire monitor serve` replicas on one PostgreSQL, measured.

1. One replica: ingestion throughput of this tree next to ``--baseline`` (default: the last
   commit without replicas, extracted with git archive: the checkout is untouched), same
   PostgreSQL, same load, fresh database per row, and (1b) the service's CPU per event
   in-process. What the order lock and the detection lease cost a lone server.
2. One vs two replicas of this tree: the same events split round-robin over the replicas'
   clients; events/s until every batch is acknowledged, and how long after the last
   acknowledgement the detecting replica has fed its detectors the last stored event.
3. What caps N replicas: the detecting replica's CPU per event another replica took (read back
   from PostgreSQL in seq order, and observed), next to one replica's ingest work per event.

    python benchmarks/monitor_replicas.py [--events 6000] [--baseline COMMIT]

The machine these numbers come from may be shared: every speed is printed with its peer from the
same run, and the ratio is what to compare. Two replicas on a 2-core machine share those cores
with PostgreSQL and the load generator: the second table shows what replication costs or buys
here, not on separate machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE_REPLICAS = "07e1111"
"""The last commit whose monitor had no replicas (HEAD was, before they were committed)."""
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tripwire.monitor import Event, Traffic, simulate  # noqa: E402


def _bench_monitor():  # the sibling benchmark's helpers (PostgreSQL, baseline tree)
    spec = importlib.util.spec_from_file_location("bench_monitor", ROOT / "benchmarks/monitor.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _servers(db: str, n: int, log: Path, src: Path | None) -> Iterator[list[str]]:
    """``n`` replicas of ``monitor serve`` on ``db`` (``src``: another tree's package)."""
    from tests.monitor.conftest import CLI, READ, WRITE, free_port

    env = {**os.environ, "TRIPWIRE_MONITOR_WRITE_TOKENS": WRITE,
           "TRIPWIRE_MONITOR_READ_TOKENS": READ,
           **({"PYTHONPATH": str(src)} if src else {})}  # fmt: skip
    procs, urls = [], []
    try:
        for _ in range(n):
            port = free_port()
            cmd = [sys.executable, "-c", CLI, "monitor", "serve", "--db", db, "--port", str(port),
                   "--triage", "rules"]  # fmt: skip
            procs.append(subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                          env=env))  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
        healthy = _bench_monitor().wait_healthy
        for url in urls:
            healthy(url)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


async def _load(urls: list[str], bodies: list[bytes], clients: int) -> float:
    """Seconds until every body is acknowledged; client ``i`` posts to ``urls[i % n]``."""
    from tests.monitor.conftest import WRITE

    queue = list(bodies)
    headers = {"Authorization": f"Bearer {WRITE}", "Content-Type": "application/json"}

    async def worker(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as client:
            while queue:
                (await client.post("/v1/events", content=queue.pop())).raise_for_status()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(clients)))
    return time.perf_counter() - t0


def _detection_lag(urls: list[str], db: str) -> float:
    """Seconds until the detecting replica's cursor reaches the last stored event."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.connect() as conn:
        last = conn.scalar(text("SELECT max(seq) FROM monitor_events"))
    engine.dispose()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 120:
        for url in urls:
            h = httpx.get(url + "/healthz", timeout=30).json()
            if h.get("detecting") and h.get("cursor") == last:
                return time.perf_counter() - t0
        time.sleep(0.02)
    return float("nan")


def _bodies(records: list[dict], count: int, batch: int) -> list[bytes]:
    return [json.dumps({"events": records[j : j + batch]}).encode()
            for j in range(0, count, batch)]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--events", type=int, default=6000)
    ap.add_argument("--baseline", default=BEFORE_REPLICAS,
                    help="commit to compare one replica against")  # fmt: skip
    args = ap.parse_args()
    bm = _bench_monitor()
    n = args.events
    records = [r.model_dump(mode="json", exclude_none=True) for r in simulate(Traffic(n=n, seed=9))
               if isinstance(r, Event)]  # fmt: skip
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start)")  # fmt: skip
    with bm._postgres() as pg, bm._baseline_tree(args.baseline) as old_src:
        if pg is None:
            return
        log = Path(os.environ.get("TMPDIR", "/tmp")) / "monitor_replicas.log"
        print(f"\n## 1. One replica on PostgreSQL: this tree vs {args.baseline} ({n:,} events "
              "per row, 200 for batch 1; acknowledged = committed)\n")  # fmt: skip
        print(f"| clients | batch | events/s (best of 2) | {args.baseline}: events/s | ratio | "
              "load average |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for i, (clients, batch) in enumerate(((1, 1), (4, 50), (8, 200))):
            count = min(n, 200) if batch == 1 else n
            bodies = _bodies(records, count, batch)
            best = {"new": 0.0, "old": float("nan") if old_src is None else 0.0}
            for rep in range(2):  # interleaved, best of two: both see the same machine
                for which, src in (("new", None), ("old", old_src)):
                    if which == "old" and src is None:
                        continue
                    db = bm._fresh_pg(pg, f"r{which}{i}x{rep}")
                    with _servers(db, 1, log, src) as urls:
                        rate = count / asyncio.run(_load(urls, bodies, clients))
                    best[which] = max(best[which], rate)
            new, old = best["new"], best["old"]
            print(f"| {clients} | {batch} | {new:,.0f} | {old:,.0f} | {new / old:.2f} | "
                  f"{os.getloadavg()[0]:.1f} |")  # fmt: skip

        print(f"\n## 1b. One replica's own work per event on PostgreSQL, in-process (validate, "
              f"check, commit, observe; {n:,} events in batches of 200; CPU time of the "
              "service, not PostgreSQL's)\n")  # fmt: skip
        print(f"| run | events per CPU-second | {args.baseline} | ratio |")
        print("|---|---|---|---|")
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "cpu.py"
            script.write_text(
                bm._CPU_SCRIPT.replace(
                    'db = f"sqlite:///{tempfile.mkdtemp()}/m.db"', "db = sys.argv[2]"
                ),
                "utf-8",
            )

            def cpu_rate(src: Path | None, db: str) -> float:
                env = {**os.environ, **({"PYTHONPATH": str(src)} if src else {})}
                out = subprocess.run([sys.executable, str(script), str(n), db], env=env,
                                     capture_output=True, text=True)  # fmt: skip
                return float(out.stdout.strip() or "nan")

            for run in (1, 2):  # interleaved
                new = cpu_rate(None, bm._fresh_pg(pg, f"c{run}new"))
                old = cpu_rate(old_src, bm._fresh_pg(pg, f"c{run}old")) if old_src else math.nan
                print(f"| {run} | {new:,.0f} | {old:,.0f} | {new / old:.2f} |")

        print(f"\n## 2. One vs two replicas of this tree ({n:,} events, 8 clients, batches of "
              "50, split round-robin over the replicas)\n")  # fmt: skip
        print("| replicas | events/s | ratio to 1 | detected to the last event, s after the "
              "last ack | load average |")  # fmt: skip
        print("|---|---|---|---|---|")
        base = None
        for replicas in (1, 2):
            db = bm._fresh_pg(pg, f"rep{replicas}")
            with _servers(db, replicas, log, None) as urls:
                rate = n / asyncio.run(_load(urls, _bodies(records, n, 50), 8))
                lag = _detection_lag(urls, db)
            base = base or rate
            print(f"| {replicas} | {rate:,.0f} | {rate / base:.2f} | {lag:.2f} | "
                  f"{os.getloadavg()[0]:.1f} |")  # fmt: skip
        follow_table(pg, n)


def follow_table(pg: str, n: int) -> None:
    """What bounds N replicas: the detecting one reads back and observes every event the
    others took (its own come from memory)."""
    from tripwire.monitor import Detector, DetectorConfig, Store, check_event

    print(f"\n## 3. The detecting replica's work per event another replica took (read back in "
          f"seq order from PostgreSQL, then observed; {n:,} stored events, default detector "
          "options; CPU time)\n")  # fmt: skip
    print("| run | read back: events per CPU-second | read back + observe | checks + commit "
          "(what each replica spends on the events it takes) |")  # fmt: skip
    print("|---|---|---|---|")
    events = [r for r in simulate(Traffic(n=n, seed=9)) if isinstance(r, Event)]
    store = Store(_bench_monitor()._fresh_pg(pg, "follow"))
    t0 = time.process_time()
    checked = [(e, check_event(e)) for e in events]
    for i in range(0, len(checked), 200):
        store.add_events(checked[i : i + 200])
    ingest = len(events) / (time.process_time() - t0)
    for run in (0, 1, 2):  # run 0 designs the charts (cached for the runs after): not shown
        t0 = time.process_time()
        rows = list(store.iter_flags(0, None))
        read = len(rows) / (time.process_time() - t0)
        detector = Detector(DetectorConfig())
        t0 = time.process_time()
        for _seq, sl, flags, ts, stratum, attrs in store.iter_flags(0, 2000 * 1000):
            detector.observe(sl, flags, ts, stratum, attrs)
        both = len(rows) / (time.process_time() - t0)
        if run:
            print(f"| {run} | {read:,.0f} | {both:,.0f} | {ingest:,.0f} |")
    store.close()


if __name__ == "__main__":
    main()
