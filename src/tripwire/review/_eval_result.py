"""What people's side-by-side judgements say: the candidate's wins, ties and losses per question,
overall and per slice, with intervals and a sign test; agreement between reviewers; and the
comparison the gate judges (``_pairwise.gate_slices``).

Judgements are stored as the reviewer saw them (A, tie, B) and unblinded only here, with the
order recorded when the pairs were made.
"""

from __future__ import annotations

from typing import Any

from tripwire.review._agreement import agreement
from tripwire.review._pairwise import QUESTIONS, Judged, in_slice, slice_keys, tally
from tripwire.review._store import ReviewStore

_SCORE = {"tie": 0}


def candidate_score(choice: str, candidate_side: str) -> int:
    """+1 when the reviewer preferred the candidate, -1 the baseline, 0 a tie."""
    if choice == "tie":
        return 0
    return 1 if choice == candidate_side else -1


def judged(store: ReviewStore) -> dict[str, list[Judged]]:
    """Per question, each judged item's unblinded judgements."""
    items = {i.item_id: i for i in store.items()}
    scores: dict[str, dict[str, list[int]]] = {q: {} for q in QUESTIONS}
    for (item_id, _reviewer), d in sorted(store.latest().items()):
        side = items[item_id].hidden["candidate"]
        for q in QUESTIONS:
            scores[q].setdefault(item_id, []).append(candidate_score(d.answer[q], side))
    return {
        q: [Judged(i, items[i].hidden["slices"], tuple(s)) for i, s in sorted(per.items())]
        for q, per in scores.items()
    }


def eval_results(store: ReviewStore, confidence: float = 0.95) -> dict[str, Any]:
    """Progress, per-question and per-slice tallies, and agreement between reviewers."""
    meta = store.meta()
    by_q = judged(store)
    latest = store.latest()
    items = {i.item_id: i for i in store.items()}
    questions = {}
    for q, js in by_q.items():
        slices = {
            key: tally([j for j in js if in_slice(j, key)], confidence) for key in slice_keys(js)
        }
        votes: dict[str, dict[str, int]] = {}
        for (item_id, reviewer), d in latest.items():
            side = items[item_id].hidden["candidate"]
            votes.setdefault(item_id, {})[reviewer] = candidate_score(d.answer[q], side)
        questions[q] = {"slices": slices, "agreement": agreement(votes, [-1, 0, 1])}
    counts = store.counts()
    return {
        "kind": "eval",
        "suite": meta["suite"]["name"],
        "models": {**meta["labels"], "ids": meta["model_ids"]},
        "items": len(items),
        "decided": len({i for i, _ in latest}),
        "reviewers": {
            r: {"assigned": len(store.queue(r)), "decided": counts.get(r, 0)}
            for r in store.reviewer_names()
        },
        "confidence": confidence,
        "questions": questions,
    }
