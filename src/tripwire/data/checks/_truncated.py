"""``truncated``: the code stops before it is finished, the way a length limit cuts text.

Evidence, strongest first: a code fence opened and never closed; a parse failure that the
language's parser attributes to the end of the text (``_unfinished``: the text ends inside an
unfinished construct, with no well-formed code after the error); code that parses but stops
without a final newline *and* ends in an operator or opener, or in a word that occurs nowhere
else in the file but starts a longer name that does (cut mid-identifier). A parse error with
well-formed code after it is a ``syntax_error`` instead.
"""

from __future__ import annotations

import builtins
import keyword
import re

from tripwire.data._unfinished import UNFINISHED_TAIL, ends_unfinished
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_LAST_WORD = re.compile(r"([A-Za-z_]\w*)$")
# Names a short excerpt uses without defining them: a cut word that starts one of these (and
# occurs nowhere else) was cut, like ``_importing_zlib = T`` from ``= True``.
_JS_NAMES = ("true", "false", "null", "undefined", "return", "function", "const", "let", "var",
             "this", "typeof", "instanceof", "await", "async", "throw", "new", "Error", "Object",
             "Array", "String", "Number", "Promise", "console", "JSON", "Math")  # fmt: skip
_LANGUAGE_NAMES = {
    "python": frozenset(keyword.kwlist) | frozenset(dir(builtins)),
    "javascript": frozenset(_JS_NAMES),
}


def cut_identifier(code: str, language: str | None = None) -> tuple[str, str] | None:
    """(partial word, a longer name it starts) when ``code`` ends in the middle of a name: a
    word that occurs nowhere else on its own but starts a longer name the code uses, or one of
    the language's own names (keywords, builtins)."""
    m = _LAST_WORD.search(code)
    if not m:
        return None
    word = m.group(1)
    body = code[: m.start()]
    if re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", body):
        return None  # the word exists on its own: it is a complete name
    longer = re.search(rf"(?<![\w$]){re.escape(word)}\w+", body)
    if longer:
        return word, longer.group()
    names = _LANGUAGE_NAMES.get(language or "", frozenset())
    # a keyword first: ``T`` most likely began ``True``, not ``TabError``
    own = sorted((n for n in names if n.startswith(word) and n != word),
                 key=lambda n: (not keyword.iskeyword(n), n))  # fmt: skip
    return (word, own[0]) if own and word not in names else None


@record_check("truncated")
class Truncated(RecordCheck):
    skip_if = frozenset({"not_code", "language_mismatch"})

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        if rec.unclosed_fence is not None:
            return {"why": "code fence never closed", "fence_line": rec.unclosed_fence}
        code = rec.code.rstrip(" \t")
        analysis = ctx.analysis(ctx.language) if ctx.language else None
        if analysis is not None and not analysis.ok:
            if not ends_unfinished(rec.code, analysis.language, analysis):
                return None  # an error with code after it: syntax_error's
            return {
                "why": "input ends inside an unfinished construct",
                "parser": analysis.parser,
                "errors": analysis.problems[:3],
            }
        if code.endswith("\n") or not code:
            return None
        if code.endswith(UNFINISHED_TAIL):
            return {"why": "ends in an operator or opener", "tail": code[-40:]}
        cut = cut_identifier(code, ctx.language)
        if cut:
            return {"why": "cut mid-identifier", "partial": cut[0], "completes": cut[1]}
        if ctx.language == "perl" and (opened := open_pod_code(code)):
            return {"why": "ends inside a POD formatting code", "opened": opened}
        return None


_POD_COMMAND = re.compile(r"^=([a-z]\w*)", re.MULTILINE)
_POD_CODE = re.compile(r"[BCEFILSXZ](<+)")


def open_pod_code(code: str) -> str | None:
    """The POD formatting code (``L<http://rt.cp``) a Perl text ends inside, if it stops in
    documentation (the parser skips POD, so only this shows the cut)."""
    commands = _POD_COMMAND.findall(code)
    if not commands or commands[-1] == "cut":
        return None
    paragraph = code[code.rfind("\n\n") + 1 :]
    unclosed = [m for m in _POD_CODE.finditer(paragraph)
                if paragraph.find(">" * len(m.group(1)), m.end()) < 0]  # fmt: skip
    return paragraph[unclosed[0].start() :][:60] if unclosed else None
