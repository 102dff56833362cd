"""Reading documents people hand in (a gate --json, a findings file): a value of the wrong
kind names its field instead of being misread or crashing."""

from __future__ import annotations

import pytest

from tripwire.documents import Fields
from tripwire.errors import BadInputError
from tripwire.findings import Finding


def test_a_flag_written_as_a_string_is_refused_not_read_as_true():
    f = Fields.of({"cached": "false", "ok": False}, "gate.json")
    assert f.flag("ok", True) is False and f.flag("missing", True) is True
    with pytest.raises(BadInputError, match=r"gate.json: cached must be true or false"):
        f.flag("cached")


def test_a_number_no_float_holds_names_its_field():
    f = Fields.of({"delta": 10**400, "text": "n/a"}, "gate.json")
    assert f.number("text") != f.number("text")  # shown numbers that are not numbers: NaN
    with pytest.raises(BadInputError, match="delta is a number too large to read"):
        f.number("delta")


@pytest.mark.parametrize("ids", [["a"], [1.5], [True], [float("inf")], [{}], [None]])
def test_a_finding_with_bad_token_ids_names_them(ids):
    doc = {"code": "tokens.rows_remapped", "severity": "block", "token_ids": [3, *ids]}
    with pytest.raises(BadInputError, match=r"findings: token_ids\[1\] must be a whole number"):
        Finding.from_dict(doc)
    assert Finding.from_dict({**doc, "token_ids": [3, 4]}).token_ids == (3, 4)
