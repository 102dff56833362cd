"""The whole data audit on a planted set no one here wrote: per-kind recall and clean records
wrongly removed.

The set (``tripwire.faults.build_foreign_set``) is real code of the installed PyPI packages: clean
functions (no two near copies), HumanEval copies disguised with ``ast``/``tokenize`` (renamed,
2-space re-indented, docstring removed or turned into comments, prompt only, first 60% of the
lines, chat and instruction shapes, inside a package's file; half of them the shortest items),
syntax errors in the middle of functions (Python, JavaScript, C, shell) with complete code
after them, cuts inside open constructs, and secrets in every place a record holds a string.

    python benchmarks/data_planted.py --per-kind 80 --clean 1000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from tripwire.data import AuditConfig, audit
from tripwire.faults import KINDS_PLANTED, build_foreign_set


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-kind", type=int, default=80)
    ap.add_argument("--clean", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tests", action="store_true", help="run records' tests in the sandbox")
    args = ap.parse_args()
    t0 = time.perf_counter()
    planted = build_foreign_set(args.per_kind, args.clean, args.seed)
    built = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "set.jsonl"
        data.write_text("".join(p.line + "\n" for p in planted), encoding="utf-8")
        config = AuditConfig(workers=args.workers, run_tests=args.tests)
        result, _ = audit([data], config=config, findings=Path(d) / "findings.jsonl")
        rows = [json.loads(x) for x in (Path(d) / "findings.jsonl").read_text().splitlines()]
    print(f"{len(planted)} records built in {built:.0f} s, audited in {result.seconds:.1f} s\n")

    total, found, confused = Counter(), Counter(), defaultdict(Counter)
    variants: dict[str, Counter[str]] = defaultdict(Counter)
    variant_found: dict[str, Counter[str]] = defaultdict(Counter)
    removed: list[tuple[str, list[str]]] = []
    clean = 0
    for p, row in zip(planted, rows, strict=True):
        if p.fault is None:
            clean += 1
            if not row["keep"]:
                removed.append((p.origin, row["reasons"]))
            continue
        total[p.fault] += 1
        variants[p.fault][p.variant] += 1
        hit = p.fault in row["reasons"]
        found[p.fault] += hit
        if hit:
            variant_found[p.fault][p.variant] += 1
        for reason in row["reasons"]:
            if reason != p.fault:
                confused[p.fault][reason] += 1

    print("| planted | records | recall | other reasons given to them |")
    print("|---|---:|---:|---|")
    for kind in KINDS_PLANTED:
        other = ", ".join(f"{r} {n}" for r, n in confused[kind].most_common()) or "-"
        print(f"| {kind} | {total[kind]} | {found[kind] / max(1, total[kind]):.1%} | {other} |")
    print(
        f"| clean | {clean} | removed: {len(removed)} ({len(removed) / max(1, clean):.2%}) | "
        f"{dict(Counter(r for _, rs in removed for r in rs))} |"
    )

    print("\n| planted | how | records | recall |")
    print("|---|---|---:|---:|")
    for kind in KINDS_PLANTED:
        for variant, n in sorted(variants[kind].items()):
            print(f"| {kind} | {variant} | {n} | {variant_found[kind][variant] / n:.1%} |")
    if removed:
        print(f"\nclean records removed (first 10): {removed[:10]}")


if __name__ == "__main__":
    main()
