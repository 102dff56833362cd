"""Real English prose on this machine: paragraphs of the Python standard library's module
docstrings (used to plant ``not_code``: an explanation where code was expected)."""

from __future__ import annotations

import ast
import re
import sysconfig
from functools import lru_cache
from pathlib import Path

_CODE_CHARS = re.compile(r"[(){}\[\]=<>]|>>>|::|--")


@lru_cache(maxsize=1)
def prose_paragraphs(min_chars: int = 200) -> tuple[str, ...]:
    """Docstring paragraphs of three or more lines of plain sentences, in a stable order."""
    out = []
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.glob("*.py")) + sorted(root.glob("*/__init__.py")):
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for para in (doc or "").split("\n\n"):
            lines = [ln.strip() for ln in para.strip().splitlines()]
            if len(lines) < 3 or len(para) < min_chars or para.lstrip().startswith(("-", "*")):
                continue
            if any(_CODE_CHARS.search(ln) for ln in lines):
                continue  # examples, signatures and tables are code-ish, not prose
            if sum(len(ln.split()) for ln in lines) < 6 * len(lines) or "." not in para:
                continue  # lists of names, not sentences
            out.append("\n".join(lines))
    return tuple(out)
