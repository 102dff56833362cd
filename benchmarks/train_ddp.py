"""Fine-tuning throughput: one process vs two torchrun ranks (DDP over gloo), same global batch.

Both runs train the same model on the same data with the same config (full fine-tune, EWC by
default) and the same global batch; tokens/s is the global batch's tokens (rows x context) per
second of training, timed on rank 0 from the end of the first step to the end of the last (model
loading, the Fisher and the first step's warm-up are left out; the ranks step in lockstep, so
rank 0's clock is the run's). CPU threads: one process with ``--threads`` threads, one with
half as many, and two ranks with half each (the same cores as the first). The final task
losses are printed too: they must agree (the runs are the same computation).

    python benchmarks/train_ddp.py [--model DIR] [--steps 12] [--batch-size 8] [--context 128]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(args: argparse.Namespace) -> None:
    """One process or one rank: fine-tune and (rank 0) write the timing to ``args.result``."""
    from tripwire.train import TrainConfig, finetune, launched

    marks: dict[int, float] = {}

    def progress(task: str, done: float, total: float) -> None:
        if task == "train":
            marks[int(done)] = time.perf_counter()

    config = TrainConfig(
        learning_rate=1e-3,
        steps=args.steps,
        batch_size=args.batch_size,
        context=args.context,
        warmup_steps=1,
        regularizer=args.regularizer,
        fisher_samples=8,
        checkpoint_every=0,
        target_heldout=0.0,
    )
    out = Path(args.workdir) / f"tuned-{os.environ.get('WORLD_SIZE', '1')}"
    result = finetune(args.model, args.data, out, config, allow_unaudited=True, progress=progress)
    if launched().is_main:
        timed = args.steps - 1
        seconds = marks[args.steps] - marks[1]
        tokens = timed * args.batch_size * args.context
        Path(args.result).write_text(
            json.dumps(
                {
                    "world_size": result.world_size,
                    "tokens_per_s": tokens / seconds,
                    "seconds": seconds,
                    "last_loss": result.loop.task_loss[-1],
                }
            )
        )


def launch(args: argparse.Namespace, ranks: int, work: Path, threads: int) -> dict[str, float]:
    """Train with ``ranks`` processes of ``threads`` CPU threads each; rank 0's timing."""
    result = work / f"result-{ranks}-{threads}.json"
    tail = ["--worker", "--model", str(args.model), "--data", str(args.data),
            "--workdir", str(work), "--result", str(result), "--steps", str(args.steps),
            "--batch-size", str(args.batch_size), "--context", str(args.context),
            "--regularizer", args.regularizer]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    env.pop("WORLD_SIZE", None)
    if ranks == 1:
        cmd = [sys.executable, __file__, *tail]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", str(ranks), __file__, *tail]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(f"{ranks} process(es) failed:\n{done.stderr[-3000:]}")
    return json.loads(result.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--model", type=Path, help="reference model (default: the tiny one, built)")
    p.add_argument("--data", type=Path, help="fine-tune data (default: its Python files)")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--regularizer", default="ewc")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                   help="CPU threads in all (one process: all; each of 2 ranks: half)")  # fmt: skip
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    from tripwire.reference import build_reference
    from tripwire.train import reference_language_data

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.model is None:
            args.model = build_reference("tiny").path
        if args.data is None:
            args.data = reference_language_data(args.model, "python", work / "python.jsonl")
        half = max(1, args.threads // 2)
        runs = [("1 process", args.threads, launch(args, 1, work, args.threads)),
                ("1 process", half, launch(args, 1, work, half)),
                ("torchrun, 2 ranks (gloo)", half, launch(args, 2, work, half))]  # fmt: skip
    tokens = args.batch_size * args.context
    print(f"model {args.model.name}, {args.regularizer}, global batch {args.batch_size} x "
          f"{args.context} = {tokens} tokens, {args.steps} steps ({args.steps - 1} timed), "
          f"{args.threads} CPU threads in all\n")  # fmt: skip
    # the ratio is to the faster one-process run: on a busy machine a second thread can slow
    # one process down (its threads wait for each other), which is no merit of two ranks
    print("| run | threads/process | tokens/s | vs the faster 1-process run | last task loss |")
    print("|---|---:|---:|---:|---:|")
    base = max(r["tokens_per_s"] for name, _, r in runs if name == "1 process")
    for name, threads, r in runs:
        speed = r["tokens_per_s"]
        print(f"| {name} | {threads} | {speed:,.0f} | {speed / base:.2f}x | {r['last_loss']:.6f} |")


if __name__ == "__main__":
    main()
