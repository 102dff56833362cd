"""``syntax_error``: the code does not parse in its language (see ``_parsing`` for which
parser decides per language)."""

from __future__ import annotations

from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check


@record_check("syntax_error")
class SyntaxErrorCheck(RecordCheck):
    skip_if = frozenset({"not_code", "language_mismatch", "truncated"})

    def check(self, ctx: RecordContext) -> Evidence | None:
        if ctx.language is None:
            return None
        analysis = ctx.analysis(ctx.language)
        if analysis.ok or not analysis.supported:
            return None
        return {
            "language": analysis.language,
            "parser": analysis.parser,
            "errors": analysis.problems[:3],
        }
