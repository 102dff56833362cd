"""``not_code``: prose (an explanation, a refusal, a README) where code is expected.

Counted per line, comment lines left out: a line is prose when it has several words, common
English function words among them, and almost none of the symbols code is made of.
"""

from __future__ import annotations

import re

from tripwire.data._lexer import strip_comments
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_SYMBOLS = frozenset("{}()[];=<>$|&*+\\")
_COMMENT = re.compile(r"^\s*(?:#|//|/\*|\*|--|;|%|<!--|\"\"\"|''')")
_STOPWORD_TEXT = """
    the a an is are was were be been of to in on for with and or but not this that these
    those it its you your we our they their he she i can will would should could may might
    do does did have has had as at by from if then than so which what when where who how
    there here also just only very all any some such into about over use using
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
MIN_WORDS = 4
# Languages whose parser rejects prose (bash accepts most sentences as commands, and C and Perl
# are only checked for paired delimiters).
_STRICT_PARSERS = frozenset({"python", "javascript", "typescript", "java", "go", "rust", "ruby"})
PROSE_FRACTION = 0.5


def prose_words(code: str, language: str | None) -> tuple[int, int]:
    """(words on prose lines, all words), comments and string literals left out (docstrings and
    usage messages are prose inside code)."""
    prose = total = 0
    # Without a known language an apostrophe could open a "string": keep strings then.
    for line in strip_comments(code, language, strings=language is not None).splitlines():
        if _COMMENT.match(line):
            continue
        words = _WORD.findall(line)
        total += len(words)
        if len(words) < 4:
            continue
        stop = sum(w.lower() in _STOPWORDS for w in words)
        symbols = sum(ch in _SYMBOLS for ch in line)
        if stop >= 2 and stop >= 0.2 * len(words) and symbols <= 0.02 * len(line) + 1:
            prose += len(words)
    return prose, total


@record_check("not_code")
class NotCode(RecordCheck):
    def check(self, ctx: RecordContext) -> Evidence | None:
        code = ctx.record.code
        lang = ctx.language
        if lang is None:  # undeclared: the detector's best guess, if its strict parser agrees
            guess = ctx.detection()
            if guess.language in _STRICT_PARSERS and ctx.analysis(guess.language).ok:
                return None  # functions with long docstrings are code that parses
            if guess.confident:  # a shebang, a package line: read its strings and POD as such
                lang = guess.language
        if lang in _STRICT_PARSERS and (ctx.analysis(lang).ok or ctx.analysis(lang).eof):
            return None  # prose never compiles as these, nor stops mid-construct; code does
        if sum(map(code.count, "{}()[];=")) > 0.03 * len(code) + 8:
            return None  # prose has almost none of these; code is full of them
        prose, words = prose_words(ctx.record.code, lang)
        if words < MIN_WORDS or prose < PROSE_FRACTION * words:
            return None
        if lang is not None:
            analysis = ctx.analysis(lang)
            if analysis.supported and analysis.ok and words > 40:
                return None  # it parses: prose-like code (a literate script), not prose
        first = next((ln.strip() for ln in ctx.record.code.splitlines() if ln.strip()), "")
        return {
            "prose_words": prose,
            "words": words,
            "origin": ctx.record.kind,
            "first_line": first[:160],
        }
