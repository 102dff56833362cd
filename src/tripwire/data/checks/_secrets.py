"""``secret``: cloud keys, private keys, tokens, passwords in URLs, anywhere in the record."""

from __future__ import annotations

from tripwire.data._secrets import find_secrets, redact
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_MAX_SHOWN = 5


@record_check("secret")
class Secret(RecordCheck):
    needs_code = False

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        hits = []
        for where, text in (("code", rec.code), ("prompt", rec.prompt), ("tests", rec.tests)):
            if not text:
                continue
            for hit in find_secrets(text):
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
