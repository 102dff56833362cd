"""`tripwire tokens audit`: every check on a baseline/candidate pair (or on one model), as
findings and one verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tripwire.findings import Finding, Severity, Verdict, report_dict, verdict_of
from tripwire.progress import Progress, no_progress
from tripwire.tokens._functional import functional_findings
from tripwire.tokens._matrix import RowStats
from tripwire.tokens._pair import Pair, Side
from tripwire.tokens._probe import probe_corpus
from tripwire.tokens._rows import Correspondence
from tripwire.tokens._structure import (
    config_id_change_findings,
    table_findings,
    tokenizer_file_findings,
)
from tripwire.tokens._tokdiff import (
    component_findings,
    loader_findings,
    segmentation,
    special_findings,
    vocab_findings,
)
from tripwire.tokens._undertrained import undertrained_findings
from tripwire.tokens._untrained import classify_rows, row_class_findings
from tripwire.tokens._vocab import TokenizerView

_EXAMPLES = 6
# Findings whose token ids the functional check localises its comparison to.
_SUSPECT_SEVERITIES = (Severity.WARN, Severity.BLOCK)


@dataclass
class AuditReport:
    """The findings of one audit and what they add up to."""

    mode: Literal["pair", "single"]
    candidate: str
    baseline: str | None = None
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def find(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """``{"verdict", "findings", ...}``: the contract other tools read."""
        return report_dict(
            self.findings,
            mode=self.mode,
            baseline=self.baseline,
            candidate=self.candidate,
            summary=self.summary,
        )


def audit(
    baseline: str | Path,
    candidate: str | Path,
    *,
    corpus: Sequence[str | Path] = (),
    functional: bool = False,
    progress: Progress = no_progress,
) -> AuditReport:
    """Compare a candidate checkpoint with the baseline it was made from."""
    probe = probe_corpus(corpus)
    progress("load", 0, 1)
    pair = Pair.load(baseline, candidate)
    progress("load", 1, 1)
    base, cand = pair.base, pair.cand
    findings = [
        *table_findings(cand.ckpt, cand.tok, cand.tables),
        *tokenizer_file_findings(cand.ckpt, cand.tok),
        *component_findings(base.tok, cand.tok),
        *special_findings(base.tok, cand.tok),
        *vocab_findings(base.tok, cand.tok),
    ]
    seg = segmentation(base.tok, cand.tok, probe)
    findings.append(seg.finding())
    findings.extend(loader_findings(base.tok, cand.tok, probe))
    rows = pair.compare_rows(progress)
    for matrix, corr in rows.items():
        findings.extend(_row_findings(pair, corr, seg.usage, matrix))
    # after the rows: special tokens moved in the tokenizer leave the config's ids behind, and
    # the gate names the first blocking finding as the root cause (the rows are the fault)
    findings.extend(config_id_change_findings(base.ckpt, base.tok, cand.ckpt, cand.tok))
    if functional:
        suspects = {
            i
            for f in findings
            if f.severity in _SUSPECT_SEVERITIES and f.code != "tokens.segmentation_changed"
            for i in f.token_ids
        }
        findings.extend(
            functional_findings(
                base.ckpt,
                cand.ckpt,
                base.tok,
                cand.tok,
                probe,
                suspects,
                cand.tables.rows,
                progress,
            )
        )
    cand_ids, _ = pair.shared
    summary = {
        "tokenizer_size": [base.tok.size, cand.tok.size],
        "rows": [base.tables.rows, cand.tables.rows],
        "tie": [base.tables.tie_state, cand.tables.tie_state],
        "shared_tokens": len(cand_ids),
        "new_tokens": len(pair.new_ids),
        "probe_characters": seg.chars,
        "drift": {m: c.drift for m, c in rows.items()},
        "tolerance": {m: c.tolerance for m, c in rows.items()},
    }
    return AuditReport("pair", str(candidate), str(baseline), findings, summary)


def _row_findings(
    pair: Pair, corr: Correspondence, usage: Counter[int], matrix: str
) -> list[Finding]:
    prefix = "" if matrix == "input" else "output_"
    what = "input embedding" if matrix == "input" else "output head"
    cand, base = pair.cand.tok, pair.base.tok
    base_broken = len(np.setdiff1d(pair.not_comparable, list(pair.cand.tables.nonfinite)))
    out = [
        Finding(
            f"tokens.{prefix}rows_match",
            Severity.INFO,
            f"{len(corr.matched)} of {corr.compared} shared tokens keep their {what} row "
            f"(median drift {corr.drift:.4f}, tolerance {corr.tolerance:.3f})"
            + (f"; {base_broken} were NaN or infinite in the baseline" if base_broken else ""),
            evidence={
                "compared": corr.compared,
                "matched": len(corr.matched),
                "drift": corr.drift,
                "tolerance": corr.tolerance,
                "not_searched": corr.not_searched,
                "baseline_not_finite": base_broken,
            },
        )
    ]
    if corr.remapped:
        ids = sorted(corr.remapped)
        used = [i for i in ids if usage.get(i)]
        examples = [
            {
                "id": i,
                "token": cand.text_of(i),
                "holds_row_of": base.text_of(corr.remapped[i]),
                "baseline_id": corr.remapped[i],
            }
            for i in (used + [i for i in ids if i not in set(used)])[:20]
        ]
        shown = "; ".join(
            f"{e['token']!r} (id {e['id']}) holds {e['holds_row_of']!r}" for e in examples[:3]
        )
        out.append(
            Finding(
                f"tokens.{prefix}rows_remapped",
                Severity.BLOCK,
                f"{len(ids)} tokens hold another token's {what} row (ids reassigned, rows not "
                f"remapped); {len(used)} occur in the probe corpus: {shown}",
                token_ids=ids,
                evidence={
                    "mapping": {str(i): corr.remapped[i] for i in ids},
                    "examples": examples,
                    "used_in_probe": used,
                },
            )
        )
    if len(corr.drifted):
        out.append(
            Finding(
                f"tokens.{prefix}rows_drifted",
                Severity.INFO,
                f"{len(corr.drifted)} {what} rows moved more than the tolerance but are still "
                f"nearest to their own baseline row",
                token_ids=corr.drifted.tolist(),
            )
        )
    table = pair.cand.tables.input if matrix == "input" else pair.cand.tables.output()
    base_table = pair.base.tables.input if matrix == "input" else pair.base.tables.output()
    stats = pair.base_stats if matrix == "input" else pair.base_output_stats
    # NaN / infinite rows have their own finding (rows_not_finite); classified, they would
    # read as "random"
    broken = pair.not_comparable
    unexplained = np.setdiff1d(corr.unexplained, broken)
    if len(unexplained):
        classes = classify_rows(table, unexplained, base_table, stats, {}, corr.tolerance)
        out.extend(row_class_findings(classes, cand, usage, new=False, prefix=prefix))
    new = np.setdiff1d(pair.new_ids, broken)
    if len(new):
        pieces = {int(i): pair.pieces(int(i)) for i in new}
        classes = classify_rows(table, new, base_table, stats, pieces, corr.tolerance, copies=True)
        out.extend(row_class_findings(classes, cand, usage, new=True, prefix=prefix))
    return out


def audit_model(
    model: str | Path,
    *,
    corpus: Sequence[str | Path] = (),
    calibrate: str = "auto",
    progress: Progress = no_progress,
) -> AuditReport:
    """Single-model mode: structure, and tokens that look under-trained from the weights alone,
    calibrated on the rows ``calibrate`` names (``tripwire.tokens.CALIBRATIONS``)."""
    probe = probe_corpus(corpus)
    side = Side.load(model)
    tok: TokenizerView = side.tok
    findings = [
        *table_findings(side.ckpt, tok, side.tables),
        *tokenizer_file_findings(side.ckpt, tok),
    ]
    usage: Counter[int] = Counter()
    for enc in tok.encode([p.text for p in probe]):
        usage.update(enc.ids)
    progress("weights", 0, 1)
    table = side.tables.output()
    if side.tables.nonfinite:
        findings.append(
            Finding(
                "tokens.undertrained_skipped",
                Severity.INFO,
                "rows with NaN or infinite values (rows_not_finite) leave no statistics to "
                "tell under-trained rows by; repair or remove them first",
            )
        )
    else:
        findings.extend(undertrained_findings(tok, table, usage, RowStats(table).norms, calibrate))
    progress("weights", 1, 1)
    summary = {
        "tokenizer_size": tok.size,
        "rows": side.tables.rows,
        "tie": side.tables.tie_state,
        "table": "output head" if side.tables.head is not None else "input embeddings",
        "reserved_tokens": len(tok.reserved_ids()),
    }
    return AuditReport("single", str(model), None, findings, summary)
