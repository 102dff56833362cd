"""One planter per fault: each takes unused clean code and adds ``n`` faulty records."""

from __future__ import annotations

import builtins
import json
import re
import symtable
from collections.abc import Callable, Iterator

from tripwire.data import ContaminationIndex, analyse, load_benchmark
from tripwire.faults import _plant as plant
from tripwire.faults._base import COMMENT, Base, Builder, Take
from tripwire.faults._hazards import planted_hazards
from tripwire.faults._prose import prose_paragraphs

Planter = Callable[[Builder, Take, int], int]
_OTHER_LANGUAGE = {
    "python": "javascript",
    "javascript": "python",
    "c": "python",
    "perl": "python",
    "shell": "javascript",
}


def _as_record(b: Builder, base: Base, code: str, k: int) -> dict:
    """Alternate code-file and instruction records, so both shapes carry every fault."""
    return b.code_record(code, base.language) if k % 2 == 0 else b.instruction(base, code)


def _one_at_a_time(take: Take, pred: Callable[[Base], bool], n: int) -> Iterator[Base]:
    """Fresh bases until the caller has made ``n`` records or the pool runs out."""
    for _ in range(n * 3):
        got = take(pred, 1)
        if not got:
            return
        yield got[0]


def syntax_error(b: Builder, take: Take, n: int) -> int:
    made = 0
    for base in _one_at_a_time(take, lambda x: x.code.count("\n") >= 4, n):
        if made >= n:
            break
        broken = plant.break_syntax(base.code, base.language, b.rng)
        if broken is None or _still_valid(broken[0], base.language):
            continue
        b.add(_as_record(b, base, broken[0], made), "syntax_error", broken[1], base.origin)
        made += 1
    return made


# The languages whose own parser decides what a syntax error is (compile(), bash -n): a deletion
# it still accepts (a colon inside a docstring, a brace in a here-document) planted no fault.
_OWN_PARSER = ("python", "shell")


def _still_valid(code: str, language: str) -> bool:
    return language in _OWN_PARSER and analyse(code, language).ok


def truncated(b: Builder, take: Take, n: int) -> int:
    made = 0
    for base in _one_at_a_time(take, lambda x: len(x.code) >= 200, n):
        if made >= n:
            break
        cut = plant.truncate(base.code, b.rng)
        if cut is None:
            continue
        if made % 2 == 0:
            rec = b.code_record(cut, base.language)
        else:
            rec = b.instruction(base, cut, closed=False)
        b.add(rec, "truncated", "cut mid-line", base.origin)
        made += 1
    return made


def language_mismatch(b: Builder, take: Take, n: int) -> int:
    bases = take(lambda x: x.code.count("\n") >= 8, n)
    for k, base in enumerate(bases):
        wrong = _OTHER_LANGUAGE[base.language]
        if k % 2 == 0:
            rec = b.code_record(base.code, wrong)
            variant = f"language field says {wrong}"
        else:
            rec = b.instruction(base, base.code, tag=wrong)
            variant = f"code fence says {wrong}"
        b.add(rec, "language_mismatch", variant, base.origin)
    return len(bases)


def not_code(b: Builder, take: Take, n: int) -> int:
    paragraphs = list(prose_paragraphs())
    if not paragraphs:
        return 0
    for k in range(n):
        text = paragraphs[k % len(paragraphs)] + "\n\n" + paragraphs[(3 * k + 1) % len(paragraphs)]
        if k % 2 == 0:
            rec = b.code_record(text + "\n", "python")
            variant = "prose as a code file"
        else:
            rec = {
                "id": b.next_id(),
                "prompt": "Write a Python function that parses the input.",
                "response": text,
                "source": "corpus:reference",
            }
            variant = "prose answer without code"
        b.add(rec, "not_code", variant, "stdlib docstrings")
    return n


