"""Speed and memory of `tripwire tokens audit` on a synthetic 150k-token x 4096-dim bf16 pair.

Writes two tied checkpoints (about 1.2 GB of embeddings each) under a temporary directory:
the candidate is the baseline after a clean fine-tune (every row moved by about 1%), with the
ids of 1,000 tokens reassigned in cycles of 10 (rows not remapped) and 256 tokens added with
random rows. Each measured step runs in a fresh subprocess, so its peak resident memory
(``VmHWM``, which counts mapped file pages) is its own. The files are deleted afterwards.

    python benchmarks/tokens_speed.py [--vocab 150000] [--dim 4096] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_STEP = r"""
import json, re, resource, sys, time
t0 = time.perf_counter()
from tripwire.tokens import audit, repair
imported = time.perf_counter() - t0
step, base, cand, out = sys.argv[1:5]
t1 = time.perf_counter()
start = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = start.ru_utime + start.ru_stime
if step == "audit":
    report = audit(base, cand)
    found = {f.code: len(f.token_ids) for f in report.findings if f.severity != "info"}
    verdict = str(report.verdict)
else:
    result = repair(base, cand, out)
    found = {"copied": len(result.plan["input"]["copied"]),
             "synthesised": len(result.plan["input"]["synthesised"])}
    verdict = "-"
seconds = time.perf_counter() - t1
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu0
# VmHWM, not ru_maxrss: that one also carries the parent's peak across a vfork + exec
peak = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "import_seconds": imported,
                  "peak_bytes": peak, "verdict": verdict, "found": found}))
"""


def _bpe(vocab_size: int, seed: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A valid byte-level BPE vocabulary of ``vocab_size`` tokens built from random merges."""
    import random

    from tokenizers import pre_tokenizers

    rng = random.Random(seed)
    tokens = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    while len(vocab) < vocab_size:
        a, b = rng.choice(tokens), rng.choice(tokens)
        if len(a) + len(b) > 12 or a + b in vocab:
            continue
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
        merges.append((a, b))
    return vocab, merges


def _write_checkpoint(path: Path, vocab: dict[str, int], merges, added: list[str], table) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    path.mkdir(parents=True)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_tokens(added)
    tok.save(str(path / "tokenizer.json"))
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": int(table.shape[0]),
        "hidden_size": int(table.shape[1]),
        "tie_word_embeddings": True,
        "initializer_range": 0.02,
    }
    (path / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    save_file({"model.embed_tokens.weight": table}, path / "model.safetensors")


def make_pair(root: Path, vocab_size: int, dim: int, seed: int = 0) -> tuple[Path, Path]:
    import torch

    vocab, merges = _bpe(vocab_size, seed)
    gen = torch.Generator().manual_seed(seed)
    # Shaped like a trained table: a common direction, a low-rank structure and some noise,
    # so random-initialised rows look unlike trained ones, as they do in real models.
    common = torch.randn(dim, generator=gen)
    basis = torch.randn(64, dim, generator=gen)
    base = torch.empty(vocab_size, dim, dtype=torch.bfloat16)
    for start in range(0, vocab_size, 8192):
        n = min(8192, vocab_size - start)
        rows = 0.5 * common + torch.randn(n, 64, generator=gen) @ basis / 8
        rows += 0.5 * torch.randn(n, dim, generator=gen)
        scale = torch.exp(torch.randn(n, 1, generator=gen) * 0.2) * 0.02 / rows.std()
        base[start : start + n] = (rows * scale).bfloat16()
    _write_checkpoint(root / "baseline", vocab, merges, [], base)
    # The candidate: every row drifts ~1%; 1,000 ids rotate in cycles of 10; 256 tokens added.
    cand = torch.empty(vocab_size + 256, dim, dtype=torch.bfloat16)
    for start in range(0, vocab_size, 8192):
        rows = base[start : start + 8192].float()
        noise = torch.randn(rows.shape, generator=gen) * rows.std(dim=1, keepdim=True) * 0.01
        cand[start : start + len(rows)] = (rows + noise).bfloat16()
    cand[vocab_size:] = (torch.randn(256, dim, generator=gen) * 0.02).bfloat16()
    del base
    strings = sorted(vocab, key=vocab.get)
    cand_vocab = dict(vocab)
    picked = torch.randperm(vocab_size - 256, generator=gen)[:1000].add(256).tolist()
    for k in range(0, 1000, 10):
        cycle = picked[k : k + 10]
        for j, tid in enumerate(cycle):
            cand_vocab[strings[tid]] = cycle[(j + 1) % len(cycle)]
    added = [f"<|new_{i}|>" for i in range(256)]
    _write_checkpoint(root / "candidate", cand_vocab, merges, added, cand)
    return root / "baseline", root / "candidate"


def _run_step(step: str, base: Path, cand: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _STEP, step, str(base), str(cand), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=150_000)
    parser.add_argument("--dim", type=int, default=4096)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--repair", action="store_true", help="Also time the repair.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tw-tokens-speed-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        base, cand = make_pair(root, args.vocab, args.dim)
        made = time.perf_counter() - t0
        matrices = sum(os.path.getsize(p / "model.safetensors") for p in (base, cand))
        steps = ["audit", *(["repair"] if args.repair else [])]
        results = {s: _run_step(s, base, cand, root / "repaired") for s in steps}
        print(
            f"\nsynthetic pair: {args.vocab} x {args.dim} bf16, two matrices "
            f"{matrices / 1e9:.2f} GB on disk (written in {made:.0f} s; page cache warm); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
        )
        print("| step | wall s | CPU s | peak RSS (GB) | peak / two matrices | verdict | found |")
        print("|---|---|---|---|---|---|---|")
        for step, r in results.items():
            print(
                f"| {step} | {r['seconds']:.2f} (+{r['import_seconds']:.1f} import) | "
                f"{r['cpu_seconds']:.2f} | "
                f"{r['peak_bytes'] / 1e9:.2f} | {r['peak_bytes'] / matrices:.2f}x | "
                f"{r['verdict']} | {r['found']} |"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
