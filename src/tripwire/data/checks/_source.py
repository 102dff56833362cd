"""``source_not_allowed``: the record's ``source`` matches none of the allowed patterns."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

if TYPE_CHECKING:
    from tripwire.data._config import AuditConfig


@record_check("source_not_allowed")
class SourceNotAllowed(RecordCheck):
    """Only active when patterns are given; a record without a source is not allowed then."""

    needs_code = False

    def __init__(self, patterns: tuple[str, ...] = ()) -> None:
        self.patterns = tuple(patterns)

    @classmethod
    def from_config(cls, config: AuditConfig) -> RecordCheck:
        return cls(config.allow_sources)

    def arguments(self) -> dict[str, Any]:
        return {"patterns": list(self.patterns)}

    def check(self, ctx: RecordContext) -> Evidence | None:
        if not self.patterns:
            return None
        source = ctx.record.source
        if source is not None and any(fnmatchcase(source, p) for p in self.patterns):
            return None
        return {"source": source, "allowed": list(self.patterns)}