def benchmark_contamination(b: Builder, take: Take, n: int) -> int:
    index = ContaminationIndex(load_benchmark("humaneval"))
    items = index.items  # one-line items are too generic to attribute and are not indexed
    picked = b.rng.sample(items, min(n, len(items)))
    hosts = take(lambda x: x.language == "python" and x.code.count("\n") >= 30, n)
    variants = (
        "verbatim",
        "inside a larger file",
        "restyled",
        "renamed identifiers",
        "instruction pair",
    )
    made = 0
    for k, item in enumerate(picked):
        variant = variants[k % len(variants)]
        code = item.text
        if variant == "inside a larger file":
            if not hosts:
                variant = "verbatim"
            else:
                host = hosts.pop().code
                lines = host.splitlines(keepends=True)
                at = next(
                    (
                        i
                        for i in range(len(lines) // 2, len(lines))
                        if lines[i].startswith(("def ", "class "))
                    ),
                    len(lines),
                )
                code = "".join(lines[:at]) + "\n" + item.text + "\n\n" + "".join(lines[at:])
        elif variant == "restyled":
            code = plant.restyle(item.text, b.rng)
        elif variant == "renamed identifiers":
            code = plant.rename_identifiers(item.text, b.rng)
        if variant == "instruction pair":
            prompt = item.prompt
            solution = item.text[len(prompt) :]
            rec = {
                "id": b.next_id(),
                "prompt": prompt,
                "response": f"```python\n{solution.rstrip()}\n```\n",
                "language": "python",
                "source": "corpus:reference",
            }
        else:
            rec = b.code_record(code, "python")
        b.add(rec, "benchmark_contamination", variant, f"{item.benchmark}/{item.item_id}")
        made += 1
    return made


def secret(b: Builder, take: Take, n: int) -> int:
    bases = take(lambda x: True, n)
    for k, base in enumerate(bases):
        kind, line = plant.fake_secret(b.rng)
        code = plant.insert_line(base.code, plant.adapt_secret_line(line, base.language), b.rng)
        b.add(_as_record(b, base, code, k), "secret", kind, base.origin)
    return len(bases)


def low_quality(b: Builder, take: Take, n: int) -> int:
    made = 0
    kinds = ("minified", "autogenerated", "low alphanumeric", "long lines", "lint")
    for k in range(n):
        kind = kinds[k % len(kinds)]
        got = []
        if kind == "minified":
            got = take(lambda x: x.language in ("javascript", "c") and len(x.code) >= 800, 1)
            kind = kind if got else "long lines"  # only brace languages survive minifying
        if got:
            pass
        elif kind == "low alphanumeric":
            got = take(lambda x: 200 <= len(x.code) <= 1500, 1)
        elif kind == "lint":
            got = take(lambda x: x.code.count("\n") >= 12, 1)
        else:
            got = take(lambda x: True, 1)
        if not got:
            continue
        base = got[0]
        if kind == "minified":
            code = plant.minify(base.code, base.language)
        elif kind == "autogenerated":
            code = plant.autogenerated(base.code, COMMENT[base.language])
        elif kind == "low alphanumeric":
            code = plant.low_alphanumeric(base.code, b.rng)
        elif kind == "long lines":
            code = plant.long_lines(base.code, b.rng, base.language)
        else:
            code = plant.lint_noise(base.code, b.rng)
        b.add(b.code_record(code, base.language), "low_quality", kind, base.origin)
        made += 1
    return made


def bad_format(b: Builder, take: Take, n: int) -> int:
    bases = take(lambda x: True, n)
    for k, base in enumerate(bases):
        kind = k % 6
        rid = b.next_id()
        if kind == 0:
            line = json.dumps({"id": rid, "text": base.code, "language": base.language})
            b.add(line[: len(line) // 2], "bad_format", "malformed JSON", base.origin)
            continue
        rec: dict | list
        variant, rec = {
            1: ("no code field", {"id": rid, "content": base.code, "language": base.language}),
            2: ("empty response", {"id": rid, "prompt": f"Write `{base.name}`.", "response": "  "}),
            3: (
                "chat without an assistant turn",
                {
                    "id": rid,
                    "messages": [
                        {"role": "user", "content": "Write it."},
                        {"role": "user", "content": base.code},
                    ],
                },
            ),
            4: (
                "text is not a string",
                {"id": rid, "text": base.code.splitlines()[:3], "language": base.language},
            ),
            5: ("record is not an object", [rid, base.code]),
        }[kind]
        b.add(rec if isinstance(rec, dict) else json.dumps(rec), "bad_format", variant, base.origin)
    return len(bases)


def source_not_allowed(b: Builder, take: Take, n: int) -> int:
    bases = take(lambda x: True, n)
    for base in bases:
        rec = b.code_record(base.code, base.language, source="scraped:pastebin")
        b.add(rec, "source_not_allowed", "scraped source", base.origin)
    return len(bases)


_TOP_IMPORT = re.compile(r"^(?:import|from)\s", re.MULTILINE)


def _with_hazard(b: Builder, take: Take, n: int, fault: str, kinds: frozenset[str]) -> int:
    """Real code with a small program carrying one hazard appended (``_hazard_corpus``). An
    undefined name must be undefined in the whole program by CPython's own symbol table; code
    without an import of its own is a snippet (``checks._static``), so it gets a misspelt name
    and goes out as an answer."""
    hazards = [p for p in planted_hazards(b.rng.randrange(1 << 16)) if p.kind in kinds]
    langs = {p.language for p in hazards}
    made = 0

    # a module that star-imports or catches NameError has names no analyser can rule out
    def usable(x: Base) -> bool:
        return x.language in langs and "import *" not in x.code and "NameError" not in x.code

    for base in _one_at_a_time(take, usable, n):
        if made >= n:
            break
        module = base.language != "python" or bool(_TOP_IMPORT.search(base.code))
        options = [
            p
            for p in hazards
            if p.language == base.language and (module or not _TOP_IMPORT.search(p.code))
        ]
        h = b.rng.choice(options)
        code = base.code.rstrip("\n") + "\n\n\n" + h.code
        if h.kind == "undefined_name" and not undefined_names(code) - undefined_names(base.code):
            continue
        record = _as_record(b, base, code, made) if module else b.instruction(base, code)
        b.add(record, fault, f"{h.hazard} {h.style}", base.origin)
        made += 1
    return made


def undefined_names(code: str) -> set[str]:
    """Global names some scope of ``code`` reads that no statement of it binds and that are
    not builtins, by ``symtable`` (empty when the module writes its own namespace)."""
    try:
        top = symtable.symtable(code, "<planted>", "exec")
    except (SyntaxError, ValueError):
        return set()
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()
    todo = [top]
    while todo:
        t = todo.pop()
        read |= {s.get_name() for s in t.get_symbols() if s.is_global() and s.is_referenced()}
        todo += t.get_children()
    read |= {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    return read - bound - set(dir(builtins)) - {"__file__", "__name__", "__doc__"}


def insecure_code(b: Builder, take: Take, n: int) -> int:
    kinds = frozenset({"injection", "deserialization", "weak_hash", "tls", "memory", "unsafe"})
    return _with_hazard(b, take, n, "insecure_code", kinds)


def code_bug(b: Builder, take: Take, n: int) -> int:
    return _with_hazard(b, take, n, "code_bug", frozenset({"undefined_name"}))


PLANTERS: dict[str, Planter] = {
    "syntax_error": syntax_error,
    "truncated": truncated,
    "language_mismatch": language_mismatch,
    "not_code": not_code,
    "benchmark_contamination": benchmark_contamination,
    "secret": secret,
    "low_quality": low_quality,
    "bad_format": bad_format,
    "source_not_allowed": source_not_allowed,
    "insecure_code": insecure_code,
    "code_bug": code_bug,
}
"""Faults planted on fresh clean code (tests and duplicates are planted by ``_faults``)."""
