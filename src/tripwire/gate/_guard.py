"""Checks that could not run become findings, so the gate always reaches a verdict and writes
every output it was asked for.

Two kinds, kept apart on purpose:

- ``<source>.not_runnable``: the input is the reason (a tokenizer that does not load, a model
  whose forward pass would index past its embedding table, a checkpoint that does not load, an
  encoder given a causal-LM suite). Blocking when it concerns the candidate: the gate fails
  closed, it cannot clear what it could not check. A warning when only the baseline is at fault:
  the candidate is not shown to be worse, there is just nothing to compare it with.
- ``<source>.internal_error``: any other exception inside a check is a tripwire bug, not a
  verdict on the model. It blocks (fail closed), its traceback travels in the evidence for
  ``--debug`` to print, and a result holding one is never cached.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from tripwire.errors import UserError
from tripwire.findings import Finding, Severity

NOT_RUNNABLE, INTERNAL_ERROR = "not_runnable", "internal_error"
# The kind of a not-runnable reason found while running rather than before (a load error).
RUN_FAILED = "run_failed"


def role_of(exc: UserError, models: dict[str, Path]) -> str:
    """Which model (``baseline``/``candidate``) a bad-input error names; the candidate when
    it names neither, so an unattributed failure still fails closed."""
    where = Path(exc.where).resolve()
    for role in ("candidate", "baseline"):
        root = models[role].resolve()
        if where == root or root in where.parents:
            return role
    return "candidate"


def not_runnable(
    source: str,
    role: str,
    model: Path,
    reasons: list[str],
    *,
    kinds: list[str],
    what: str,
    token_ids: tuple[int, ...] = (),
    **evidence: Any,
) -> Finding:
    """``what`` could not run on the ``role`` model for ``reasons`` (one line each)."""
    severity = Severity.BLOCK if role == "candidate" else Severity.WARN
    consequence = (
        "the candidate cannot be cleared"
        if role == "candidate"
        else "nothing to compare the candidate with"
    )
    return Finding(
        f"{source}.{NOT_RUNNABLE}",
        severity,
        f"{what} could not run on the {role} ({model}): {'; '.join(reasons)}; {consequence}",
        token_ids=token_ids,
        evidence={
            "role": role,
            "model": str(model),
            "kinds": kinds,
            "reasons": reasons,
            **evidence,
        },
    )


def internal_error(source: str, what: str, exc: BaseException, **evidence: Any) -> Finding:
    """A crash inside a check: blocking, labelled a tripwire bug, traceback in the evidence."""
    return Finding(
        f"{source}.{INTERNAL_ERROR}",
        Severity.BLOCK,
        f"{what} crashed ({type(exc).__name__}: {exc}): unless the machine ran out of memory "
        f"or disk, a tripwire bug, not a verdict on the model; the candidate is not cleared "
        f"(rerun with --debug for the traceback)",
        evidence={
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
            **evidence,
        },
    )


def cacheable(findings: list[Finding]) -> bool:
    """Whether a result may be reused: not after a crash, nor after a run failed part-way
    (a model that did not load may have run out of memory); refusals the pre-flight read from
    the files are fixed by the content, which the cache key holds."""
    for f in findings:
        kind = f.code.rpartition(".")[2]
        if kind == INTERNAL_ERROR or (kind == NOT_RUNNABLE and RUN_FAILED in f.evidence["kinds"]):
            return False
    return True
