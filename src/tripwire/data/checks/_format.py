"""``bad_format``: the record is not valid JSON, has no known shape, has broken fields, or its
code holds a NUL character."""

from __future__ import annotations

from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check


@record_check("bad_format")
class BadFormat(RecordCheck):
    needs_code = False

    def check(self, ctx: RecordContext) -> Evidence | None:
        problems = ctx.record.problems
        if "\x00" in ctx.record.code:
            # no source file holds one; parsers that only pair delimiters (C, Perl) or no
            # parser at all (an undeclared language) would let it through
            problems = [*problems, "the code holds a NUL character (binary or corrupted text)"]
        if not problems:
            return None
        return {"problems": problems[:5], "kind": ctx.record.kind}
