"""Forgetting benchmark: a narrow, aggressive fine-tune of the `small` reference model and the
same fine-tune under each forgetting control tripwire offers.

Every method trains on one language of the reference corpus's train split (default: python)
with the same steps, batch, context and schedule (LoRA at half the peak learning rate and for
four times the steps: see the table's steps column). Each tuned model is scored on every
language's held-out files, cut into chunks of 128 tokens and paired chunk by chunk with the
base (``tripwire.train.forgetting_report``'s scorer):

- target gain: the relative drop in held-out bits per byte on the trained language;
- forgetting: the relative rise in bits per byte on each other language.

Pass criteria (from the issue): the plain fine-tune forgets at least 10% on average over the
other languages; EWC, LwF, replay at 10% and LoRA each cut that average forgetting at least in
half while keeping at least 80% of the plain fine-tune's gain. L2-SP, LoRA with the output
head adapted and LoRA with replay are shown for reference. The LoRA settings were chosen by
``benchmarks/forgetting_lora_sweep.py`` on a validation slice of the train split.

Prints the table, writes the learning-vs-forgetting plot (PNG) and, with --json, every number.

    TRIPWIRE_CACHE=/tmp/twcache python benchmarks/forgetting.py --plot forgetting.png
    python benchmarks/forgetting.py --model REFERENCE_DIR   # an existing `small` checkpoint
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.artifacts import write_json_atomic
from tripwire.reference import build_reference
from tripwire.stats import SliceComparison
from tripwire.train import RetentionScorer, TrainConfig, finetune, reference_language_data

# The narrow, aggressive fine-tune every method shares: one language, a high learning rate.
BASE_CONFIG = TrainConfig(
    learning_rate=3e-3,
    steps=150,
    batch_size=16,
    context=128,
    warmup_steps=10,
    decay="cosine",
    min_lr_ratio=0.1,
    checkpoint_every=0,
)
METHODS: dict[str, dict[str, Any]] = {
    "plain": {},
    # the default lambda (the Fisher in loss units; 0.005 on the old mean-1 scale is 1,700 here)
    "ewc": {"regularizer": "ewc", "fisher_samples": 64},
    "lwf": {"regularizer": "lwf", "lwf_alpha": 1.0, "lwf_temperature": 2.0},
    "replay 10%": {"replay_ratio": 0.1},
    # adapters on attention and MLP (biases trained too): rank-stabilised LoRA at a high rank
    # with LoRA+ (B matrices at 4x the rate), at half the plain run's peak rate for 4x the steps
    # (the issue's lower learning rate and gradual adaptation; the table shows the steps): the
    # variant of benchmarks/forgetting_lora_sweep.py that met both thresholds with the widest
    # margin on a validation slice of the train split (93% of the gain kept, 70% of the
    # forgetting cut). At 2e-3 it peaked at 3x (79%/66%); above 2e-3 it is unstable.
    "lora": {
        "steps_x": 4,
        "method": "lora",
        "lora_r": 128,
        "lora_alpha": 32.0,
        "lora_rslora": True,
        "lora_plus_ratio": 4.0,
        "learning_rate": 1.5e-3,
        "lora_bias": "all",
        "lora_targets": ("c_attn", "c_proj", "c_fc"),
    },
    # plain LoRA (r16) with the (untied) output head adapted as well: learns more, forgets more
    "lora+head": {
        "method": "lora",
        "lora_r": 16,
        "lora_alpha": 32.0,
        "learning_rate": 1e-2,
        "lora_bias": "all",
        "lora_targets": ("c_attn", "c_proj", "c_fc", "lm_head"),
    },
    "l2sp": {"regularizer": "l2sp", "l2sp_alpha": 0.01},
}
# shown, not judged: the LoRA row with replay at 10% as well
METHODS["lora+replay"] = {**METHODS["lora"], "replay_ratio": 0.1}
JUDGED = ("ewc", "lwf", "replay 10%", "lora")
MIN_PLAIN_FORGETTING = 0.10
MAX_FORGETTING_SHARE = 0.5
MIN_GAIN_SHARE = 0.8


@dataclass
class Row:
    method: str
    config: dict[str, Any]
    comparisons: list[SliceComparison]
    target: str
    seconds: float

    def relative(self, lang: str) -> float:
        c = next(c for c in self.comparisons if c.slice == lang)
        return c.delta / c.baseline

    @property
    def steps(self) -> int:
        return int(self.config["steps"])

    @property
    def gain(self) -> float:
        """Relative improvement on the target language (positive: better)."""
        return -self.relative(self.target)

    @property
    def others(self) -> list[str]:
        return [c.slice for c in self.comparisons if c.slice != self.target]

    @property
    def forgetting(self) -> float:
        """Mean relative worsening over the other languages."""
        return float(np.mean([self.relative(lang) for lang in self.others]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "config": self.config,
            "target": self.target,
            "target_gain": self.gain,
            "mean_forgetting": self.forgetting,
            "forgetting": {lang: self.relative(lang) for lang in self.others},
            "seconds": round(self.seconds, 1),
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def with_steps(overrides: dict[str, Any], steps: int) -> dict[str, Any]:
    """``overrides`` with the step count: ``steps`` times their ``steps_x`` (default 1), so a
    method that trains longer says so and scales with ``--steps``."""
    out = dict(overrides)
    out["steps"] = steps * out.pop("steps_x", 1)
    return out


def run_method(
    name: str,
    overrides: dict[str, Any],
    base_config: TrainConfig,
    reference: Path,
    data: Path,
    work: Path,
    scorer: RetentionScorer,
    target: str,
    device: str | None,
) -> Row:
    config = replace(base_config, **with_steps(overrides, base_config.steps))
    t0 = time.perf_counter()
    out = work / name.replace(" ", "_").replace("%", "pct")
    finetune(reference, data, out, config, allow_unaudited=True, restart=True, device=device)
    seconds = time.perf_counter() - t0
    return Row(name, config.to_dict(), scorer.compare(out), target, seconds)


def verdicts(rows: list[Row]) -> dict[str, tuple[bool, str]]:
    plain = next(r for r in rows if r.method == "plain")
    out = {
        "plain": (
            plain.forgetting >= MIN_PLAIN_FORGETTING,
            f"forgets {plain.forgetting:+.1%} (needs >= {MIN_PLAIN_FORGETTING:.0%})",
        )
    }
    for r in rows:
        if r.method not in JUDGED:
            continue
        cut = 1 - r.forgetting / plain.forgetting if plain.forgetting > 0 else 0.0
        kept = r.gain / plain.gain if plain.gain > 0 else 0.0
        ok = cut >= 1 - MAX_FORGETTING_SHARE and kept >= MIN_GAIN_SHARE
        out[r.method] = (
            ok,
            f"cuts forgetting {cut:.0%} (>= 50%), keeps {kept:.0%} of the gain (>= 80%)",
        )
    return out


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def print_table(rows: list[Row], judged: dict[str, tuple[bool, str]]) -> None:
    others = rows[0].others
    head = [
        "method",
        "steps",
        f"gain {rows[0].target}",
        *(f"forget {o}" for o in others),
        "mean forget",
        "ok",
    ]
    widths = [12, 5, 14, *(max(10, len(h)) for h in head[3:-2]), 11, 4]
    print(_line(head, widths))
    for r in rows:
        ok = judged.get(r.method, (None, ""))[0]
        verdict = "-" if ok is None else ("yes" if ok else "NO")
        cells = [
            r.method,
            str(r.steps),
            f"{r.gain:+.1%}",
            *(f"{r.relative(o):+.1%}" for o in others),
            f"{r.forgetting:+.1%}",
            verdict,
        ]
        print(_line(cells, widths))
    for method, (ok, why) in judged.items():
        print(f"{'PASS' if ok else 'FAIL'}  {method}: {why}")


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    plain = next(r for r in rows if r.method == "plain")
    ax.axvline(plain.forgetting * 50, color="grey", ls=":", lw=1, label="half the plain forgetting")
    ax.axhline(plain.gain * 80, color="grey", ls="--", lw=1, label="80% of the plain gain")
    for r in rows:
        ax.scatter(r.forgetting * 100, r.gain * 100, s=50, zorder=3)
        ax.annotate(
            r.method, (r.forgetting * 100, r.gain * 100), textcoords="offset points", xytext=(6, 4)
        )
    ax.set_xlabel("forgetting: mean worsening of the other languages (% bits/byte)")
    ax.set_ylabel(f"learning: improvement on {plain.target} (% bits/byte)")
    ax.set_title("narrow fine-tune of the small reference model")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--reference",
        "--model",
        type=Path,
        help="An existing reference model dir (default: build or reuse the cached `small`).",
    )
    p.add_argument("--language", default="python", help="The language the fine-tune targets.")
    p.add_argument("--work", type=Path, default=Path("out/forgetting"), help="Work directory.")
    p.add_argument("--chunks", type=int, default=0, help="Held-out chunks per language (0: all).")
    p.add_argument("--steps", type=int, default=BASE_CONFIG.steps)
    p.add_argument(
        "--seed", type=int, default=BASE_CONFIG.seed, help="Initialisation and batch order."
    )
    p.add_argument("--methods", default=",".join(METHODS), help="Comma-separated subset.")
    p.add_argument("--device", default=None, help="Torch device (default: cuda if available).")
    p.add_argument("--plot", type=Path, default=Path("out/forgetting/forgetting.png"))
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    reference = args.reference or build_reference("small").path
    args.work.mkdir(parents=True, exist_ok=True)
    data = reference_language_data(reference, args.language, args.work / f"{args.language}.jsonl")
    t0 = time.perf_counter()
    scorer = RetentionScorer(reference, max_chunks=args.chunks or None, device=args.device)
    n = {lang: len(cs) for lang, cs in scorer.chunks.items()}
    print(f"reference {reference}\nheld-out chunks per language: {n}\n", flush=True)
    base_config = replace(BASE_CONFIG, steps=args.steps, seed=args.seed)
    names = [m.strip() for m in args.methods.split(",")]
    if "plain" not in names:
        names.insert(0, "plain")
    rows = []
    for name in names:
        rows.append(
            run_method(
                name,
                METHODS[name],
                base_config,
                reference,
                data,
                args.work,
                scorer,
                args.language,
                args.device,
            )
        )
        r = rows[-1]
        print(
            f"{name:>12}: gain {r.gain:+.1%}, mean forgetting {r.forgetting:+.1%} "
            f"({r.steps} steps, {r.seconds:.0f}s)",
            flush=True,
        )
    judged = verdicts(rows)
    print(
        f"\nnarrow fine-tune on {args.language}: {base_config.steps} steps, batch "
        f"{base_config.batch_size} x {base_config.context} tokens, peak lr "
        f"{base_config.learning_rate:g}; change in held-out bits/byte vs base\n"
    )
    print_table(rows, judged)
    plot(rows, args.plot)
    print(f"\nplot: {args.plot}  ({time.perf_counter() - t0:.0f}s in all)")
    if args.json:
        write_json_atomic(
            args.json,
            {
                "rows": [r.to_dict() for r in rows],
                "verdicts": {k: {"ok": ok, "why": why} for k, (ok, why) in judged.items()},
            },
        )
    return 0 if all(ok for ok, _ in judged.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
