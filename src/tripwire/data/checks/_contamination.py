"""``benchmark_contamination``: a benchmark item (HumanEval, or a ``--benchmark`` file) is in
the record, verbatim or disguised (see ``tripwire.data._contamination``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tripwire.data._contamination import (
    ContaminationIndex,
    Match,
    Probe,
    contamination_index,
    merged,
)
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


def _context_probe(ctx: RecordContext) -> Probe:
    return Probe.of(ctx.record.context, ctx.language)


def _together(record: list[Match], context: list[Match]) -> list[Match]:
    """Each item's best match of the record's own text and of its system and tool turns."""
    return merged(record, [dataclasses.replace(m, in_context=True) for m in context])


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
        # a chat's system and tool turns are looked at on their own: lines then count in them
        told = [k for k, ctx in enumerate(contexts) if ctx.record.context.strip()]
        aside = self.index.match_many([_context_probe(contexts[k]) for k in told])
        for k, matches in zip(told, aside, strict=True):
            found[k] = _together(found[k], matches)
        for ctx, matches in zip(contexts, found, strict=True):
            ctx.prepared[self.code] = matches

    def check(self, ctx: RecordContext) -> Evidence | None:
        matches: list[Match] | None = ctx.prepared.get(self.code)
        if matches is None:  # not prepared (a check run on its own)
            matches = self.index.match_many([probe(ctx)])[0]
            if ctx.record.context.strip():
                aside = self.index.match_many([_context_probe(ctx)])[0]
                matches = _together(matches, aside)
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
                    **({"in": "system/tool turns"} if m.in_context else {}),
                }
                for m in matches[:_MAX_MATCHES]
            ]
        }
