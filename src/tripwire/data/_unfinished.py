"""Cut or broken? When code does not parse, does the text end inside an unfinished construct
(``truncated``), or is there an error with well-formed code after it (``syntax_error``)?

One rule for every parsed language, from what its parser reports (``SyntaxAnalysis``):

1. The text ends inside a block comment or a string that runs to its end: cut inside it (a
   Python docstring only if no line after it sits further left than it starts: that would be
   code after a closing quote that went missing).
2. The parser ran out of input inside a construct (``eof``: Python's "incomplete input", bash's
   "unexpected end of file", a tree-sitter error that reaches the last line, only unclosed
   delimiters): cut, unless the code after the innermost construct left open shows that the
   construct was closed by a line now missing: a later line as far left as the line that
   opened it that is not a closer, or a closer further left than its opener (a ``}`` or ``fi``
   deleted in the middle leaves the next function inside the previous one). Comments,
   preprocessor lines and labels are ignored; Python's parser is taken at its word (inside
   brackets its layout is free, and a statement there fails before the end).
3. Otherwise, the first error is on the last line, and the text stops without a final newline
   or that line ends in an operator, opener or comma (``x = a +``, an unterminated ``'abc``):
   cut mid-line.
4. Anything else is a syntax error: the parser failed on text that came after it.
"""

from __future__ import annotations

import re

from tripwire.data._lexer import comment_regex, comment_style
from tripwire.data._parsing import GRAMMARS, SyntaxAnalysis, leaves, parse_tree

_BRACKETS = {"(": ")", "[": "]", "{": "}", "${": "}", "#{": "}"}  # and interpolations
_SHELL = {
    **_BRACKETS,
    "$(": ")",
    "$((": "))",
    "((": "))",
    "${": "}",
    "[[": "]]",
    "if": "fi",
    "do": "done",
    "case": "esac",
}
_PAIRS = {"shell": _SHELL}
_KEYWORDS = frozenset({"if", "do", "case"})
"""Shell block openers: their ``then``/``do`` lines and ``case`` patterns sit at the opener's
own indentation, so only a line further left shows that the block was closed."""
_CLOSES = re.compile(
    r"[ \t]*(?:[)\]}]|(?:fi|done|esac|end|else|elif|elsif|except|finally|catch|then|do)\b)"
)
_UNTERMINATED_DOCSTRING = "unterminated triple-quoted string"
UNFINISHED_TAIL = tuple("([{,=+-*/%&|<>.\\:")
"""Characters a line cannot end with when the statement on it is complete."""
_SILENT = re.compile(r"[ \t]*(?:#|//|/\*|\*|[A-Za-z_]\w*:[ \t]*$)")
"""Lines that say nothing about nesting: comments, C preprocessor lines and goto labels,
which sit at the left margin inside a function as often as outside it."""


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def open_constructs(code: str, language: str) -> tuple[int | None, bool, bool]:
    """(0-based line of the innermost delimiter or shell block keyword left open, whether some
    closer is out of place, whether that innermost one is a shell block keyword), by pairing
    the grammar's tokens (strings and comments are single leaves: their brackets do not
    count). Out of place: a closer with no opener, one that starts its line further left than
    the line of the opener it pairs with (it belongs to an outer construct, whose own closer
    went missing), or one that pairs past a bracket left open inside it. Nothing found
    without a grammar."""
    if language not in GRAMMARS:
        return None, False, False
    pairs = _PAIRS.get(language, _BRACKETS)
    openers_of: dict[str, set[str]] = {}
    for opener, closer in pairs.items():
        openers_of.setdefault(closer, set()).add(opener)
    lines = code.split("\n")
    stack: list[tuple[str, int]] = []
    home: dict[int, int] = {}
    """Row -> the row its statement starts on, for a line that closes brackets opened on an
    earlier one (``f(a,`` / ``  b) {``): a block opened there is indented like that row."""
    misplaced = False
    for node in leaves(parse_tree(code, language)):
        if node.is_named or node.is_missing:
            continue
        t = node.type
        row, col = node.start_point
        if t in pairs:
            stack.append((t, home.get(row, row)))
        elif t in openers_of:
            want = openers_of[t]
            at = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] in want), None)
            if at is None:
                # a shell case pattern ends in a bare ")"
                misplaced |= not (t == ")" and any(o == "case" for o, _ in stack))
                continue
            line = lines[row] if row < len(lines) else ""
            leads = not line.encode()[:col].strip()
            if leads and _indent(line) < _indent(lines[stack[at][1]]):
                misplaced = True
            # a closer that pairs past a bracket still open inside it: that bracket's own
            # closer went missing in the middle (`f(a` and the block goes on to its `}`)
            if any(o not in _KEYWORDS for o, _ in stack[at + 1 :]):
                misplaced = True
            if stack[at][1] < row and t != "}":
                home[row] = min(home.get(row, row), stack[at][1])
            del stack[at:]
    if not stack:
        return None, misplaced, False
    return stack[-1][1], misplaced, stack[-1][0] in _KEYWORDS


