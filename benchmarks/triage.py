"""How well does triage put user reports in the right category, against the old rules?

Trained on set A's ``train`` split only, then measured on

- set A's held-out split (cores never trained on: no wording of these reports was seen), and
- set B, written separately in other styles (issue forms, long narratives, chat, C#, Kotlin,
  Swift, PHP, Elixir, Haskell...), never trained on and never used to choose anything.

For each: accuracy of the model's best guess, the same for non-English reports, per-category
recall and precision, the confusion matrix, and the ``needs_review`` share with the accuracy of
the reports that stay above the confidence threshold. The old regular expressions run on the
same reports in the same run. Last, reports/s on CPU: a cold batch (every text embedded) and a
warm one (the same texts again: the hash cache).

    python benchmarks/triage.py [--json out.json]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from tripwire.artifacts import write_json_atomic
from tripwire.monitor import triage as rules_triage
from tripwire.triage import CATEGORIES, NEEDS_REVIEW, Encoder, Report, Triager, load

ABBREV = {
    "compilation_error": "comp",
    "runtime_error": "run",
    "logic_error": "logic",
    "incomplete_code": "incompl",
    "incorrect_api_usage": "api",
    "instructions_not_followed": "instr",
    "performance_regression": "perf",
    "other": "other",
}


def _scores(truth: Sequence[str], pred: Sequence[str], langs: Sequence[str]) -> dict:
    t, p = np.array(truth), np.array(pred)
    foreign = np.array([lang != "en" for lang in langs])
    prec, rec, _, support = precision_recall_fscore_support(
        t, p, labels=list(CATEGORIES), zero_division=0
    )
    return {
        "n": len(t),
        "accuracy": float((t == p).mean()),
        "non_english_n": int(foreign.sum()),
        "non_english_accuracy": float((t[foreign] == p[foreign]).mean()) if foreign.any() else None,
        "recall": dict(zip(CATEGORIES, map(float, rec), strict=True)),
        "precision": dict(zip(CATEGORIES, map(float, prec), strict=True)),
        "support": dict(zip(CATEGORIES, map(int, support), strict=True)),
        "confusion": confusion_matrix(t, p, labels=list(CATEGORIES)).tolist(),
    }


def _evaluate(name: str, reports: list[Report], model: Triager) -> dict:
    texts = [r.text for r in reports]
    truth = [r.category for r in reports]
    langs = [r.lang for r in reports]
    verdicts = model.classify(texts)
    guesses = [v.guess for v in verdicts]
    sure = [v.category != NEEDS_REVIEW for v in verdicts]
    kept = [g == t for g, t, s in zip(guesses, truth, sure, strict=True) if s]
    return {
        "set": name,
        "model": _scores(truth, guesses, langs),
        "rules": _scores(truth, [rules_triage(t).category for t in texts], langs),
        "needs_review": sum(not s for s in sure),
        "accuracy_above_threshold": float(np.mean(kept)) if kept else None,
    }


def _throughput(texts: list[str], model: Triager) -> dict:
    fresh = Encoder(model.encoder.path)  # an empty hash cache: every text is embedded
    model_cold = model.encoder
    model.encoder = fresh
    try:
        t0 = time.perf_counter()
        model.classify(texts)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.classify(texts)
        warm = time.perf_counter() - t0
    finally:
        model.encoder = model_cold
    return {
        "reports": len(texts),
        "threads": torch.get_num_threads(),
        "cold_reports_per_s": len(texts) / cold,
        "warm_reports_per_s": len(texts) / warm,
    }


def _print(result: dict) -> None:
    print(f"\n== {result['set']} ==")
    m, r = result["model"], result["rules"]
    ne_m, ne_r = m["non_english_accuracy"], r["non_english_accuracy"]
    print(f"{'':24}{'model':>8}{'rules':>8}")
    print(f"{'accuracy (n=' + str(m['n']) + ')':24}{m['accuracy']:8.1%}{r['accuracy']:8.1%}")
    if ne_m is not None:
        label = f"non-English (n={m['non_english_n']})"
        print(f"{label:24}{ne_m:8.1%}{ne_r:8.1%}")
    above = result["accuracy_above_threshold"]
    print(
        f"needs_review: {result['needs_review']} of {m['n']}; accuracy of the rest: "
        + (f"{above:.1%}" if above is not None else "n/a")
    )
    print(f"\n{'category':27}{'n':>4}{'recall':>8}{'prec':>8}{'rules rec':>10}{'rules prec':>11}")
    for c in CATEGORIES:
        print(
            f"{c:27}{m['support'][c]:4}{m['recall'][c]:8.1%}{m['precision'][c]:8.1%}"
            f"{r['recall'][c]:10.1%}{r['precision'][c]:11.1%}"
        )
    print("\nconfusion (rows: truth, columns: model)")
    print(" " * 9 + "".join(f"{ABBREV[c]:>8}" for c in CATEGORIES))
    for c, row in zip(CATEGORIES, m["confusion"], strict=True):
        print(f"{ABBREV[c]:9}" + "".join(f"{v:8}" for v in row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args()
    a = load("reports")
    train = [r for r in a if r.split == "train"]
    heldout = [r for r in a if r.split == "heldout"]
    b = load("reports_b")
    t0 = time.perf_counter()
    model = Triager(train, reuse_fit=False)  # timed: a real fit (embeddings may be cached)
    print(f"trained on {len(train)} reports in {time.perf_counter() - t0:.1f}s (threshold "
          f"{model.threshold})")  # fmt: skip
    results = [_evaluate("set A held-out", heldout, model), _evaluate("set B", b, model)]
    for res in results:
        _print(res)
    speed = _throughput([r.text for r in b], model)
    print(
        f"\nCPU ({speed['threads']} threads), {speed['reports']} reports: "
        f"{speed['cold_reports_per_s']:.1f} reports/s cold, "
        f"{speed['warm_reports_per_s']:.0f} reports/s warm (hash cache)"
    )
    if args.json:
        write_json_atomic(args.json, {"results": results, "throughput": speed})


if __name__ == "__main__":
    main()
