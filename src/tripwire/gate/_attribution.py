"""Root cause: which finding decided the verdict, and the command that fixes it.

Causes upstream of the weights come first: a tokenizer/embedding mismatch explains every eval
regression it produces, and so does bad training data; an eval regression is the root cause only
when nothing upstream is wrong. A regression confined to languages the fine-tune did not train on
is forgetting; one on the trained languages themselves is not, and the remedy is a rollback.
Within a source, a check that could not run (``.not_runnable``) or crashed (``.internal_error``)
comes first: whatever else that source found is incomplete.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tripwire.artifacts import REPAIRABLE_PROBLEMS
from tripwire.documents import Fields
from tripwire.errors import UnavailableError
from tripwire.findings import Finding, Severity
from tripwire.gate._lineage import Lineage

_SOURCE_ORDER = ("lineage", "tokens", "data", "eval")
_UNCHECKED = ("not_runnable", "internal_error")


@dataclass(frozen=True)
class RootCause:
    source: str
    code: str
    message: str
    evidence: dict[str, Any]
    remedy: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, f: Fields) -> RootCause:
        return cls(f.text("source", ""), f.text("code", ""), f.text("message", ""),
                   f.mapping("evidence"), f.text("remedy", ""))  # fmt: skip


def _q(path: str | Path) -> str:
    return shlex.quote(str(path))


def _tokens_remedy(f: Finding, baseline: Path, candidate: Path) -> str:
    from tripwire.tokens import REPAIRABLE  # torch: only where a tokens finding needs a remedy

    if f.code in REPAIRABLE:
        return _repair_command(baseline, candidate)
    return (
        f"restore the baseline's tokenizer files or retrain the embeddings for the changed "
        f"tokens; inspect with: tripwire tokens audit {_q(baseline)} {_q(candidate)}"
    )


def _repair_command(baseline: Path, candidate: Path) -> str:
    out = candidate.with_name(candidate.name + "-repaired")
    return f"tripwire tokens repair {_q(baseline)} {_q(candidate)} --out {_q(out)}"


def _unchecked_remedy(f: Finding, baseline: Path, candidate: Path, last_good: str | None) -> str:
    """What to do when a check could not run (see ``_guard``)."""
    if f.code.endswith(".internal_error"):
        return (
            "a tripwire bug: rerun with --debug and report the traceback; until then the "
            "candidate is not cleared"
        )
    kinds = set(f.evidence.get("kinds") or ())
    if UnavailableError.kind in kinds:  # the models are fine: the machine lacks a tool
        return "install what the finding names (or gate where it is installed), then gate again"
    role = f.evidence.get("role", "candidate")
    if role == "baseline":
        target = last_good or "<last known-good>"
        return f"gate against a baseline that can be checked, e.g. the last known-good ({target})"
    if kinds & REPAIRABLE_PROBLEMS:
        return _repair_command(baseline, candidate)
    if "not_causal_lm" in kinds:
        return (
            "the suite needs a causal LM: gate this model with a policy whose suites it can "
            "run (`suites = []` keeps only the tokens and data audits)"
        )
    if f.code.startswith("data."):
        return "fix or replace the training data named in the finding, then gate again"
    audit = f"tripwire tokens audit {_q(baseline)} {_q(candidate)}"
    return f"fix the candidate's files named in the finding (they do not load), then: {audit}"


def _data_remedy(f: Finding, lineage: Lineage, baseline: Path) -> str:
    data = str(f.evidence.get("data") or (lineage.training.data.path if lineage.training else ""))
    data = data or "TRAIN.jsonl"
    clean = Path(data).with_suffix(".clean.jsonl")
    retrain = (
        f" && tripwire train finetune {_q(baseline)} --data {_q(clean)} --out ./retrained"
        if lineage.training
        else ""
    )
    return f"tripwire data audit {_q(data)} --clean {_q(clean)}{retrain}"


def _trained_languages(lineage: Lineage) -> set[str]:
    return set(lineage.training.data.languages) if lineage.training else set()


def _eval_remedy(f: Finding, lineage: Lineage, baseline: Path, last_good: str | None) -> str:
    trained = _trained_languages(lineage)
    slice_key = str(f.evidence.get("slice", ""))
    language = slice_key.partition("language=")[2]
    if lineage.training and trained and language and language not in trained:
        data = lineage.training.data.path or "TRAIN.jsonl"
        return (
            f"catastrophic forgetting of {language} after a fine-tune on "
            f"{', '.join(sorted(trained))}: retrain with forgetting control, e.g. "
            f"tripwire train finetune {_q(baseline)} --data {_q(data)} --out ./retrained "
            f"--regularizer ewc --replay-ratio 0.3 --lr <lower>"
        )
    target = last_good or "<last known-good>"
    return f"roll back and investigate: tripwire registry rollback --to {target}"


def _rank(f: Finding, lineage: Lineage) -> tuple[int, int, float]:
    source = f.source or f.code
    order = _SOURCE_ORDER.index(source) if source in _SOURCE_ORDER else len(_SOURCE_ORDER)
    if f.code.endswith(_UNCHECKED):
        return order, -1, 0.0
    # Among eval regressions, forgetting (an untrained language) explains more than a dip on
    # the trained one, and a bigger effect more than a smaller one.
    if source != "eval":
        return order, 1, 0.0
    language = str(f.evidence.get("slice", "")).partition("language=")[2]
    forgotten = 0 if language and language not in _trained_languages(lineage) else 1
    size = -abs(float(f.evidence.get("delta", 0.0)) / (abs(f.evidence.get("baseline", 1.0)) or 1))
    return order, forgotten, size


def attribute(
    findings: list[Finding],
    lineage: Lineage,
    baseline: Path,
    candidate: Path,
    last_good: str | None = None,
) -> RootCause | None:
    """The deciding finding (blocking first, else warning) with its remedy; None on a pass."""
    for severity in (Severity.BLOCK, Severity.WARN):
        pool = [f for f in findings if f.severity is severity]
        if not pool:
            continue
        f = min(pool, key=lambda f: _rank(f, lineage))
        source = f.source or f.code
        if f.code.endswith(_UNCHECKED):
            remedy = _unchecked_remedy(f, baseline, candidate, last_good)
        elif source == "tokens":
            remedy = _tokens_remedy(f, baseline, candidate)
        elif source == "data":
            remedy = _data_remedy(f, lineage, baseline)
        elif source == "eval":
            remedy = _eval_remedy(f, lineage, baseline, last_good)
        else:
            remedy = "see the finding"
        return RootCause(source, f.code, f.message, dict(f.evidence), remedy)
    return None
