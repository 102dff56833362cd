"""The data audit's static analysis on planted hazards and on real clean code.

Planted: ``tripwire.faults.planted_hazards``: small programs in Python, JavaScript, Go, Java,
Rust, C and shell with one known hazard each (SQL, shell and eval injection, unsafe
deserialization, undefined names, weak password hashes, TLS verification off, gets/strcpy,
needless ``unsafe``), written in four styles (direct, renamed, split across statements, through
a helper's parameter), each beside a safe twin doing the same job the accepted way. They are
audited as instruction records, the shape a fine-tuning set has.

Clean: real code no one here wrote: every file of the reference corpus (Python, JavaScript,
C, Perl, shell found on this machine) and whole ``.py`` files of the installed packages,
audited as code records. Reports the share removed by ``insecure_code``/``code_bug`` and by
any reason, and the rules behind the removals.

    python benchmarks/data_hazards.py --packages 3000

The templates and the rules were written by the same people, which favours the rules: the
clean real code is the check on precision that they did not write.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sysconfig
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from tripwire.data import AuditConfig, audit
from tripwire.faults import planted_hazards

STATIC = ("insecure_code", "code_bug")
_ASK = {
    "python": "Python",
    "javascript": "JavaScript",
    "go": "Go",
    "java": "Java",
    "rust": "Rust",
    "c": "C",
    "shell": "a shell script",
}


def _audit(lines: list[str], workers: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "set.jsonl"
        data.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        config = AuditConfig(workers=workers, run_tests=False)
        audit([data], config=config, findings=Path(d) / "findings.jsonl")
        return [json.loads(x) for x in (Path(d) / "findings.jsonl").read_text().splitlines()]


def planted_table(seeds: list[int], workers: int) -> None:
    seen: set[tuple[str, str]] = set()
    items = []
    for s in seeds:  # the seeds draw other names; keep each program once
        for p in planted_hazards(s):
            if (p.kind, p.code) not in seen:
                seen.add((p.kind, p.code))
                items.append(p)
    lines = [
        json.dumps(
            {
                "id": f"{k}",
                "prompt": f"Write it in {_ASK[p.language]}.",
                "response": f"```{p.language}\n{p.code}```",
            }
        )
        for k, p in enumerate(items)
    ]
    rows = _audit(lines, workers)
    total, found = Counter(), Counter()
    by_style, by_style_found = Counter(), Counter()
    langs: dict[str, set[str]] = defaultdict(set)
    twins = twin_removed = 0
    missed = []
    for p, row in zip(items, rows, strict=True):
        hit = bool(set(STATIC) & set(row["reasons"]))
        if p.kind == "clean":
            twins += 1
            twin_removed += hit
            if hit:
                missed.append(("twin removed", p.language, p.hazard, p.style, row["reasons"]))
            continue
        total[p.kind] += 1
        found[p.kind] += hit
        by_style[p.style] += 1
        by_style_found[p.style] += hit
        langs[p.kind].add(p.language)
        if not hit:
            missed.append(("missed", p.language, p.hazard, p.style, row["reasons"]))
    print(f"planted: {sum(total.values())} hazards, {twins} safe twins, seeds {seeds}\n")
    print("| kind | languages | planted | removed | recall |")
    print("|---|---|---:|---:|---:|")
    for kind in sorted(total):
        print(
            f"| {kind} | {', '.join(sorted(langs[kind]))} | {total[kind]} | {found[kind]} "
            f"| {found[kind] / total[kind]:.1%} |"
        )
    print("\n| style | planted | removed | recall |\n|---|---:|---:|---:|")
    for style in sorted(by_style):
        print(
            f"| {style} | {by_style[style]} | {by_style_found[style]} "
            f"| {by_style_found[style] / by_style[style]:.1%} |"
        )
    print(f"\nsafe twins removed by static analysis: {twin_removed} of {twins}")
    for m in missed[:20]:
        print("  ", m)


def _package_files(n: int) -> list[Path]:
    root = Path(sysconfig.get_paths()["purelib"])
    files = [p for p in root.rglob("*.py") if "tripwire" not in p.parts]
    files.sort(key=lambda p: hashlib.sha256(str(p).encode()).digest())
    return files[:n]


def clean_table(packages: int, workers: int) -> None:
    from tripwire.reference import build_reference, load_reference_corpus

    model = build_reference("tiny").path
    records: list[tuple[str, str]] = []
    for split in ("train", "heldout"):
        for lang, files in load_reference_corpus(model, split).items():
            records += [(f"reference {lang}", f.text) for f in files]
    for path in _package_files(packages):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.strip():
            records.append(("installed packages python", text))
    lines = [
        json.dumps({"id": k, "text": text, "language": origin.rsplit(" ", 1)[-1]})
        for k, (origin, text) in enumerate(records)
    ]
    rows = _audit(lines, workers)
    n, static, other = Counter(), Counter(), Counter()
    rules: Counter[str] = Counter()
    lint = Counter()
    for (origin, _), row in zip(records, rows, strict=True):
        n[origin] += 1
        reasons = set(row["reasons"])
        if reasons & set(STATIC):
            static[origin] += 1
            for r in STATIC:
                for rule in row["details"].get(r, {}).get("rules", {}):
                    rules[rule] += 1
        if reasons:
            other[origin] += 1
        lint[origin] += "lint" in row.get("flags", {})
    print(f"\nclean real code: {sum(n.values())} files\n")
    print(
        "| source | files | removed by static analysis | share | removed (any reason) "
        "| flagged lint |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for origin in sorted(n):
        print(
            f"| {origin} | {n[origin]} | {static[origin]} | {static[origin] / n[origin]:.2%} "
            f"| {other[origin]} | {lint[origin]} |"
        )
    s, t = sum(static.values()), sum(n.values())
    print(f"| all | {t} | {s} | {s / t:.2%} | {sum(other.values())} | {sum(lint.values())} |")
    print(f"\nrules behind the removals: {dict(rules.most_common(15))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="name draws of the planted set")
    ap.add_argument("--packages", type=int, default=3000, help="installed .py files")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    planted_table(list(range(args.seeds)), args.workers)
    clean_table(args.packages, args.workers)


if __name__ == "__main__":
    main()
