"""Repair quality of `tripwire tokens repair` on the `small` reference model.

For each fault: held-out bits/byte of the baseline, of the broken candidate and of the repaired
one, and the audit verdict before and after repair. Targets: an ids-remapped candidate repairs
to within 1% of the baseline, an added-tokens candidate to within 5%.

    TRIPWIRE_CACHE=/tmp/twcache python benchmarks/tokens_repair.py [--profile small] [--work DIR]

Held-out loss runs the whole held-out split per model: several minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from tripwire.demo.tokens_stage import heldout_bits_per_byte
from tripwire.faults import Fault, add_tokens, frequent_tokens, reassign_ids
from tripwire.reference import build_reference
from tripwire.tokens import audit, repair

ADDED = ("    return ", "self.", "    def ", "#include <", "my $", "function ", 'echo "', "    if ")


def faults(base: Path, work: Path) -> list[tuple[Fault, float]]:
    """(candidate, target relative loss after repair)."""
    return [
        (
            reassign_ids(base, work / "remapped", frequent_tokens(base, 100), name="ids_remapped"),
            0.01,
        ),
        (
            add_tokens(base, work / "added", ADDED, "random", std=1.0, name="added_random_std1"),
            0.05,
        ),
        (
            add_tokens(base, work / "added_hf", ADDED, "random", name="added_random_init_range"),
            0.05,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small")
    parser.add_argument("--work", type=Path, default=None, help="Keep candidates here.")
    args = parser.parse_args()
    t0 = time.perf_counter()
    base = build_reference(args.profile).path
    work = args.work or Path(tempfile.mkdtemp(prefix="tw-tokens-repair-"))
    try:
        base_loss = heldout_bits_per_byte(base, base)
        rows = []
        for fault, target in faults(base, work):
            fixed = repair(base, fault.path, work / f"{fault.name}-repaired")
            broken_loss = heldout_bits_per_byte(fault.path, base)
            fixed_loss = heldout_bits_per_byte(fixed.path, base)
            rows.append(
                (
                    fault.name,
                    str(audit(base, fault.path).verdict),
                    broken_loss / base_loss - 1,
                    str(audit(base, fixed.path).verdict),
                    fixed_loss / base_loss - 1,
                    target,
                )
            )
        print(
            f"\nreference-{args.profile}: baseline held-out {base_loss:.4f} bits/byte "
            f"({time.perf_counter() - t0:.0f} s)\n"
        )
        header = (
            "candidate",
            "audit",
            "broken vs base",
            "audit after",
            "repaired vs base",
            "target",
            "met",
        )
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for name, v0, broken, v1, fixed, target in rows:
            met = abs(fixed) <= target
            print(
                f"| {name} | {v0} | {broken:+.2%} | {v1} | {fixed:+.2%} | "
                f"within {target:.0%} | {'yes' if met else 'NO'} |"
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
