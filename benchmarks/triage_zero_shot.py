"""Triage by the monitored code model itself (zero-shot) against tripwire's trained triage.

The triage issue asks to choose between sentence embeddings with a trained classifier and the
code model as a zero-shot classifier "by measurement". This asks a causal model, through its chat
template, which category a report belongs to, and takes the category whose first answer token
the model finds likeliest (one forward pass a report, the logits of the last position only). It
runs on set A's held-out split and on set B (both never trained on) next to tripwire's triage
(all-MiniLM-L6-v2 embeddings and a logistic regression trained on set A's train split), in the
same run: accuracy, non-English accuracy, per-category recall and the time per report.

The default model is SmolLM2-135M-Instruct (``tripwire reference import smollm2``); any local
Hugging Face causal LM with a chat template can be given with ``--model DIR``.

    python benchmarks/triage_zero_shot.py [--model DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from tripwire.triage import CATEGORIES, Report, Triager, load

LABELS = {
    "compilation_error": "compilation error",
    "runtime_error": "runtime error",
    "logic_error": "logic error",
    "incomplete_code": "incomplete code",
    "incorrect_api_usage": "incorrect API usage",
    "instructions_not_followed": "instructions not followed",
    "performance_regression": "performance regression",
    "other": "other",
}
QUESTION = (
    "A user reported a problem with code written by an AI assistant. Which category fits the "
    "report best? Categories: {labels}.\n\nReport:\n{text}\n\nAnswer with the category name only."
)
MAX_REPORT_CHARS = 2000


def _smollm2() -> Path:
    from tripwire.reference import import_model

    return import_model("smollm2").path


def _first_tokens(tok) -> dict[str, int]:  # type: ignore[no-untyped-def]
    firsts = {c: tok(text, add_special_tokens=False)["input_ids"][0] for c, text in LABELS.items()}
    clash = [t for t, n in Counter(firsts.values()).items() if n > 1]
    if clash:
        raise SystemExit(f"labels share a first token ({clash}): cannot score by first token")
    return firsts


@torch.no_grad()
def zero_shot(model_dir: Path, reports: list[Report]) -> tuple[list[str], float]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    firsts = _first_tokens(tok)
    ids = torch.tensor(list(firsts.values()))
    labels = ", ".join(LABELS.values())
    out = []
    t0 = time.perf_counter()
    for r in reports:
        messages = [{"role": "user", "content": QUESTION.format(
            labels=labels, text=r.text[:MAX_REPORT_CHARS])}]  # fmt: skip
        prompt = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                         return_dict=True)  # fmt: skip
        logits = model(**prompt, logits_to_keep=1).logits[0, -1]
        out.append(list(firsts)[int(torch.argmax(logits[ids]))])
    return out, (time.perf_counter() - t0) / max(len(reports), 1)


def _row(name: str, truth: list[str], pred: list[str], langs: list[str], per: float) -> str:
    t, p = np.array(truth), np.array(pred)
    foreign = np.array([lang != "en" for lang in langs])
    recall = [float((p[t == c] == c).mean()) if (t == c).any() else float("nan")
              for c in CATEGORIES]  # fmt: skip
    ne = f"{(t[foreign] == p[foreign]).mean():.1%}" if foreign.any() else "-"
    return (f"| {name} | {(t == p).mean():.1%} | {ne} | {np.nanmin(recall):.0%} | "
            + " | ".join(f"{x:.0%}" for x in recall) + f" | {per * 1000:,.0f} ms |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="a local causal LM with a chat template")
    ap.add_argument("--limit", type=int, default=0, help="N reports of each set, spread over it")
    args = ap.parse_args()
    model_dir = args.model or _smollm2()
    a = load("reports")
    train = [r for r in a if r.split == "train"]
    sets = {"set A held-out": [r for r in a if r.split == "heldout"], "set B": load("reports_b")}
    if args.limit:  # spread over the file (it is ordered by category)
        sets = {k: v[:: max(1, len(v) // args.limit)][: args.limit] for k, v in sets.items()}
    triager = Triager(train)
    print(f"zero-shot model: {model_dir}; torch threads {torch.get_num_threads()}\n")
    head = " | ".join(c.split("_")[0] for c in CATEGORIES)
    print(f"| set, classifier | accuracy | non-English | worst recall | {head} | per report |")
    print("|---" * (5 + len(CATEGORIES)) + "|")
    for name, reports in sets.items():
        truth = [r.category for r in reports]
        langs = [r.lang for r in reports]
        t0 = time.perf_counter()
        trained = [v.guess for v in triager.classify([r.text for r in reports])]
        per = (time.perf_counter() - t0) / len(reports)
        print(_row(f"{name}, trained triage (MiniLM)", truth, trained, langs, per))
        guessed, per = zero_shot(model_dir, reports)
        print(_row(f"{name}, zero-shot {model_dir.name}", truth, guessed, langs, per))
        top = Counter(guessed).most_common(3)
        print(f"|  zero-shot's commonest answers: {top} |" + " |" * (4 + len(CATEGORIES)))


if __name__ == "__main__":
    main()
