"""``secret``: cloud keys, private keys, tokens, passwords in URLs and assignments, anywhere in
the raw record: every field, every chat turn (system and tool turns too), metadata, id, source.

It reads the record's ``suspects`` (the strings the reader found a pattern's literal in), not
its code, so it is checked per record and never from another record's cached result: two
records with equal code may differ in their ids or metadata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tripwire.data._allowlist import NOTHING, Allowlist
from tripwire.data._secrets import hashed_secret, redact, secrets_in
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

if TYPE_CHECKING:
    from tripwire.data._config import AuditConfig

_MAX_SHOWN = 5


def _shown(line: str, start: int, end: int, kind: str) -> str:
    """The line with this secret, and any other on it, replaced by markers."""
    return (redact(line[:start]) + f"[REDACTED:{kind}]" + redact(line[end:]))[:200]


@record_check("secret")
class Secret(RecordCheck):
    needs_code = False

    def __init__(self, allow: Allowlist = NOTHING) -> None:
        self.allow = allow

    @classmethod
    def from_config(cls, config: AuditConfig) -> RecordCheck:
        return cls(config.allowlist())

    def arguments(self) -> dict[str, Any]:
        return {"allowlist_sha256": self.allow.sha256 or None}

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        if not rec.suspects:
            return None
        hits, allowed = [], 0
        for where, text, key in rec.suspects:
            for hit in secrets_in(text, key):
                line_start = text.rfind("\n", 0, hit.start) + 1
                line_end = text.find("\n", hit.end)
                line = text[line_start : line_end if line_end >= 0 else len(text)]
                value = text[hit.start : hit.end]
                found = {
                    "kind": hit.kind,
                    "value": value,
                    "line": line,
                    "field": where,
                    "id": rec.id,
                    "source": rec.source,
                }
                if self.allow.accepts(found):
                    allowed += 1
                    continue
                hits.append(
                    {
                        "kind": hit.kind,
                        "where": where,
                        "line": text.count("\n", 0, hit.start) + 1,
                        "redacted": _shown(
                            line, hit.start - line_start, hit.end - line_start, hit.kind
                        ),
                        "sha1": hashed_secret(value),
                    }
                )
        if not hits:
            return None
        out: Evidence = {"count": len(hits), "secrets": hits[:_MAX_SHOWN]}
        if allowed:
            out["allowed"] = allowed
        return out
