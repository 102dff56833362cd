"""`tripwire train finetune` given inputs another team might write: each is one line of bad
input (exit 2, nothing written), and the terminal table agrees with the --json status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tripwire.cli import main

TINY = ["--steps", "1", "--batch-size", "1", "--context", "64", "--no-eval", "--allow-unaudited"]


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _refused(base: Path, data: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line error of a finetune refused with exit 2 before writing ``out``."""
    code = main(["train", "finetune", str(base), "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not out.exists()
    return err.strip()


def test_a_number_too_long_to_read_is_bad_input(
    tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 5,000-digit integer made json.loads raise a plain ValueError: exit 4."""
    data = tmp_path / "set.jsonl"
    data.write_text('{"text": "def f(): pass", "n": %s}\n' % ("9" * 5000), encoding="utf-8")
    err = _refused(tiny_reference, data, tmp_path / "tuned", capsys)
    assert err == f"error: {data}:1: JSON number too long to read"


@pytest.mark.parametrize(("value", "name"), [(5, "int"), (None, "null"), (["x"], "list")])
def test_a_text_that_is_not_a_string_says_so(
    value: object, name: str, tiny_reference: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """It was reported as "empty 'text'", which sends the reader looking for a blank string."""
    data = _jsonl(tmp_path / "set.jsonl", [{"text": value}])
    err = _refused(tiny_reference, data, tmp_path / "tuned", capsys)
    assert err == f"error: {data}:1: 'text' must be a string, got {name}"


def test_out_inside_the_base_is_refused(
    tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing the tuned model into the base's folder changed the base's content (and its id)."""
    base = tmp_path / "base"
    shutil.copytree(tiny_reference, base)
    before = sorted(p.name for p in base.iterdir())
    data = _jsonl(tmp_path / "set.jsonl", [{"text": "def f():\n    return 1\n"}])
    out = base / "tuned"
    code = main(["train", "finetune", str(base), "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip() == f"error: {out}: --out must be neither inside nor around the input {base}"
    assert sorted(p.name for p in base.iterdir()) == before


def test_the_table_shows_an_inconclusive_target_as_inconclusive() -> None:
    """The target row said "gain" whenever the change was negative, where --json said
    inconclusive (3 held-out records)."""
    from rich.console import Console

    from tripwire.cli.train import retention_table
    from tripwire.findings import Outcome
    from tripwire.stats import SliceComparison

    c = SliceComparison(
        slice="python", metric="bits_per_byte", n=3, baseline=3.848, candidate=3.846,
        delta=-0.002, ci_low=-0.003, ci_high=-0.002, p_value=1.0, regressed=False,
        status=Outcome.INCONCLUSIVE, margin=0.05, mde=1.0, clusters=3, higher_is_better=False,
        test="t", effective_n=3.0,
    )  # fmt: skip
    console = Console(width=200, record=True)
    console.print(retention_table([c], ["python"]))
    text = console.export_text()
    assert "inconclusive (3 tasks)" in text
    assert "gain" not in text
