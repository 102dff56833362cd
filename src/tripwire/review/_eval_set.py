"""``tripwire eval review``: blinded, randomised pairs of two models' answers to the same prompts.

The prompts are a seeded sample of a suite's tasks, stratified by language (so every language
the suite covers is judged); both models answer each one (any backend: ``hf:``, ``openai:``,
``samples:``), and each pair is shown as A and B in an order drawn at random per item. The
order is stored with the item but never shown, exported or served: only the analysis unblinds
it (``_eval_result``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.review._data_set import (
    Created,
    assign,
    check_counts,
    check_out,
    check_reviewers,
)
from tripwire.review._sampling import allocate, draw
from tripwire.review._store import DB_NAME, Item, ReviewStore

if TYPE_CHECKING:
    from tripwire.evals import Backend, Suite, Task

KIND = "eval"


@dataclass(frozen=True)
class EvalPlan:
    items: int = 60
    """Prompts to judge (0: every task of the suite)."""
    overlap: float = 0.25
    """Share of items a second reviewer also judges (agreement is measured on them)."""
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _answers(backend: Backend, tasks: Sequence[Task], progress: Progress) -> dict[str, str]:
    """Each task's first answer. A samples file answers what it holds, so it is asked for
    every task it may hold and filtered here."""
    wanted = {t.task_id for t in tasks}
    out: dict[str, str] = {}
    for s in backend.generate(list(tasks), 1, progress):
        if s.task_id in wanted and s.sample_idx == 0:
            out[s.task_id] = s.completion
    return out


def choose_tasks(tasks: Sequence[Task], n: int, seed: int) -> list[Task]:
    """``n`` tasks, proportionally by language (at least two per language it has)."""
    if n <= 0 or n >= len(tasks):
        return list(tasks)
    by_lang: dict[str, list[str]] = {}
    for t in tasks:
        by_lang.setdefault(t.slices.get("language", "unknown"), []).append(t.task_id)
    counts = allocate({k: len(v) for k, v in by_lang.items()}, n)
    chosen = set(draw(by_lang, counts, seed))
    return [t for t in tasks if t.task_id in chosen]


def _identity(suite: Suite, base: Backend, cand: Backend, plan: EvalPlan) -> dict[str, Any]:
    return {
        "kind": KIND,
        "suite": {"name": suite.name, "version": suite.version, "data_sha256": suite.data_sha256()},
        "models": {"baseline": base.identity(), "candidate": cand.identity()},
        "plan": plan.to_dict(),
    }


def create_eval_review(
    directory: str | Path,
    suite: Suite,
    baseline: Backend,
    candidate: Backend,
    *,
    reviewers: Sequence[str],
    plan: EvalPlan = EvalPlan(),
    progress: Progress = no_progress,
) -> Created:
    """Make (or resume, when ``directory`` holds this same review) the blinded pairs."""
    from tripwire.evals import SamplesBackend

    directory = Path(directory)
    if (
        not reviewers
        or len(set(reviewers)) != len(reviewers)
        or any(not r.strip() for r in reviewers)
    ):
        raise BadInputError("--reviewer", "name at least one reviewer; names must be distinct")
    check_counts(plan.overlap, items=plan.items)
    identity = _identity(suite, baseline, candidate, plan)
    if (directory / DB_NAME).is_file():
        return _resume(directory, identity, reviewers)
    check_out(directory)
    tasks = suite.tasks()
    pool = list(tasks)
    for b in (baseline, candidate):
        if isinstance(b, SamplesBackend):  # only tasks every samples file answers
            have = {s.task_id for s in b.samples if s.sample_idx == 0}
            pool = [t for t in pool if t.task_id in have]
    if not pool:
        raise BadInputError("MODEL", "the two models' samples answer no task in common")
    chosen = choose_tasks(pool, plan.items, plan.seed)
    answers = {}
    for role, b in (("baseline", baseline), ("candidate", candidate)):
        b.check_tasks(tasks, suite.why_missing)
        asked = tasks if isinstance(b, SamplesBackend) else chosen

        def step(task: str, done: float, total: float, role: str = role) -> None:
            progress(f"{role} {task}", done, total)

        answers[role] = _answers(b, asked, step)
        missing = [t.task_id for t in chosen if t.task_id not in answers[role]]
        if missing:
            raise BadInputError(
                "MODEL",
                f"the {role} gave no answer to {missing[0]}"
                f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}",
            )
    rng = random.Random(f"{plan.seed}:ab")
    order = list(chosen)
    random.Random(f"{plan.seed}:order").shuffle(order)
    new_items = []
    for k, t in enumerate(order):
        cand_side = "A" if rng.random() < 0.5 else "B"
        a, b = (
            (answers["candidate"], answers["baseline"])
            if cand_side == "A"
            else (answers["baseline"], answers["candidate"])
        )
        new_items.append(
            Item(
                item_id=t.task_id,
                position=k,
                stratum=f"language={t.slices.get('language', '')}",
                shown={
                    "prompt": t.prompt,
                    "A": a[t.task_id],
                    "B": b[t.task_id],
                    "language": t.slices.get("language", ""),
                },
                hidden={"candidate": cand_side, "slices": dict(t.slices)},
            )
        )
    meta = {
        **identity,
        "labels": {
            "baseline": baseline.describe().get("label", ""),
            "candidate": candidate.describe().get("label", ""),
        },
        "model_ids": {
            "baseline": baseline.describe()["id"],
            "candidate": candidate.describe()["id"],
        },
        "tasks": len(tasks),
    }
    queue = assign([i.item_id for i in new_items], list(reviewers), plan.overlap, plan.seed)
    store = ReviewStore(directory, create=True)
    try:
        tokens = store.populate(meta, new_items, list(reviewers), queue)
    finally:
        store.close()
    return Created(directory, tokens, False, _summary(meta, new_items, queue))


def _summary(meta: dict[str, Any], items: Sequence[Item], queue: dict[str, list[str]]) -> dict:
    return {
        "items": len(items),
        "suite": meta["suite"]["name"],
        "baseline": meta["labels"]["baseline"],
        "candidate": meta["labels"]["candidate"],
        "assigned": {r: len(q) for r, q in queue.items()},
    }


def _resume(directory: Path, identity: dict[str, Any], reviewers: Sequence[str]) -> Created:
    store = ReviewStore(directory)
    try:
        meta, items = store.meta(), store.items()
        queue = {r: store.queue(r) for r in store.reviewer_names()}
    finally:
        store.close()
    identity = json.loads(json.dumps(identity))  # as stored: tuples are lists there
    for key in ("kind", "suite", "models", "plan"):
        if meta.get(key) != identity[key]:
            raise BadInputError(
                directory, f"holds another review ({key} differs); pick a new directory"
            )
    check_reviewers(list(queue), reviewers)
    return Created(directory, {}, True, _summary(meta, items, queue))
