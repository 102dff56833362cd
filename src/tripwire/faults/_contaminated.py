"""A contaminated fine-tuning set built from real code, with every planted fault labelled.

Tests measure the audit's recall per reason and its false removals on it, the demo shows it,
and later stages train on it (``.records``) and on what the audit keeps. Clean records are real
functions and files of the reference corpus, made distinct first (no two above Jaccard 0.5 on
code shingles), so any duplicate the audit reports among them would be a false positive.
"""

from __future__ import annotations

import json
import random
import re
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.data import REASONS
from tripwire.faults import _plant as plant
from tripwire.faults._base import COMMENT, Base, Builder, PlantedRecord, Take
from tripwire.faults._distinct import distinct
from tripwire.faults._planters import PLANTERS
from tripwire.faults._testable import TestableFunction, cached_testable_functions, mutants

if TYPE_CHECKING:  # the reference package imports torch; the audit workers must not
    from tripwire.reference import SourceFile

FAULT_KINDS: tuple[str, ...] = REASONS
"""Each fault is planted so that the audit should report the reason code of the same name."""
ALLOWED_SOURCES = ("corpus:*", "stdlib:*")
NEAR_COPY_JACCARD = 0.9
"""Planted near duplicates share at least this much of their shingles with the original."""


@dataclass
class ContaminatedSet:
    items: list[PlantedRecord] = field(default_factory=list)
    allow_sources: tuple[str, ...] = ALLOWED_SOURCES
    """The ``--allow-source`` patterns under which ``source_not_allowed`` faults are faults."""
    shortfalls: dict[str, int] = field(default_factory=dict)
    """Faults planted fewer times than asked (the corpus offered too few places)."""

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record that is valid JSON (what a trainer would read)."""
        return [i.record for i in self.items if i.record is not None]

    @property
    def bad(self) -> list[bool]:
        """Per item, in order: does it carry a planted fault."""
        return [i.fault is not None for i in self.items]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.items:
            key = i.fault or "clean"
            out[key] = out.get(key, 0) + 1
        return out

    def write_jsonl(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(i.line + "\n" for i in self.items), encoding="utf-8")
        return path


def _clean_pool(corpus: dict[str, list[SourceFile]], rng: random.Random) -> list[Base]:
    pool: list[Base] = []
    for lang, files in sorted(corpus.items()):
        if lang not in COMMENT:
            continue
        for f in files:
            head = "\n".join(f.text.splitlines()[:12]).lower()
            if "generated" in head or "do not edit" in head:
                continue  # generated files are what low_quality is for, not clean examples
            for d in plant.top_level_definitions(f.text, lang):
                if 3 <= d.count("\n") <= 150 and 120 <= len(d) <= 8000:
                    name = re.search(r"(?:def|function|sub|class)\s+(\w+)|(\w+)\s*\(", d)
                    label = (name.group(1) or name.group(2)) if name else "it"
                    pool.append(Base(lang, d, f.key, label))
            if len(f.text) <= 12000:
                pool.append(Base(lang, f.text, f.key, f.path.name))
    rng.shuffle(pool)
    return pool


def _stdlib_pool(rng: random.Random) -> list[Base]:
    """Functions of the Python standard library: more real clean code when a corpus is small."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py") if not p.name.startswith(("test", "_")))
    pool = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        from tripwire.reference import SourceFile

        sf = SourceFile("python", path, text)
        pool += _clean_pool({"python": [sf]}, rng)
    rng.shuffle(pool)
    return pool


def build_contaminated_set(
    corpus: dict[str, list[SourceFile]],
    *,
    clean: int = 400,
    per_fault: int = 40,
    seed: int = 0,
    verify_tests: bool = True,
) -> ContaminatedSet:
    """Real code with ``per_fault`` planted examples of every fault in ``FAULT_KINDS``.

    ``corpus`` is ``load_reference_corpus(...)``'s shape. ``verify_tests`` runs functions and
    their mutants in the sandbox so each ``failing_tests`` record really fails and each clean
    record with tests really passes. Duplicates come after the record they copy (the audit
    keeps the first of a cluster).
    """
    b = Builder(seed)
    pool = _clean_pool(corpus, b.rng)
    needed = clean + per_fault * (len(PLANTERS) + 2)
    if len(pool) < needed:
        pool += _stdlib_pool(b.rng)
    keep = distinct([x.code for x in pool], [x.language for x in pool])
    pool = [pool[i] for i in keep]
    out = ContaminatedSet()
    take = _taker(pool)
    clean_bases = take(lambda x: True, clean)
    for base in clean_bases:
        roll = b.rng.random()
        rec = (
            b.code_record(base.code, base.language)
            if roll < 0.7
            else b.instruction(base, base.code)
            if roll < 0.9
            else b.chat(base)
        )
        b.add(rec, None, "clean", base.origin)
    _plant_tests(b, per_fault, verify_tests, out)
    for fault, planter in PLANTERS.items():
        made = planter(b, take, per_fault)
        if made < per_fault:
            out.shortfalls[fault] = per_fault - made
    order = list(b.items)
    b.rng.shuffle(order)
    clean_items = [i for i in order if i.fault is None and i.record and "tests" not in i.record]
    for fault, make in (("exact_duplicate", _exact_copy), ("near_duplicate", _near_copy)):
        made = 0
        for original in b.rng.sample(clean_items, len(clean_items)):
            if made >= per_fault:
                break
            copy = make(b, original)
            if copy is None:
                continue
            at = order.index(original)
            order.insert(b.rng.randint(at + 1, len(order)), copy)
            made += 1
        if made < per_fault:
            out.shortfalls[fault] = per_fault - made
    out.items = order
    return out


