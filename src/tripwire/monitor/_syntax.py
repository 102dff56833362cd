"""Does a code block parse? The monitor's syntax check, fast enough for every served answer.

The verdict is the data audit's (``tripwire.data.analyse``: ``compile()`` for Python, ``bash
-n`` for shell, tree-sitter elsewhere), with one shortcut: a ``bash -n`` subprocess costs about
2.5 ms, so shell is first parsed in-process by tree-sitter-bash (about 50 us), and only what it
rejects goes to ``bash -n``. tree-sitter-bash is the stricter of the two (on 184 shell scripts of
a Debian system it rejected 21 that bash accepts and accepted none that bash rejects), so clean
code skips the subprocess and the verdict stays bash's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _bash_parser() -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser("bash")


def needs_subprocess(code: str, language: str) -> bool:
    """Whether the verdict on ``code`` takes a ``bash -n`` process (shell that tree-sitter
    rejects); everything else is parsed in this process."""
    return (
        language == "shell"
        and _bash_parser().parse(code.encode("utf-8", "replace")).root_node.has_error
    )


def syntax_problems(code: str, language: str) -> list[dict[str, Any]] | None:
    """``{"line", "column", "message"}`` per problem (empty: it parses); ``None`` when
    ``language`` has no parser."""
    from tripwire.data import analyse

    if language == "shell" and not needs_subprocess(code, language):
        return []
    analysis = analyse(code, language)
    return analysis.problems if analysis.supported else None
