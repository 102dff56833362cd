"""Policy files: parsed, validated with one-line errors, hashed for the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.errors import BadInputError
from tripwire.gate import Policy
from tripwire.stats import Margin


def test_toml_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "gate.toml"
    f.write_text(
        'alpha = 0.01\ncorrection = "bh"\nwarn = ["data.near_duplicate"]\n'
        "data_max_bad_fraction = 0.1\n"
        '[[suites]]\nname = "retention"\nmax_per_language = 20\n'
        'margins = { bits_per_byte = "2%" }\n'
        'slice_margins = { "bits_per_byte@language=c" = "0.05" }\n'
    )
    p = Policy.from_toml(f)
    assert p.alpha == 0.01 and p.correction == "bh" and p.data_max_bad_fraction == 0.1
    assert p.warn == frozenset({"data.near_duplicate"})
    (suite,) = p.suites
    assert suite.options == {"max_per_language": 20}
    per_metric, per_slice = suite.margin_objects()
    assert per_metric == {"bits_per_byte": Margin(0.02, relative=True)}
    assert per_slice == {("bits_per_byte", "language=c"): Margin(0.05)}
    assert p.sha256() != Policy().sha256()
    assert Policy.from_toml(f).sha256() == p.sha256()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("alpha = [", "not valid TOML"),
        ("colour = 1", "unknown policy keys: colour"),
        ("alpha = 2", "alpha must be between 0 and 1"),
        ('correction = "magic"', "correction must be holm, bh or none"),
        ('[[suites]]\nname = "retention"\nmargins = { bits_per_byte = "lots" }', "invalid policy"),
        ("[[suites]]\nmax_per_language = 3", "needs a name"),
    ],
)
def test_bad_policies_name_the_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    f = tmp_path / "gate.toml"
    f.write_text(text)
    with pytest.raises(BadInputError, match=problem) as info:
        Policy.from_toml(f)
    assert str(f) in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read policy"):
        Policy.from_toml(tmp_path / "nope.toml")


def test_an_explicit_empty_suite_list_runs_no_evals(tmp_path: Path) -> None:
    """`suites = []` (an encoder: no causal-LM suite applies); leaving the key out keeps the
    default retention suite."""
    f = tmp_path / "gate.toml"
    f.write_text("suites = []\n")
    assert Policy.from_toml(f).suites == ()
    f.write_text("alpha = 0.1\n")
    assert Policy.from_toml(f).suites == Policy().suites
