"""``benchmark_contamination``: a benchmark item (HumanEval, or a ``--benchmark`` file) is in
the record, verbatim or disguised (see ``tripwire.data._contamination``)."""

from __future__ import annotations

from typing import Any

from tripwire.data._contamination import ContaminationIndex
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_MAX_MATCHES = 3


@record_check("benchmark_contamination")
class BenchmarkContamination(RecordCheck):
    def __init__(self, index: ContaminationIndex) -> None:
        self.index = index

    def arguments(self) -> dict[str, Any]:
        return {"items": len(self.index), "threshold": self.index.threshold}

    def check(self, ctx: RecordContext) -> Evidence | None:
        matches = self.index.match_ids(ctx.token_ids()[1], ctx.shingle_text(), ctx.language)
        if not matches:
            return None
        return {
            "matches": [
                {
                    "benchmark": m.item.benchmark,
                    "item": m.item.item_id,
                    "containment": m.containment,
                    "lines": [m.first_line, m.last_line],
                }
                for m in matches[:_MAX_MATCHES]
            ]
        }
