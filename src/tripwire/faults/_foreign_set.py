"""A planted set built from code no one here wrote, with mutation styles of its own.

``_faults`` plants every reason into the reference corpus with tripwire's own lexer-based
mutations; this set is the second opinion the issue asks for: its clean records are functions
of the installed PyPI packages (made distinct first), its benchmark copies are disguised with
the standard library's ``ast`` and ``tokenize`` (renaming, 2-space re-indenting, docstrings
removed or turned into comments, partial copies, chat and instruction shapes, copies inside a
package's file), its syntax errors sit in the middle with complete code after them, its cuts
end inside open constructs, and its secrets hide in every place a record holds a string.
"""

from __future__ import annotations

import json
import random
import sysconfig
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path
from typing import Any

from tripwire.data import BenchmarkItem, load_benchmark
from tripwire.faults import disguise
from tripwire.faults._base import PlantedRecord
from tripwire.faults._breakage import Broken, breakage_set
from tripwire.faults._distinct import distinct
from tripwire.faults.secret_corpus import KINDS, installed_python_functions, plant

KINDS_PLANTED = ("benchmark_contamination", "syntax_error", "truncated", "secret")

_Variant = Callable[[BenchmarkItem, random.Random, str], dict[str, Any]]


def _code(text: str) -> dict[str, Any]:
    return {"text": text, "language": "python"}


def _host() -> str:
    """A file of an installed package to hide a copy in."""
    root = Path(sysconfig.get_paths()["purelib"])
    for name in ("packaging/version.py", "packaging/specifiers.py", "jinja2/utils.py"):
        path = root / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


def _inside(item: BenchmarkItem, rng: random.Random, host: str) -> dict[str, Any]:
    cut = host.find("\ndef ", len(host) // 3)
    cut = cut if cut >= 0 else len(host)
    return _code(host[:cut] + "\n\n" + item.text + "\n" + host[cut:])


_CONTAMINATION: dict[str, _Variant] = {
    "verbatim": lambda i, r, h: _code(i.text),
    "ast renamed, docstring kept": lambda i, r, h: _code(disguise.ast_rename(i.text, r)),
    "2-space indent, no docstring": lambda i, r, h: _code(
        disguise.reindent(disguise.drop_docstrings(i.text), 2)
    ),
    "docstring as comments": lambda i, r, h: _code(disguise.docstring_as_comments(i.text)),
    "prompt only": lambda i, r, h: _code(i.prompt + "    raise NotImplementedError\n"),
    "first 60% of lines": lambda i, r, h: _code(disguise.head(i.text, 0.6)),
    "chat: prompt asked, solution answered": lambda i, r, h: {
        "messages": [
            {"role": "user", "content": f"Complete this function:\n\n{i.prompt}"},
            {"role": "assistant", "content": f"```python\n{i.solution}```"},
        ]
    },
    "instruction: description, renamed solution": lambda i, r, h: {
        "prompt": disguise.description(i.prompt),
        "response": "```python\n"
        + disguise.drop_docstrings(disguise.ast_rename(i.text, r))
        + "```\n",
    },
    "inside a package's file": _inside,
}


def _plant_contamination(n: int, rng: random.Random, b: list[PlantedRecord]) -> None:
    items = load_benchmark("humaneval")
    short = sorted(items, key=lambda i: len(i.text))[:20]  # the misses were short
    picked = rng.sample(short, min(n // 2, len(short))) + rng.sample(items, n - min(n // 2, 20))
    host = _host()
    names = list(_CONTAMINATION)
    for k, item in enumerate(picked):
        variant = names[k % len(names)]
        rec = _CONTAMINATION[variant](item, rng, host)
        b.append(_planted(rec, "benchmark_contamination", variant, item.item_id, len(b)))


def _broken_record(broken: Broken) -> dict[str, Any]:
    return {"text": broken.code, "language": broken.language}


def _planted(
    rec: dict[str, Any], fault: str | None, variant: str, origin: str, k: int
) -> PlantedRecord:
    rec = {"id": rec.pop("id", f"foreign-{k:05d}"), **rec}
    return PlantedRecord(json.dumps(rec, ensure_ascii=False), rec, fault, variant, origin)


def build_foreign_set(per_kind: int, clean: int, seed: int = 0) -> list[PlantedRecord]:
    """``per_kind`` records of each of ``KINDS_PLANTED`` and ``clean`` clean records, shuffled
    (with a fixed seed) into one list."""
    rng = random.Random(seed)
    out: list[PlantedRecord] = []
    _plant_contamination(per_kind, rng, out)
    broken = breakage_set(2 * per_kind, seed=seed)
    for want in ("syntax_error", "truncated"):
        by_language: dict[str, list[Broken]] = {}
        for b in broken:
            if b.expected == want:
                by_language.setdefault(b.language, []).append(b)
        turns = [b for group in zip_longest(*by_language.values()) for b in group if b]
        for b in turns[:per_kind]:  # languages in turn: each gets its share
            how = f"{b.language}: {b.how.split(' (')[0]}"
            out.append(_planted(_broken_record(b), want, how, b.origin, len(out)))
    functions = installed_python_functions(per_kind * len(KINDS) + 3 * clean, rng)
    for k in range(per_kind):
        kind = list(KINDS)[k % len(KINDS)]
        p = plant(kind, functions[k], rng, k)
        rec = {key: v for key, v in p.record.items() if key != "id" or p.where == "id"}
        out.append(_planted(rec, "secret", f"in the {p.where}", kind, len(out)))
    pool = functions[per_kind:]
    keep = distinct(pool, ["python"] * len(pool))[:clean]
    for k in keep:
        out.append(_planted(_code(pool[k]), None, "", "installed package", len(out)))
    order = list(range(len(out)))
    rng.shuffle(order)
    return [out[k] for k in order]
