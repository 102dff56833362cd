"""``benchmark_contamination``: a benchmark item (HumanEval, or a ``--benchmark`` file) is in
the record, verbatim or disguised (see ``tripwire.data._contamination``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tripwire.data._contamination import ContaminationIndex, Match, Probe, contamination_index
from tripwire.data.checks._base import (
    Evidence,
    RecordCheck,
    RecordContext,
    compute_token_ids,
    record_check,
)

if TYPE_CHECKING:
    from tripwire.data._config import AuditConfig

_MAX_MATCHES = 3


def probe(ctx: RecordContext) -> Probe:
    ids, canon = ctx.token_ids()
    return Probe(ctx.shingle_text(), ctx.language, ctx.record.prompt, ctx.tokens(), ids, canon)


@record_check("benchmark_contamination")
class BenchmarkContamination(RecordCheck):
    def __init__(self, index: ContaminationIndex) -> None:
        self.index = index

    @classmethod
    def from_config(cls, config: AuditConfig) -> RecordCheck:
        return cls(contamination_index(config.benchmarks, config.contamination_threshold))

    def arguments(self) -> dict[str, Any]:
        return {"items": len(self.index), "threshold": self.index.threshold}

    def prepare(self, contexts: Sequence[RecordContext]) -> None:
        compute_token_ids(contexts)
        found = self.index.match_many([probe(ctx) for ctx in contexts])
        for ctx, matches in zip(contexts, found, strict=True):
            ctx.prepared[self.code] = matches

    def check(self, ctx: RecordContext) -> Evidence | None:
        matches: list[Match] | None = ctx.prepared.get(self.code)
        if matches is None:  # not prepared (a check run on its own)
            matches = self.index.match_many([probe(ctx)])[0]
        if not matches:
            return None
        return {
            "matches": [
                {
                    "benchmark": m.item.benchmark,
                    "item": m.item.item_id,
                    "part": m.part,
                    "matched_on": m.channel,
                    "containment": m.containment,
                    "lines": [m.first_line, m.last_line],
                }
                for m in matches[:_MAX_MATCHES]
            ]
        }
