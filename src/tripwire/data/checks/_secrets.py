"""``secret``: cloud keys, private keys, tokens, passwords in URLs, anywhere in the record."""

from __future__ import annotations

from collections.abc import Sequence

from tripwire.data._secrets import ALL_ANCHORS, anchors_in, find_secrets, redact
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_MAX_SHOWN = 5


def _texts(*texts: str | None) -> list[str]:
    return [t for t in texts if t]


@record_check("secret")
class Secret(RecordCheck):
    needs_code = False

    def prepare(self, contexts: Sequence[RecordContext]) -> None:
        anchors = anchors_in(
            text
            for ctx in contexts
            for text in _texts(ctx.record.code, ctx.record.prompt, ctx.record.tests)
        )
        for ctx in contexts:
            ctx.prepared[self.code] = anchors

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        hits = []
        anchors = ctx.prepared.get(self.code, ALL_ANCHORS)
        for where, text in (("code", rec.code), ("prompt", rec.prompt), ("tests", rec.tests)):
            if not text:
                continue
            for hit in find_secrets(text, anchors):
                line_start = text.rfind("\n", 0, hit.start) + 1
                line_end = text.find("\n", hit.end)
                line = text[line_start : line_end if line_end >= 0 else len(text)]
                hits.append(
                    {
                        "kind": hit.kind,
                        "where": where,
                        "line": text.count("\n", 0, hit.start) + 1,
                        "redacted": redact(line)[:200],
                    }
                )
        if not hits:
            return None
        return {"count": len(hits), "secrets": hits[:_MAX_SHOWN]}
