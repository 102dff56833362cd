"""Peak memory and wall time of the commands that run a real model, on SmolLM2-135M on CPU.

Each command runs in its own process (its peak resident set is the kernel's ``ru_maxrss`` of
that process, read by the wrapper that waits for it); the table gives it in bytes and in units
of the model's weight size (0.54 GB of float32 for SmolLM2-135M):

- ``eval run --suite retention`` (held-out code, ``--max-per-language``),
- ``eval run --suite humaneval`` on the first ``--problems`` problems (chat template, greedy),
- ``train finetune`` (a few steps of full fine-tuning with LwF on one language),
- ``gate`` of the model against a copy with code tokens added (tokens audit, retention on both).

Targets (issue #24): the gate on two 135M models under 3 GB; retention scoring at >= 50% of the
tokens/s of one plain forward pass over the same tokens packed into full windows, measured here
in one process (``--throughput``: same model, same tokens, back to back).

    python benchmarks/memory.py [--model DIR] [--max-per-language 20] [--problems 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIPWIRE = [str(Path(sys.executable).with_name("tripwire"))]


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, int, str]:
    """(exit code, wall seconds, peak RSS bytes, the output's last line) of one command."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, code)\n"
    )
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    peak_line = [x for x in run.stdout.splitlines() if x.startswith("PEAK ")][-1].split()
    tail = (run.stderr.strip().splitlines() or [""])[-1][:160]
    return int(peak_line[2]), wall, int(peak_line[1]), tail


HUMANEVAL_SUBSET = """
import sys
from tripwire.evals import HFBackend, HumanEval, GenerationConfig, run_eval
from tripwire.sandbox import Sandbox

class First(HumanEval):
    def tasks(self):
        return super().tasks()[: int(sys.argv[2])]

backend = HFBackend(sys.argv[1]).with_config(GenerationConfig(max_new_tokens=512))
with Sandbox() as box:
    run = run_eval(First(), backend, box, out=sys.argv[3], n=1, ks=(1,))
print(run.summary["pass_at_k"])
"""


def throughput(model_dir: Path, max_per_language: int) -> dict[str, float]:
    """Tokens/s of retention scoring and of a plain forward over the same tokens packed into
    full windows of the same size, back to back in this process."""
    import torch

    from tripwire.evals import HFBackend, get_suite

    suite = get_suite("retention", corpus=model_dir, max_per_language=max_per_language)
    texts = [t.prompt for t in suite.tasks()]
    backend = HFBackend(model_dir)
    tok, model = backend.tokenizer, backend.model
    window = min(suite.window, backend.context - 1)
    backend.loglikelihood(texts[:4])  # warm-up (and the split check)
    t0 = time.perf_counter()
    scores = backend.loglikelihood(texts, window=suite.window)
    ours = time.perf_counter() - t0
    tokens = sum(n for _, n in scores)
    stream = [i for e in tok.backend_tokenizer.encode_batch(texts) for i in [0, *e.ids]]
    rows = torch.tensor(stream[: len(stream) // window * window]).view(-1, window)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for row in rows:
            model(input_ids=row[None])
    packed = time.perf_counter() - t0
    packed_tokens = rows.numel()
    return {
        "texts": len(texts),
        "tokens": tokens,
        "window": window,
        "retention_tokens_per_s": tokens / ours,
        "packed_tokens": packed_tokens,
        "packed_tokens_per_s": packed_tokens / packed,
        "ratio": (tokens / ours) / (packed_tokens / packed),
        "load": _load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="checkpoint (default: the smollm2 import)")
    ap.add_argument("--max-per-language", type=int, default=20)
    ap.add_argument("--problems", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=[], help="retention humaneval train gate "
                    "throughput")  # fmt: skip
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from tripwire.faults import add_tokens
    from tripwire.reference import import_model
    from tripwire.train import reference_language_data

    model_dir = args.model or import_model("smollm2").path
    weights = sum(p.stat().st_size for p in model_dir.glob("*.safetensors"))
    work = Path(tempfile.mkdtemp(prefix="tripwire-memory-"))
    env = {**os.environ, "TRIPWIRE_HOME": str(work / "home")}
    data = reference_language_data(model_dir, "python", work / "python.jsonl", limit=40)
    per_language = f"max_per_language = {args.max_per_language}"
    (work / "policy.toml").write_text(
        f'[[suites]]\nname = "retention"\n{per_language}\nmargins = {{ bits_per_byte = "3%" }}\n'
    )
    stages = {
        "retention": ["eval", "run", f"hf:{model_dir}", "--suite", "retention",
                      "--max-per-language", str(args.max_per_language), "--out",
                      str(work / "retention")],
        "humaneval": ["-c", HUMANEVAL_SUBSET, str(model_dir), str(args.problems),
                      str(work / "humaneval")],
        "train": ["train", "finetune", str(model_dir), "--data", str(data), "--out",
                  str(work / "tuned"), "--steps", str(args.steps), "--batch-size", "8",
                  "--context", "256", "--lr", "1e-4", "--regularizer", "lwf", "--no-eval",
                  "--allow-unaudited", "--checkpoint-every", "0"],
        "gate": ["gate", "--baseline", str(model_dir), "--candidate", str(work / "grown"),
                 "--policy", str(work / "policy.toml"), "--json", str(work / "gate.json")],
    }  # fmt: skip
    wanted = args.only or [*stages, "throughput"]
    results = []
    print(f"model {model_dir} ({weights / 1e9:.2f} GB of weights); load {_load()}", flush=True)
    for name, argv in stages.items():
        if name not in wanted:
            continue
        if name == "gate":
            add_tokens(model_dir, work / "grown", ["    return ", "self.", "    def "], "mean")
        cmd = [sys.executable, *argv] if argv[0] == "-c" else [*TRIPWIRE, *argv]
        code, wall, peak, tail = measured(cmd, env)
        results.append({"stage": name, "exit": code, "wall_s": wall, "peak_bytes": peak,
                        "peak_in_weights": peak / weights, "load": _load(),
                        "tail": tail})  # fmt: skip
        print(f"{name}: exit {code}, {wall:.0f}s, peak {peak / 1e9:.2f} GB "
              f"({peak / weights:.1f}x weights); load {_load()}; {tail}", flush=True)  # fmt: skip
    print("\n| command | peak RSS | in weight sizes | wall time | load (1/5/15 min) |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['stage']} | {r['peak_bytes'] / 1e9:.2f} GB | {r['peak_in_weights']:.1f}x | "
              f"{r['wall_s']:.0f} s | {r['load']} |")  # fmt: skip
    rate = None
    if "throughput" in wanted:
        rate = throughput(model_dir, args.max_per_language)
        print(f"\nretention scoring {rate['retention_tokens_per_s']:.0f} tokens/s on "
              f"{rate['tokens']} tokens of {rate['texts']} chunks; plain forward over "
              f"{rate['packed_tokens']} tokens packed into {rate['window']}-token windows "
              f"{rate['packed_tokens_per_s']:.0f} tokens/s: {rate['ratio']:.0%} "
              f"(target >= 50%); load {rate['load']}")  # fmt: skip
    print(f"\nown peak RSS of this script: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"stages": results, "throughput": rate}, indent=2))


if __name__ == "__main__":
    main()
