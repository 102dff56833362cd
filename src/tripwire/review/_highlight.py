"""Code for the review page: syntax-highlighted by Pygments, which escapes every character of
the text it is given, so model output and record text reach the page only as text (the page's
Content-Security-Policy would block any script anyway)."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

_ALIASES = {"shell": "bash", "sh": "bash", "c++": "cpp", "js": "javascript"}


@lru_cache(maxsize=32)
def _lexer(language: str) -> Lexer:
    name = _ALIASES.get(language.lower(), language.lower())
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


_FORMATTER = HtmlFormatter(cssclass="hl", nowrap=False)


def code_html(text: str, language: str) -> Markup:
    """``text`` as escaped, highlighted HTML (a ``<div class="hl"><pre>`` block)."""
    # Pygments escapes the text: the Markup wraps its already-escaped HTML
    return Markup(highlight(text, _lexer(language or "text"), _FORMATTER))


def stylesheet() -> str:
    """The highlighting's CSS (served as a file: the page allows no inline style)."""
    return str(_FORMATTER.get_style_defs(".hl"))
