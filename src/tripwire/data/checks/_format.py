"""``bad_format``: the record is not valid JSON, has no known shape, or has broken fields."""

from __future__ import annotations

from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check


@record_check("bad_format")
class BadFormat(RecordCheck):
    needs_code = False

    def check(self, ctx: RecordContext) -> Evidence | None:
        problems = ctx.record.problems
        if not problems:
            return None
        return {"problems": problems[:5], "kind": ctx.record.kind}
