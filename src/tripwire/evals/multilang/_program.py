"""How a completion becomes a program: prompt + completion + the closing the prompt needs +
the tests, as an ``Executable`` for the sandbox.

MultiPL-E's stop sequences for C++, shell and Perl (``\\n}``) end a generation just before the
function's closing brace, and JavaScript's end it after; both are accepted. When the completion
leaves exactly the function open, its closing is added. When it leaves more open (a block, a
call, a string: a generation cut by the token limit), nothing is repaired: the program fails,
and a failure to compile is then classed ``incomplete`` rather than ``compile_error``.

The tests' text of JavaScript, Perl and shell holds a split line: the language's ``executable``
puts what follows it in a harness file of its own (the command it runs), which loads the
program; C++ is one file (the tests' ``main`` follows the function).
"""

from __future__ import annotations

from dataclasses import dataclass

from tripwire.evals.multilang._language import Language
from tripwire.evals.multilang._lexer import closes_at_column_0, scan
from tripwire.evals.multilang._translate import Translated
from tripwire.sandbox import Executable

TOOLCHAIN_FILE = ".toolchain"


@dataclass(frozen=True)
class Program:
    executable: Executable
    open_at_end: str | None
    """What the completion left open beyond the function (``2 brackets``, ``a string``), or
    None when the program's text is closed."""


def program(
    language: Language, item: Translated, completion: str, *, control: bool = False
) -> Program:
    """The program for one completion (``control``: with the negative control's tests)."""
    text = item.prompt + completion
    balance = scan(text, language.syntax)
    closing = ""
    if balance.inside is None and len(balance.open) == 1 and not closes_at_column_0(completion):
        closing = "\n" + language.closing
    left = None
    if balance.inside is not None:
        left = f"a {balance.inside}"
    elif len(balance.open) > (1 if closing else 0):
        n = len(balance.open)
        left = f"{n} open {'block' if n == 1 else 'blocks'} ({' '.join(balance.open)})"
    tests = item.control_tests if control else item.tests
    source = text + closing + "\n" + tests
    files, run, build = language.executable(source)
    # the toolchain's version is part of the content, so cached results never outlive it
    files = (*files, (TOOLCHAIN_FILE, language.toolchain() + "\n"))
    return Program(Executable(files, run, build), left)
