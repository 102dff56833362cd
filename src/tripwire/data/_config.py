"""Everything that decides an audit's result, in one typed, hashable place."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.data._allowlist import NOTHING, Allowlist, load_allowlist
from tripwire.data._benchmarks import BUILTIN
from tripwire.data._policy import RulePolicy
from tripwire.data._records import FieldMap
from tripwire.errors import BadInputError

ENGINES = ("local", "ray")
WORK_FORMAT = 8
"""Version of the per-shard intermediate files; a new one invalidates old completion markers."""


@lru_cache(maxsize=4)
def _load_allowlist(path: str, size: int, mtime_ns: int) -> Allowlist:
    """Parsed once per process and version of the file (workers build checks per shard)."""
    return load_allowlist(Path(path))


@dataclass(frozen=True)
class AuditConfig:
    """How to audit; two audits with equal configs and inputs give equal outputs."""

    benchmarks: tuple[str, ...] = ("humaneval",)
    """Built-in benchmark names or JSONL/Parquet files of items (HumanEval is always included)."""
    allow_sources: tuple[str, ...] = ()
    """Glob patterns a record's ``source`` must match; empty: every source is allowed."""
    near_dup_threshold: float = 0.8
    """Estimated Jaccard similarity of shingle sets at which two records are near duplicates."""
    shingle_size: int = 5
    """Tokens per shingle."""
    num_perm: int = 128
    """MinHash permutations."""
    contamination_threshold: float = 0.7
    """Share of a benchmark item's distinctive n-grams a record must contain."""
    fields: FieldMap = field(default_factory=lambda: FieldMap(other_shapes=True))
    allow_secrets: str | None = None
    """An allowlist of accepted secrets (``_allowlist``): its content is part of the identity."""
    out_of_domain_z: float = 3.5
    """Robust z-score above which a record's distance from the set flags it ``out_of_domain``
    (kept, for review; ``_outliers``); 0 turns the check off."""
    model: str | None = None
    """A local causal LM (the reference model or the base model being fine-tuned) that scores
    whether each answer fits its instruction (``_fit``: ``off_topic`` flags); None: not run."""
    fit_z: float = 3.5
    """Robust z-score of the set's own fit scores below which an answer is ``off_topic``."""
    rules: tuple[tuple[str, str], ...] = ()
    """Static-analysis policy overrides, (rule id or prefix, drop|flag|ignore) (``_policy``)."""
    run_tests: bool = True
    """Run instruction records' tests in the sandbox (``failing_tests``)."""
    test_timeout_s: float = 10.0
    workers: int = 0
    """Processes for the per-shard work (0: one per core)."""
    engine: str = "local"
    ray_address: str | None = None
    """``engine="ray"``: the cluster (default ``$RAY_ADDRESS``, else a local instance)."""
    shard_bytes: int = 1 << 20
    """Input bytes per shard: the unit of parallel work and of resuming (small enough that
    the last shard of a run leaves the other workers idle only briefly)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.near_dup_threshold <= 1.0:
            raise BadInputError("--near-dup-threshold", "must be in (0, 1]")
        if not 0.0 < self.contamination_threshold <= 1.0:
            raise BadInputError("--contamination-threshold", "must be in (0, 1]")
        if self.engine not in ENGINES:
            raise BadInputError("--engine", f"must be one of {ENGINES}, got {self.engine!r}")
        if self.workers < 0:
            raise BadInputError("--workers", "must be >= 0")
        # NaN would pass every comparison (never flag) and reach the JSON summary, which has
        # no such number
        if not (math.isfinite(self.out_of_domain_z) and self.out_of_domain_z >= 0):
            raise BadInputError(
                "--out-of-domain-z", f"must be a number >= 0 (0: off), got {self.out_of_domain_z}"
            )
        if self.shingle_size < 1 or self.num_perm < 16:
            raise BadInputError("config", "shingle_size must be >= 1 and num_perm >= 16")
        policy = RulePolicy(tuple(self.rules))
        policy.check_known()  # an unknown id would otherwise fail inside every worker's ruff run
        object.__setattr__(self, "rules", policy.overrides)
        if self.model is not None:
            object.__setattr__(self, "model", str(Path(self.model)))
            if not (Path(self.model) / "config.json").is_file():
                raise BadInputError(self.model, "not a Hugging Face model folder (no config.json)")
        if self.allow_secrets is not None:
            object.__setattr__(self, "allow_secrets", str(Path(self.allow_secrets)))
            self.allowlist()  # a bad file fails here, before any work starts
        names = [b if b.lower() in BUILTIN else str(Path(b)) for b in self.benchmarks]
        if "humaneval" not in (n.lower() for n in names):
            names.insert(0, "humaneval")
        object.__setattr__(self, "benchmarks", tuple(dict.fromkeys(names)))

    @property
    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    def rule_policy(self) -> RulePolicy:
        """The static-analysis policy: shipped defaults with this audit's overrides."""
        return RulePolicy(self.rules)

    def allowlist(self) -> Allowlist:
        """The accepted secrets (none without ``allow_secrets``)."""
        if self.allow_secrets is None:
            return NOTHING
        path = Path(self.allow_secrets)
        try:
            st = path.stat()
        except OSError as exc:
            raise BadInputError(path, f"cannot read the allowlist: {exc.strerror}") from exc
        return _load_allowlist(str(path), st.st_size, st.st_mtime_ns)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["allow_secrets_sha256"] = self.allowlist().sha256 or None
        return d

    def result_hash(self) -> str:
        """Identity of everything that changes per-shard results (not workers or engine)."""
        d = self.to_dict()
        for key in ("workers", "engine", "ray_address"):
            d.pop(key)
        d["benchmark_files"] = [
            [b, Path(b).stat().st_size, Path(b).stat().st_mtime_ns]
            for b in self.benchmarks
            if Path(b).is_file()
        ]
        if self.model is not None:  # the model's files, not its path, decide its scores
            d["model_files"] = sorted(
                [p.name, p.stat().st_size, p.stat().st_mtime_ns]
                for p in Path(self.model).iterdir()
                if p.is_file()
            )
        d["work_format"] = WORK_FORMAT
        return sha256_json(d)
