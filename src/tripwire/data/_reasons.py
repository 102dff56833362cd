"""Every reason the audit removes a record for and every flag it raises for review: one table.

``REASONS``, ``FLAGS``, ``BLOCKING`` and the report's meanings, the gate's share of broken
records (``QUALITY_REASONS``), which reasons need the sandbox and which leave no code to run
(``NOT_RUNNABLE``: their tests are skipped), and the record checks the audit
runs and their order (``run``; each check class registers itself for its code with
``record_check``, which refuses a code this table does not name) all come from here. Adding a
reason is one row here and, for a per-record reason, its check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    """The reason code findings carry (a contract: tools match on these strings)."""
    meaning: str
    """What the count of records with this code means, in the report and the findings."""
    blocking: bool = False
    """Data that must not ship at all (the gate blocks) rather than be dropped from the copy."""
    quality: bool = False
    """Broken code: counts toward the gate's share of broken training records."""
    flag: bool = False
    """Kept, flagged for review: never removes a record."""
    needs_sandbox: bool = False
    """Found by executing the record's code (skipped with a note where there is no sandbox)."""
    unrunnable: bool = False
    """The record has no code that runs: its tests are not run (they would only repeat it)."""
    run: int | None = None
    """Position of its record check in the order the checks run (None: found by another
    stage: deduplication, the tests, a check that gives several codes, the whole-set passes)."""


TABLE: tuple[Reason, ...] = (
    Reason("syntax_error", "records whose code does not parse", quality=True, unrunnable=True,
           run=6),
    Reason("truncated", "records whose code stops mid-construct", quality=True,
           unrunnable=True, run=5),
    Reason("language_mismatch", "records whose declared language is not the code's",
           quality=True, unrunnable=True, run=4),
    Reason("not_code", "records with prose where code is expected", quality=True,
           unrunnable=True, run=3),
    Reason("failing_tests", "instruction records whose response fails its own tests",
           quality=True, needs_sandbox=True),
    Reason("exact_duplicate", "exact copies of a kept record"),
    Reason("near_duplicate", "near copies of a kept record"),
    Reason("benchmark_contamination", "records containing a benchmark item", blocking=True,
           run=9),
    Reason("secret", "records containing credentials (redacted everywhere)", blocking=True,
           run=2),
    Reason("low_quality", "records of generated, minified or badly formatted code, or too long "
           "to check", run=7),
    Reason("bad_format", "records that break the input schema", unrunnable=True, run=0),
    Reason("source_not_allowed", "records from sources outside the allow list", run=1),
    Reason("insecure_code",
           "records teaching insecure code (injection, unsafe deserialization, ...)", run=8),
    Reason("code_bug", "records with code that cannot work (undefined names, ...)"),
    Reason("lint", "kept, flagged for review: static-analysis findings the policy does not "
           "remove", flag=True),
    Reason("off_topic", "kept, flagged for review: the answer fits its instruction less than "
           "others", flag=True),
    Reason("out_of_domain", "kept, flagged for review: far from the rest of the set", flag=True),
)  # fmt: skip

BY_CODE = {r.code: r for r in TABLE}
REASONS: tuple[str, ...] = tuple(r.code for r in TABLE if not r.flag)
"""Every reason code a finding can carry (a contract: tools match on these strings)."""
FLAGS: tuple[str, ...] = tuple(r.code for r in TABLE if r.flag)
"""Codes that flag a record for review without removing it."""
BLOCKING = frozenset(r.code for r in TABLE if r.blocking)
QUALITY_REASONS: tuple[str, ...] = tuple(r.code for r in TABLE if r.quality)
NOT_RUNNABLE = frozenset(r.code for r in TABLE if r.unrunnable)
MEANINGS = {r.code: r.meaning for r in TABLE}
CHECK_ORDER: tuple[str, ...] = tuple(
    r.code for r in sorted((r for r in TABLE if r.run is not None), key=lambda r: r.run or 0)
)
"""The codes of the record checks, in the order the checks run."""
