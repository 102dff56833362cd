"""Gate policies that would turn a worse candidate into a pass are refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.gate import Policy


@pytest.mark.parametrize("alpha", ["0.7", "0.999"])
def test_an_alpha_whose_interval_turns_inside_out_is_refused(tmp_path: Path, alpha: str) -> None:
    # at alpha 0.7 a candidate 2 of 12 HumanEval tasks worse (inconclusive at 0.05) passed a
    # 0.2 margin: the 1 - 2*alpha "interval" was [-0.16, -0.135], its ends swapped
    policy = tmp_path / "gate.toml"
    policy.write_text(f'alpha = {alpha}\n[[suites]]\nname = "humaneval"\n')
    with pytest.raises(BadInputError, match=r"alpha must be between 0 and 1, at most 0.5"):
        Policy.from_toml(policy)


def test_the_gate_command_refuses_it_in_one_line(tmp_path: Path, capsys) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text('alpha = 0.7\n[[suites]]\nname = "humaneval"\n')
    code = main(["gate", str(tmp_path / "a"), str(tmp_path / "b"), "--policy", str(policy)])
    err = capsys.readouterr().err
    assert code == 2 and "at most 0.5" in err and err.count("\n") == 1, err


def test_one_half_is_still_a_policy() -> None:
    assert Policy.from_dict({"alpha": 0.5}).alpha == 0.5


@pytest.mark.parametrize(
    "margins",
    ['margins = { pass = 1 }', 'margins = { pass = "100%" }',
     'slice_margins = { "pass@all" = 5 }'],
)  # fmt: skip
def test_a_margin_no_regression_can_cross_is_refused(tmp_path: Path, margins: str) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text(f'[[suites]]\nname = "humaneval"\n{margins}\n')
    with pytest.raises(BadInputError, match="no regression could cross it"):
        Policy.from_toml(policy)


def test_a_wide_margin_that_can_still_be_crossed_is_kept(tmp_path: Path) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text(
        '[[suites]]\nname = "humaneval-js"\nmargins = { pass = 0.5, timeout = "100%" }\n'
    )
    assert Policy.from_toml(policy).suites[0].margins == {"pass": "0.5", "timeout": "100%"}
