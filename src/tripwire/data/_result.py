"""What an audit adds up to: counts per reason, throughput, configuration, and Findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tripwire.data._reasons import BLOCKING, FLAGS, MEANINGS, REASONS
from tripwire.findings import Finding, Severity, report_dict

_MAX_IDS = 50


@dataclass
class AuditResult:
    records: int = 0
    kept: int = 0
    bytes: int = 0
    seconds: float = 0.0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_flag: dict[str, int] = field(default_factory=dict)
    """Records flagged for review (kept), per flag code."""
    ids_by_reason: dict[str, list[Any]] = field(default_factory=dict)
    """The first few record ids per reason."""
    shards: int = 0
    shards_resumed: int = 0
    tests: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, dict[str, float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    clusters: int = 0
    engine: str = "local"
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        return self.records - self.kept

    def count(self, reason: str, record_id: Any) -> None:
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        ids = self.ids_by_reason.setdefault(reason, [])
        if len(ids) < _MAX_IDS:
            ids.append(record_id)

    def count_flag(self, flag: str, record_id: Any) -> None:
        self.by_flag[flag] = self.by_flag.get(flag, 0) + 1
        ids = self.ids_by_reason.setdefault(flag, [])
        if len(ids) < _MAX_IDS:
            ids.append(record_id)

    def absorb(self, later: AuditResult) -> None:
        """Add the record counts of the records that follow this result's (one shard's)."""
        self.records += later.records
        self.kept += later.kept
        self.bytes += later.bytes
        for reason, n in later.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n
        for flag, n in later.by_flag.items():
            self.by_flag[flag] = self.by_flag.get(flag, 0) + n
        for reason, ids in later.ids_by_reason.items():
            mine = self.ids_by_reason.setdefault(reason, [])
            mine += ids[: _MAX_IDS - len(mine)]

    def findings(self) -> list[Finding]:
        """One Finding per reason that occurred, in the contract's order."""
        out = []
        for reason in REASONS:
            n = self.by_reason.get(reason, 0)
            if not n:
                continue
            out.append(
                Finding(
                    code=f"data.{reason}",
                    severity=Severity.BLOCK if reason in BLOCKING else Severity.WARN,
                    message=f"{n} {MEANINGS[reason]}",
                    record_ids=[str(i) for i in self.ids_by_reason.get(reason, [])],
                    evidence={"count": n},
                )
            )
        for flag in FLAGS:
            n = self.by_flag.get(flag, 0)
            if n:
                out.append(
                    Finding(
                        code=f"data.{flag}",
                        severity=Severity.INFO,
                        message=f"{n} records {MEANINGS[flag]}",
                        record_ids=[str(i) for i in self.ids_by_reason.get(flag, [])],
                        evidence={"count": n, "kept": True},
                    )
                )
        return out

    def throughput(self) -> dict[str, float]:
        s = max(self.seconds, 1e-9)
        return {
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self.records / s, 1),
            "mb_per_s": round(self.bytes / s / 1e6, 3),
        }

    def to_dict(self) -> dict[str, Any]:
        return report_dict(
            self.findings(),
            summary={
                "records": self.records,
                "kept": self.kept,
                "removed": self.removed,
                "bytes": self.bytes,
                "by_reason": {r: self.by_reason.get(r, 0) for r in REASONS},
                "flagged": {f: self.by_flag.get(f, 0) for f in FLAGS},
                "duplicate_clusters": self.clusters,
            },
            throughput=self.throughput(),
            shards={"total": self.shards, "resumed": self.shards_resumed},
            tests=self.tests,
            checks=self.checks,
            engine=self.engine,
            config=self.config,
            outputs=self.outputs,
        )
