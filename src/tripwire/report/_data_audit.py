"""The HTML report of a data audit (autoescaped; evidence redacted again before it is shown)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.artifacts import write_text_atomic
from tripwire.report._html import render_html

if TYPE_CHECKING:
    from tripwire.data import AuditResult, ReportData


def _bucket_key(label: str) -> int:
    return int(label.split("-")[0]) if label[0].isdigit() else -1


def report_context(result: AuditResult, data: ReportData) -> dict[str, Any]:
    # imported here: rendering a gate or an incident must not load the data audit
    from tripwire.data import (
        BLOCKING,
        FLAGS,
        REASON_MEANINGS,
        REASONS,
        SAMPLE_PER_STRATUM,
        redact_obj,
    )

    d = result.to_dict()
    return {
        "verdict": d["verdict"],
        "summary": d["summary"],
        "throughput": d["throughput"],
        "engine": result.engine,
        "reasons": [
            {
                "code": r,
                "count": result.by_reason.get(r, 0),
                "blocking": r in BLOCKING,
                "meaning": REASON_MEANINGS[r],
            }
            for r in REASONS
        ],
        "examples": [
            (
                r,
                [
                    {
                        **ex,
                        "evidence_json": json.dumps(
                            redact_obj(ex["evidence"]), indent=2, ensure_ascii=False
                        ),
                    }
                    for ex in data.examples[r]
                ],
            )
            for r in (*REASONS, *FLAGS)
            if r in data.examples
        ],
        "flags": [
            {"code": f, "count": result.by_flag.get(f, 0), "meaning": REASON_MEANINGS[f]}
            for f in FLAGS
        ],
        "clusters": data.clusters,
        "contamination": data.contamination,
        "languages": data.languages.most_common(),
        "lengths": sorted(data.lengths.items(), key=lambda kv: _bucket_key(kv[0])),
        "sample": data.sample,
        "per_stratum": SAMPLE_PER_STRATUM,
        "config_json": json.dumps(result.config, indent=2, default=str),
    }


def render_data_audit_html(result: AuditResult, data: ReportData, path: Path | None = None) -> str:
    """The report as HTML; also written atomically to ``path`` when given."""
    html = render_html("data_audit.html.j2", **report_context(result, data))
    if path is not None:
        write_text_atomic(path, html)
    return html