def _taker(pool: list[Base]) -> Take:
    used: set[int] = set()

    def take(pred: Callable[[Base], bool], n: int) -> list[Base]:
        got = []
        for i, base in enumerate(pool):
            if len(got) >= n:
                break
            if i not in used and pred(base):
                used.add(i)
                got.append(base)
        return got

    return take


def _exact_copy(b: Builder, original: PlantedRecord) -> PlantedRecord | None:
    rec = dict(original.record or {})
    rec["id"] = b.next_id()
    item = PlantedRecord(
        json.dumps(rec, ensure_ascii=False),
        rec,
        "exact_duplicate",
        "copy",
        str(original.record and original.record.get("id")),
    )
    return item


def _near_copy(b: Builder, original: PlantedRecord) -> PlantedRecord | None:
    rec = dict(original.record or {})
    if not isinstance(rec.get("text"), str) or len(rec["text"]) < 1500:
        return None  # short code cannot take an edit and stay above the similarity threshold
    lang = rec.get("language", "python")
    rec["text"] = plant.near_copy(rec["text"], b.rng, COMMENT.get(lang, "#"))
    if plant.shingle_jaccard(rec["text"], original.record["text"], lang) < NEAR_COPY_JACCARD:
        return None  # the edit landed where it changes too much: not a near copy any more
    rec["id"] = b.next_id()
    return PlantedRecord(
        json.dumps(rec, ensure_ascii=False),
        rec,
        "near_duplicate",
        "edited copy",
        str(original.record and original.record.get("id")),
    )


def _plant_tests(b: Builder, per_fault: int, verify: bool, out: ContaminatedSet) -> None:
    functions = cached_testable_functions()
    keep = distinct([f.source for f in functions], ["python"] * len(functions))
    functions = [functions[i] for i in keep]
    b.rng.shuffle(functions)
    n_clean = min(len(functions) // 4, 20)
    chosen_clean, candidates = functions[:n_clean], functions[n_clean:]
    pairs = [(f, mutants(f.source, b.rng)) for f in candidates]
    verdicts = _verify(chosen_clean, pairs) if verify else None
    for k, f in enumerate(chosen_clean):
        if verdicts is None or verdicts["clean"][k]:
            b.add(
                _test_record(b, f, f.source),
                None,
                "clean with tests",
                f"stdlib:{f.module}.{f.name}",
            )
    made = 0
    for k, (f, muts) in enumerate(pairs):
        if made >= per_fault:
            break
        bad = verdicts["mutant"][k] if verdicts is not None else (muts[0] if muts else None)
        if bad is None:
            continue
        b.add(
            _test_record(b, f, bad),
            "failing_tests",
            "one operator changed",
            f"stdlib:{f.module}.{f.name}",
        )
        made += 1
    if made < per_fault:
        out.shortfalls["failing_tests"] = per_fault - made


def _test_record(b: Builder, f: TestableFunction, code: str) -> dict[str, Any]:
    base = Base("python", code, f.module, f.name)
    rec = b.instruction(base, code, tests=f.tests)
    rec["prompt"] = f"Write a Python function `{f.name}`." + (f" {f.doc}" if f.doc else "")
    rec["source"] = f"stdlib:{f.module}"
    return rec


def _verify(
    clean: list[TestableFunction], pairs: list[tuple[TestableFunction, list[str]]]
) -> dict[str, list[Any]]:
    """Which clean functions pass their tests, and per candidate the first mutant that fails."""
    from tripwire.sandbox import Limits, Sandbox

    jobs = [(f.source, f.tests) for f in clean]
    jobs += [(f.source, f.tests) for f, _ in pairs]
    jobs += [(m, f.tests) for f, muts in pairs for m in muts]
    with Sandbox(limits=Limits(wall_s=1, cpu_s=1)) as box:
        results = box.run_many(jobs)
    clean_ok = [r.passed for r in results[: len(clean)]]
    originals = results[len(clean) : len(clean) + len(pairs)]
    rest = iter(results[len(clean) + len(pairs) :])
    mutant: list[str | None] = []
    for (_f, muts), orig in zip(pairs, originals, strict=True):
        verdicts = [next(rest) for _ in muts]
        failing = [
            m for m, r in zip(muts, verdicts, strict=True) if r.verdict in ("failed", "timeout")
        ]
        mutant.append(failing[0] if orig.passed and failing else None)
    return {"clean": clean_ok, "mutant": mutant}
