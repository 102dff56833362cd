"""``truncated``: the code stops before it is finished, the way a length limit cuts text.

Evidence, strongest first: a code fence opened and never closed; the parser reporting that
input ended inside a construct; code that ends without a final newline *and* either fails to
parse, ends in an operator or opener, or ends in a word that occurs nowhere else in the file
but starts a longer name that does (cut mid-identifier).
"""

from __future__ import annotations

import re

from tripwire.data._parsing import SyntaxAnalysis
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_LAST_WORD = re.compile(r"([A-Za-z_]\w*)$")
_UNFINISHED_TAIL = tuple("([{,=+-*/%&|<>.\\:")


def cut_identifier(code: str) -> tuple[str, str] | None:
    """(partial word, a longer name it starts) when ``code`` ends in the middle of a name."""
    m = _LAST_WORD.search(code)
    if not m:
        return None
    word = m.group(1)
    body = code[: m.start()]
    if re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", body):
        return None  # the word exists on its own: it is a complete name
    longer = re.search(rf"(?<![\w$]){re.escape(word)}\w+", body)
    return (word, longer.group()) if longer else None


def _error_at_end(analysis: SyntaxAnalysis, code: str) -> bool:
    """A tree-sitter error far from the end is a broken middle, not a cut end; the other
    parsers (compile, bash -n, delimiter pairing) report a cut where the construct opened."""
    if analysis.parser != "tree-sitter":
        return True
    last = code.count("\n") + 1
    return any(p.get("end_line", p["line"]) >= last - 2 for p in analysis.problems)


@record_check("truncated")
class Truncated(RecordCheck):
    skip_if = frozenset({"not_code", "language_mismatch"})

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        if rec.unclosed_fence is not None:
            return {"why": "code fence never closed", "fence_line": rec.unclosed_fence}
        code = rec.code.rstrip(" \t")
        abrupt = not code.endswith("\n")
        analysis = ctx.analysis(ctx.language) if ctx.language else None
        if (
            analysis is not None
            and not analysis.ok
            and (analysis.at_end or (abrupt and _error_at_end(analysis, code)))
        ):
            return {
                "why": "input ends inside an unfinished construct",
                "parser": analysis.parser,
                "errors": analysis.problems[:3],
            }
        if not abrupt or not code:
            return None
        if code.endswith(_UNFINISHED_TAIL):
            return {"why": "ends in an operator or opener", "tail": code[-40:]}
        cut = cut_identifier(code)
        if cut:
            return {"why": "cut mid-identifier", "partial": cut[0], "completes": cut[1]}
        return None
