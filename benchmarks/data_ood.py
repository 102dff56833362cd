"""Out-of-domain flags on a set of Python functions with real foreign records planted in it.

Clean: top-level functions and classes of the installed Python packages (the data-audit
benchmark's corpus). Planted, each from real files found on this machine: other languages'
code (C headers, JavaScript and Perl modules), data (CSV, JSON), prose (licences, package
metadata, READMEs), markup (HTML, XML/SVG), each cut to at most 4,000 characters. Everything is
audited as code records without a declared language, and
the ``out_of_domain`` flag (threshold calibrated on the set: robust z-score above 3.5) is
counted per planted kind and on the clean records.

With ``--model`` (a reference profile or a model folder) the same records are also scored by
their perplexity under that model (mean NLL of the first tokens, high tail by the same robust
z-score), the other way the issue names, side by side.

    python benchmarks/data_ood.py --clean 5000 --per-kind 40 [--model small]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sysconfig
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from tripwire.data import AuditConfig, audit

_DEF = re.compile(r"^(?:@[^\n]*\n)*(?:async\s+def|def|class)\s", re.MULTILINE)
_SOURCES = {
    "c header": ("/usr/include", ("*.h",)),
    "javascript": ("/usr/share", ("*.js",)),
    "perl": ("/usr/share/perl", ("*.pm",)),
    "csv data": ("purelib", ("*.csv", "*.tsv")),
    "json data": ("purelib", ("*.json",)),
    "licence / metadata": ("purelib", ("LICENSE*", "METADATA", "COPYING*")),
    "readme / docs": ("purelib", ("*.md", "*.rst", "README*")),
    "html / xml": ("purelib", ("*.html", "*.xml", "*.svg")),
}


def _stable(p: Path) -> bytes:
    return hashlib.sha256(str(p).encode()).digest()


def foreign(kind: str, n: int) -> list[str]:
    root, globs = _SOURCES[kind]
    base = Path(sysconfig.get_paths()["purelib"] if root == "purelib" else root)
    files = sorted({p for g in globs for p in base.rglob(g) if p.is_file()}, key=_stable)
    out: list[str] = []
    for p in files:
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text.strip()) >= 200:
            out.append(text[:4000])
        if len(out) >= n:
            break
    return out


def clean_functions(n: int) -> list[str]:
    root = Path(sysconfig.get_paths()["purelib"])
    out: list[str] = []
    for file in sorted(root.rglob("*.py"), key=_stable):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        starts = [m.start() for m in _DEF.finditer(text)]
        for a, b in zip(starts, [*starts[1:], len(text)], strict=False):
            chunk = text[a:b].rstrip() + "\n"
            if 200 <= len(chunk) <= 4000:
                out.append(chunk)
                break  # one per file: the clean set spans many packages
        if len(out) >= n:
            break
    return out


def _perplexity_flags(texts: list[str], model: str) -> list[bool]:
    from tripwire.data._fit import AnswerScorer

    path = Path(model)
    if not path.is_dir():
        from tripwire.reference import build_reference

        path = build_reference(model).path
    nll = AnswerScorer(path).nll([""] * len(texts), texts)
    ok = np.isfinite(nll)
    median = float(np.median(nll[ok]))
    mad = float(np.median(np.abs(nll[ok] - median))) * 1.4826
    return (ok & (nll > median + 3.5 * max(mad, 1e-6))).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clean", type=int, default=5000)
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default=None, help="also flag by perplexity under this model")
    args = ap.parse_args()
    items = [("clean", t) for t in clean_functions(args.clean)]
    for kind in _SOURCES:
        items += [(kind, t) for t in foreign(kind, args.per_kind)]
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "set.jsonl"
        data.write_text(
            "".join(json.dumps({"id": k, "text": t}) + "\n" for k, (_, t) in enumerate(items))
        )
        audit([data], config=AuditConfig(workers=args.workers, run_tests=False),
              findings=Path(d) / "f.jsonl")  # fmt: skip
        rows = [json.loads(x) for x in (Path(d) / "f.jsonl").read_text().splitlines()]
    by_ppl = _perplexity_flags([t for _, t in items], args.model) if args.model else None
    total, flagged, removed, ppl = Counter(), Counter(), Counter(), Counter()
    clean_reasons: Counter[str] = Counter()
    for k, ((kind, _), row) in enumerate(zip(items, rows, strict=True)):
        total[kind] += 1
        ppl[kind] += bool(by_ppl is not None and by_ppl[k])
        if kind == "clean":
            clean_reasons.update(row["reasons"])
        flagged[kind] += "out_of_domain" in row.get("flags", {})
        removed[kind] += not row["keep"]
    print(f"{len(items)} records; threshold calibrated on the set (robust z > 3.5)\n")
    head = "| records | n | flagged out_of_domain | share | removed by other checks |"
    print(head + (" flagged by perplexity |" if by_ppl is not None else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if by_ppl is not None else ""))
    for kind in total:
        print(
            f"| {kind} | {total[kind]} | {flagged[kind]} | {flagged[kind] / total[kind]:.1%} "
            f"| {removed[kind]} |" + (f" {ppl[kind]} |" if by_ppl is not None else "")
        )
    planted = [k for k in total if k != "clean"]
    n = sum(total[k] for k in planted)
    f = sum(flagged[k] for k in planted)
    either = sum(
        1
        for (kind, _), row in zip(items, rows, strict=True)
        if kind != "clean" and ("out_of_domain" in row.get("flags", {}) or not row["keep"])
    )
    print(f"\nplanted flagged: {f}/{n} ({f / n:.1%}); flagged or removed: {either}/{n}")
    print(f"clean records' removal reasons: {dict(clean_reasons.most_common())}")


if __name__ == "__main__":
    main()