def _escapes(lines: list[str], row: int, *, strictly: bool) -> bool:
    """Whether a line after ``row`` is as far left as ``row`` (further left, ``strictly``) and
    is not a closer: code that cannot be inside the construct opened on ``row``."""
    base = _indent(lines[row])
    for line in lines[row + 1 :]:
        if not line.strip() or _SILENT.match(line):
            continue
        depth = _indent(line)
        if (depth < base or (depth == base and not strictly)) and not _CLOSES.match(line):
            return True
    return False


def ends_in_literal(code: str, language: str) -> bool:
    """Whether the text ends inside a block comment or a string that runs to its end."""
    body = code.rstrip()
    last = None
    for last in comment_regex(comment_style(language)).finditer(body):  # noqa: B007
        pass
    if last is None or last.end() < len(body):
        return False
    token = last.group()
    if token.startswith("/*"):
        return not token.endswith("*/") or len(token) < 4
    quote = token[:3] if token[:3] in ('"""', "'''") else token[:1]
    if quote not in ('"', "'", "`", '"""', "'''"):
        return False  # a line comment ends where the line does
    return len(token) < 2 * len(quote) or not token.endswith(quote) or token.endswith("\\" + quote)


def ends_unfinished(code: str, language: str, analysis: SyntaxAnalysis) -> bool:
    """Whether a text that does not parse was cut (see the module docstring)."""
    if analysis.ok:
        return False
    lines = code.split("\n")
    first = analysis.problems[0]
    if analysis.eof and first["message"].startswith(_UNTERMINATED_DOCSTRING):
        # a docstring's lines sit at its own indentation: only a line further left is code
        # after a closing quote that went missing
        return not _escapes(lines, max(0, first["line"] - 1), strictly=True)
    if ends_in_literal(code, language):
        return True
    if analysis.eof:
        if language == "python":
            # Inside brackets Python ignores layout, and a statement there fails the parse
            # before the end: "incomplete input" is the parser's own last word.
            return True
        if language == "shell" and "looking for matching" in first["message"]:
            return True  # a quoted string runs to the end: the cut is inside it
        row_open, misplaced, keyword = open_constructs(code, language)
        if misplaced:
            return False
        return row_open is None or not _escapes(lines, row_open, strictly=keyword)
    body = code.rstrip()
    last = body.count("\n") + 1
    if first["line"] < last:
        # an error node that a recovering parser (tree-sitter) stretched from an enclosing
        # construct's start to the last line of code, which visibly goes on: the text was cut
        # after it (only comments follow); a stray token mid-way ends its node before that
        said = [line for line in body.split("\n") if line.strip() and not _SILENT.match(line)]
        end = first.get("end_line", first["line"])
        return (
            bool(said)
            and end >= last - _trailing_silent(body)
            and (said[-1].rstrip().endswith(UNFINISHED_TAIL))
        )
    # on the last line: cut there if the text stops mid-line or the line visibly goes on
    return not code.rstrip(" \t").endswith("\n") or body.endswith(UNFINISHED_TAIL)


def _trailing_silent(body: str) -> int:
    """How many lines at the end of ``body`` are comments (or blank)."""
    n = 0
    for line in reversed(body.split("\n")):
        if line.strip() and not _SILENT.match(line):
            break
        n += 1
    return n
