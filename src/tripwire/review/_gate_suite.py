"""People's judgements as one more suite of the release gate.

A policy names it like any suite::

    [[suites]]
    name = "human"
    review = "reviews/v2-vs-v1"        # a tripwire eval review directory
    margins = { correctness = "0.1", readability = "0.2" }

Per question and slice the gate tests the candidate's net preference (wins minus losses, a
paired difference of proportions) against the margin, exactly as it tests a pass/fail eval
slice (``_pairwise.gate_slices``). The review must have judged these two models: judgements of
other models cannot clear this candidate. Its identity for the gate's cache is the hash of the
judgements, so new judgements are a new gate run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.review._eval_result import judged
from tripwire.review._pairwise import gate_slices
from tripwire.review._store import ReviewStore
from tripwire.stats import Margin, overall_outcome

if TYPE_CHECKING:
    from tripwire.evals import RunComparison

NAME = "human"
VERSION = "human-1"


class HumanSuite:
    """The gate's view of an eval review (the few attributes the gate reads of a suite)."""

    name = NAME
    version = VERSION
    needs_sandbox = False
    judged_by_people = True

    def __init__(self, review: str | Path | None = None, **unknown: Any) -> None:
        if unknown:
            raise BadInputError("policy", f"suite human: unknown keys {sorted(unknown)}")
        if review is None:
            raise BadInputError("policy", 'suite "human" needs review = "DIR" (an eval review)')
        self.review = Path(review)
        store = ReviewStore(self.review)
        try:
            self.meta = store.meta()
            self.decisions = [
                [d.item_id, d.reviewer, d.answer, d.decided_at] for d in store.history()
            ]
        finally:
            store.close()
        if self.meta.get("kind") != "eval":
            raise BadInputError(self.review, "is not an eval review (tripwire eval review)")

    def options(self) -> dict[str, Any]:
        return {"review_id": self.meta["review_id"]}

    def data_sha256(self) -> str:
        return sha256_json({"models": self.meta["model_ids"], "decisions": self.decisions})

    def comparison(
        self,
        model_ids: dict[str, str],
        margins: dict[str, Margin],
        slice_margins: dict[tuple[str, str], Margin],
        alpha: float,
        correction: str,
    ) -> RunComparison:
        """The comparison the gate judges; BadInputError when the review judged other models
        or nothing yet."""
        theirs = self.meta["model_ids"]
        if theirs != model_ids:
            raise BadInputError(
                self.review,
                f"judges baseline {theirs['baseline'][:12]} and candidate "
                f"{theirs['candidate'][:12]}, not the models gated "
                f"({model_ids['baseline'][:12]}, {model_ids['candidate'][:12]})",
            )
        store = ReviewStore(self.review)
        try:
            by_q = judged(store)
        finally:
            store.close()
        if not any(by_q.values()):
            raise BadInputError(self.review, "holds no judgements yet")
        unknown = set(margins) - set(by_q)
        if unknown:
            raise BadInputError("policy", f"suite human has no question {sorted(unknown)}")
        from tripwire.evals import RunComparison

        slices = gate_slices(by_q, margins, slice_margins, alpha, correction)
        return RunComparison(
            outcome=overall_outcome(slices),
            suite=self.name,
            baseline=str(self.review),
            candidate=str(self.review),
            alpha=alpha,
            correction=correction,
            slices=slices,
            items=max(len(js) for js in by_q.values()),
            samples=len(self.decisions),
        )
