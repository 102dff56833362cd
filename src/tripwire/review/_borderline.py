"""The records the audit was least sure about, scored 0 (sure) to 1 (on the edge).

- Removed records: how far past its threshold the evidence was. A near duplicate at a
  similarity just over ``near_dup_threshold``, a benchmark match whose containment just reached
  its stream's threshold, sit on the edge; a syntax error, an exact copy or a secret do not
  (their checks are not thresholds), and a record removed for two reasons is as sure as its
  surer one.
- Kept records: the same audit run again over the kept records with looser thresholds (through
  ``tripwire.data.audit``, so it is the audit's own checks): a record it would remove is a near
  miss, scored by how close it came to the real threshold.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from tripwire.data import AuditConfig, audit
from tripwire.progress import Progress, no_progress
from tripwire.review._records import read_findings

# Benchmark streams' thresholds relative to the audit's (see tripwire.data's contamination):
# code at the threshold, names 0.1 above it, docstring words 0.2 below it.
_STREAM_OFFSET = {"code": 0.0, "names": 0.1, "words": -0.2}
LOOSEN_DUP = 0.2
"""The near-miss pass lowers the near-duplicate similarity by this much ..."""
LOOSEN_CONTAMINATION = 0.7
"""... and the benchmark containment to this share of the audit's."""


def _edge(value: float, threshold: float, floor: float) -> float:
    """1 at the threshold, 0 at ``floor`` (past it, or far below it)."""
    span = abs(threshold - floor)
    if span <= 0:
        return 0.0
    return max(0.0, min(1.0, 1 - abs(value - threshold) / span))


def removal_uncertainty(
    reasons: tuple[str, ...], details: dict[str, Any], cfg: AuditConfig
) -> float:
    """How close a removed record came to being kept (0 when any reason is certain)."""
    scores = []
    for reason in reasons:
        d = details.get(reason) or {}
        if reason == "near_duplicate" and isinstance(d.get("similarity"), int | float):
            scores.append(_edge(d["similarity"], cfg.near_dup_threshold, 1.0))
        elif reason == "benchmark_contamination" and d.get("matches"):
            best = 0.0
            for m in d["matches"]:
                offset = _STREAM_OFFSET.get(str(m.get("matched_on")))
                c = m.get("containment")
                if offset is None or not isinstance(c, int | float):
                    best = 0.0  # a rule that is not a threshold (13 words in a row): certain
                    break
                t = min(1.0, cfg.contamination_threshold + offset)
                best = max(best, _edge(c, t, 1.0) if t < 1 else 0.0)
            scores.append(best)
        else:
            scores.append(0.0)
    return min(scores) if scores else 0.0


def near_misses(
    kept: list[bytes], cfg: AuditConfig, progress: Progress = no_progress
) -> dict[int, tuple[float, str]]:
    """Kept record index (in ``kept``) -> (how close it came, the check) for the kept records
    a looser audit would remove for a near duplicate or a benchmark match."""
    if not kept:
        return {}
    loose_dup = max(0.3, cfg.near_dup_threshold - LOOSEN_DUP)
    loose_c = max(0.3, cfg.contamination_threshold * LOOSEN_CONTAMINATION)
    loose = replace(
        cfg,
        near_dup_threshold=loose_dup,
        contamination_threshold=loose_c,
        run_tests=False,
        allow_sources=(),
    )
    with tempfile.TemporaryDirectory(prefix="tripwire-review-") as tmp:
        data = Path(tmp) / "kept.jsonl"
        data.write_bytes(b"".join(raw + b"\n" for raw in kept))
        findings = Path(tmp) / "loose.findings.jsonl"
        audit(
            [data], config=loose, findings=findings, workdir=Path(tmp) / "work", progress=progress
        )
        rows = read_findings(findings)
    out: dict[int, tuple[float, str]] = {}
    for k, row in enumerate(rows):
        details = row.get("details") or {}
        best = (0.0, "")
        if "near_duplicate" in row["reasons"]:
            s = details["near_duplicate"].get("similarity", 0.0)
            best = max(best, (_edge(s, cfg.near_dup_threshold, loose_dup), "near_duplicate"))
        if "benchmark_contamination" in row["reasons"]:
            for m in details["benchmark_contamination"].get("matches", []):
                offset = _STREAM_OFFSET.get(str(m.get("matched_on")), 0.0)
                t = min(1.0, cfg.contamination_threshold + offset)
                lt = min(1.0, loose_c + offset)
                c = float(m.get("containment", 0.0))
                best = max(best, (_edge(c, t, lt), "benchmark_contamination"))
        if best[0] > 0:
            out[k] = best
    return out
