"""Execution on Ray vs the local sandbox pool: samples/s executed for the same samples.

Samples: for every HumanEval task its canonical solution and four broken completions (a wrong
result, an exception, a syntax error, ``sys.exit(0)``), as ``Judged`` jobs (HumanEval's tests in
a trusted judge process), exactly what ``tripwire eval run`` executes. No result cache: every
program runs.

Local: ``Sandbox(workers=W)``. Ray: ``RaySandbox`` (one single-worker pool per Ray task) on the
cluster at ``$RAY_ADDRESS``, else on a local Ray instance of W CPUs started here (so both use the
same cores). Each engine is started and warmed up first (Ray: a pool on every worker process;
start-up is printed separately); then the samples run ``--repeats`` times, alternating engines,
and the best pass counts. Both must give every sample the same verdict.

Prints a markdown table: seconds, samples/s, samples/s per core, and Ray's ratio to local.

    python benchmarks/execution_ray.py --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from tripwire.evals import HumanEval
from tripwire.sandbox import Limits, RaySandbox, Sandbox

BROKEN = (
    "    return None\n",
    "    raise ValueError('broken on purpose')\n",
    "    return (1,\n",
    "    import sys\n    sys.exit(0)\n",
)


def build_jobs(suite: HumanEval) -> list:
    jobs = []
    for tid, p in suite.problems.items():
        for completion in (p["canonical_solution"], *BROKEN):
            jobs.append(suite.job(tid, completion))
    return jobs


def timed(box: Sandbox, jobs: list) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    results = box.run_many(jobs, use_cache=False)
    return time.perf_counter() - t0, [r.verdict for r in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="local workers / local Ray CPUs")
    ap.add_argument("--timeout", type=float, default=3.0, help="per-program wall/CPU limit")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import ray

    from tripwire.ray_cluster import connect

    suite = HumanEval()
    jobs = build_jobs(suite)
    limits = Limits(wall_s=args.timeout, cpu_s=args.timeout)
    started = {}
    t0 = time.perf_counter()
    local = Sandbox(args.workers, limits)
    local.start()
    started["local"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    connect(num_cpus=args.workers)
    remote = RaySandbox(limits)
    remote.start()
    # a pool on every Ray worker process: the first batches pay for the pools' start
    remote.run_many(jobs[: 2 * 16 * remote.workers], use_cache=False)
    started["ray"] = time.perf_counter() - t0
    cores = {"local": args.workers, "ray": remote.workers}
    best: dict[str, float] = {}
    verdicts: dict[str, list[str]] = {}
    try:
        for _ in range(args.repeats):
            for name, box in (("local", local), ("ray", remote)):
                seconds, verdicts[name] = timed(box, jobs)
                best[name] = min(best.get(name, seconds), seconds)
    finally:
        local.close()
        remote.close()
        if ray.is_initialized():
            ray.shutdown()
    agree = sum(a == b for a, b in zip(verdicts["local"], verdicts["ray"], strict=True))
    where = os.environ.get("RAY_ADDRESS") or f"local Ray instance, {args.workers} CPUs"
    print(f"{len(jobs)} HumanEval samples (judged), timeout {args.timeout:g} s, best of "
          f"{args.repeats}; {platform.node()}, {os.cpu_count()} cores; Ray: {where}")  # fmt: skip
    print()
    print("| engine | cores | start-up s | seconds | samples/s | samples/s per core | vs local |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("local", "ray"):
        rate = len(jobs) / best[name]
        ratio = best["local"] / best[name]
        print(f"| {name} | {cores[name]} | {started[name]:.2f} | {best[name]:.2f} | {rate:.1f} | "
              f"{rate / cores[name]:.1f} | {ratio:.2f}x |")  # fmt: skip
    print()
    print(f"verdicts agree on {agree}/{len(jobs)} samples")


if __name__ == "__main__":
    main()
