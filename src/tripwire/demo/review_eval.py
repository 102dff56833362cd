"""The forgetting stage's human evaluation (issue #27): the base and the narrow fine-tune
answer held-out completion prompts; two scripted judges score the blinded pairs, their
judgements are recorded to a file and imported like any reviewers'; the results (win/tie/loss
per language, kappa) must show the candidate judged worse outside Python, and the gate's
`human` suite must not pass it (24 pairs may leave it inconclusive: a warning).

The judges see only A and B: each prefers the answer whose first line is closer to what the
file really says next (``difflib`` ratio), and calls a tie below its own threshold, so the two
judges disagree now and then, as people do. Cached: the review directory resumes (no second
generation), and judges only judge what they have not.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.demo._stage import StageContext
from tripwire.gate import Policy, SuitePolicy, gate
from tripwire.review import (
    EvalPlan,
    ReviewStore,
    create_eval_review,
    eval_results,
    import_decisions,
)

JUDGES = {"judge-a": 0.02, "judge-b": 0.08}
"""Each judge's tie threshold on the difference of the two answers' closeness."""
PLAN = EvalPlan(items=24, overlap=0.5, seed=0)
NEW_TOKENS = 24


@dataclass
class Judged:
    ok: bool
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def _closeness(answer: str, target: str) -> float:
    first = next((x for x in answer.splitlines() if x.strip()), "")
    return difflib.SequenceMatcher(None, first.strip(), target.strip()).ratio()


def _choice(a: float, b: float, threshold: float) -> str:
    return "tie" if abs(a - b) < threshold else ("A" if a > b else "B")


def human_round(ctx: StageContext, work: Path, candidate: Path) -> Judged:
    """The blinded pairs, the scripted judgements, the results and the gate on them."""
    from tripwire.evals import GenerationConfig, HFBackend, get_suite

    suite = get_suite("completion", corpus=ctx.reference, max_per_language=20)
    config = GenerationConfig(max_new_tokens=NEW_TOKENS)
    base = HFBackend(ctx.reference).with_config(config)
    cand = HFBackend(candidate).with_config(config)
    # one review folder per pair of models (by content): a rerun after the fine-tune changed
    # starts a new round instead of refusing the old one
    pair = json.dumps([base.identity(), cand.identity()], sort_keys=True, default=str)
    made = create_eval_review(
        work / f"human-review-{hashlib.sha256(pair.encode()).hexdigest()[:12]}",
        suite,
        base,
        cand,
        reviewers=list(JUDGES),
        plan=PLAN,
        progress=ctx.progress,
    )
    store = ReviewStore(made.directory)
    targets = {i.item_id: i.target for i in suite.items.values()}  # type: ignore[attr-defined]
    done = {(d.item_id, d.reviewer) for d in store.history()}
    rows = []
    for item in store.items():
        a = _closeness(item.shown["A"], targets[item.item_id])
        b = _closeness(item.shown["B"], targets[item.item_id])
        for judge, threshold in JUDGES.items():
            if item.item_id in store.queue(judge) and (item.item_id, judge) not in done:
                c = _choice(a, b, threshold)
                rows.append(
                    {
                        "item_id": item.item_id,
                        "reviewer": judge,
                        "answer": {"correctness": c, "readability": c, "idiomatic": c},
                    }
                )
    if rows:
        recorded = made.directory / "judgements.jsonl"
        recorded.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        import_decisions(store, [recorded])
    results = eval_results(store)
    correctness = results["questions"]["correctness"]
    slices = correctness["slices"]
    others = [k for k in slices if k.startswith("language=") and k != "language=python"]
    lost = sum(slices[k]["loss"]["count"] for k in others)
    won = sum(slices[k]["win"]["count"] for k in others)
    policy = Policy(
        suites=(SuitePolicy("human", {"review": str(made.directory)}, {"correctness": "0.1"}),),
        tokens_audit="never",
        data_audit=False,
    )
    gated = gate(ctx.reference, candidate, policy=policy, registry=None).to_dict()
    kappa = correctness["agreement"]["cohen"]
    all_ = slices["all"]
    lines = [
        f"human evaluation: {results['decided']} blinded pairs judged by {len(JUDGES)} scripted "
        f"judges; candidate wins {all_['win']['share']:.0%}, ties {all_['tie']['share']:.0%}, "
        f"loses {all_['loss']['share']:.0%} on correctness (sign test p "
        f"{all_['sign_test_p']:.2g}); outside {'python'}: {lost} losses, {won} wins"
        + (
            f"; Cohen's kappa {kappa[0]['kappa']:.2f} on {kappa[0]['items']} pairs" if kappa else ""
        ),
        f"gate with people's judgements as a suite: {gated['verdict'].upper()}"
        + (f" ({gated['root_cause']['code']})" if gated.get("root_cause") else ""),
    ]
    return Judged(
        # the retention comparison already blocks this candidate; people must not clear it
        ok=lost > won and gated["verdict"] != "pass",
        lines=lines,
        data={
            "results": results,
            "gate": {"verdict": gated["verdict"], "root_cause": gated.get("root_cause")},
            "directory": str(made.directory),
        },
    )
