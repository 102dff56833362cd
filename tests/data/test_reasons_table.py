"""The reasons table is the one place a reason is declared: everything else derives from it."""

from __future__ import annotations

import pytest

from tripwire.data import BLOCKING, FLAGS, QUALITY_REASONS, REASONS, AuditConfig
from tripwire.data._map import build_checks
from tripwire.data._reasons import BY_CODE, CHECK_ORDER, MEANINGS, NOT_RUNNABLE, TABLE
from tripwire.data.checks import RecordCheck, record_check, registered_checks


def test_every_reason_and_flag_is_one_row_and_the_lists_derive_from_it() -> None:
    assert len(BY_CODE) == len(TABLE)  # no code twice
    assert set(REASONS) | set(FLAGS) == set(BY_CODE) and not set(REASONS) & set(FLAGS)
    assert {"benchmark_contamination", "secret"} == BLOCKING
    assert set(QUALITY_REASONS) <= set(REASONS) and set(REASONS) >= NOT_RUNNABLE
    assert all(MEANINGS[c] for c in BY_CODE)


def test_the_audit_runs_one_registered_check_per_row_in_the_tables_order() -> None:
    checks = build_checks(AuditConfig())
    assert [c.code for c in checks] == list(CHECK_ORDER)
    assert set(registered_checks()) == set(CHECK_ORDER)
    # what a check emits besides its own code is a row too
    assert all(code in BY_CODE for c in checks for code in c.emits)


def test_a_check_for_a_code_the_table_does_not_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no run position"):

        @record_check("made_up_reason")
        class MadeUp(RecordCheck):  # pragma: no cover - refused at definition
            def check(self, ctx):  # type: ignore[no-untyped-def]
                return None
