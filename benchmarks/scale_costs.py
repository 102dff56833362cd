"""Per-unit costs measured here, and what they project for work past one machine.

Measures, in one run on this machine:
- executed samples/s per core: HumanEval canonical solutions and broken completions through the
  local sandbox pool (``benchmarks/execution_ray.py``'s samples; Ray adds ~2% per sample there);
- audited bytes/s per core: ``tripwire data audit`` (every default check but the records' own
  tests) on top-level definitions of installed Python files (``benchmarks/data_audit.py``'s set);
- trained tokens/s: a full fine-tune of the tiny reference model (its own Python files), one
  process (``benchmarks/train_ddp.py`` compares torchrun ranks).

Then projects core-hours, and wall time on 16-core nodes, for 1M executed samples and a
1B-token audit. Tokens are converted to bytes at ``--bytes-per-token`` (3.5 by default: what a
50k-150k BPE vocabulary averages on source code; measure yours and pass it). Training tokens/s
of a 3M-parameter model says nothing about a 7B one: it is printed, not projected.

    python benchmarks/scale_costs.py [--samples 820] [--records 4000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from data_audit import build_corpus
from execution_ray import build_jobs

NODE_CORES = 16


def executed_per_core_s(workers: int, samples: int) -> tuple[float, int]:
    from tripwire.evals import HumanEval
    from tripwire.sandbox import Limits, Sandbox

    jobs = build_jobs(HumanEval())[:samples]
    with Sandbox(workers, Limits(wall_s=3.0, cpu_s=3.0)) as box:
        box.run_many(jobs[: 4 * workers], use_cache=False)  # warm the pool
        t0 = time.perf_counter()
        box.run_many(jobs, use_cache=False)
        seconds = time.perf_counter() - t0
    return len(jobs) / seconds / workers, len(jobs)


def audited_bytes_per_core_s(workers: int, records: int, work: Path) -> tuple[float, int, int]:
    from tripwire.data import AuditConfig, audit

    data = work / "audit.jsonl"
    n = build_corpus(data, records)
    size = data.stat().st_size
    config = AuditConfig(run_tests=False, workers=workers)
    t0 = time.perf_counter()
    audit([data], config=config, workdir=work / "audit-work")
    seconds = time.perf_counter() - t0
    return size / seconds / workers, n, size


def trained_tokens_s(work: Path, steps: int = 8, batch: int = 8, context: int = 128) -> float:
    from tripwire.reference import build_reference
    from tripwire.train import TrainConfig, finetune, reference_language_data

    model = build_reference("tiny").path
    data = reference_language_data(model, "python", work / "train.jsonl")
    marks: dict[int, float] = {}

    def progress(task: str, done: float, total: float) -> None:
        if task == "train":
            marks[int(done)] = time.perf_counter()

    config = TrainConfig(learning_rate=1e-3, steps=steps, batch_size=batch, context=context,
                         warmup_steps=1, checkpoint_every=0, target_heldout=0.0)  # fmt: skip
    finetune(model, data, work / "tuned", config, allow_unaudited=True, progress=progress)
    return (steps - 1) * batch * context / (marks[steps] - marks[1])


def _hours(core_seconds: float) -> str:
    return f"{core_seconds / 3600:,.1f}"


def _wall(core_seconds: float, nodes: int) -> str:
    minutes = core_seconds / (nodes * NODE_CORES) / 60
    return f"{minutes:,.1f} min" if minutes < 120 else f"{minutes / 60:,.1f} h"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--samples", type=int, default=820)
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--bytes-per-token", type=float, default=3.5)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exec_rate, samples = executed_per_core_s(args.workers, args.samples)
        audit_rate, records, size = audited_bytes_per_core_s(args.workers, args.records, work)
        train_rate = trained_tokens_s(work)
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the start\n")
    print("| unit | measured on | per core |")
    print("|---|---|---:|")
    print(f"| executed samples/s | {samples} HumanEval samples, {args.workers} workers | "
          f"{exec_rate:,.1f} |")  # fmt: skip
    print(f"| audited bytes/s | {records} records, {size / 1e6:.1f} MB, {args.workers} workers "
          f"| {audit_rate / 1e3:,.0f} kB/s |")  # fmt: skip
    print(f"| trained tokens/s (tiny reference, 1 process) | 8 steps x 8 x 128 tokens | "
          f"{train_rate:,.0f} (whole process) |")  # fmt: skip
    jobs = {
        "1M executed samples": 1e6 / exec_rate,
        "1B-token audit": 1e9 * args.bytes_per_token / audit_rate,
    }
    print(f"\nprojection ({args.bytes_per_token} bytes per token; nodes of {NODE_CORES} cores; "
          "start-up and stragglers not included)\n")  # fmt: skip
    print("| job | core-hours | 1 node | 4 nodes | 16 nodes | 64 nodes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, core_s in jobs.items():
        walls = " | ".join(_wall(core_s, n) for n in (1, 4, 16, 64))
        print(f"| {name} | {_hours(core_s)} | {walls} |")


if __name__ == "__main__":
    main()
