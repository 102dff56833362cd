"""A fine-tune's target gain is measured on a held-out split of its own data (and the report says
which), the data file's manifest is written beside it, and the EWC default works on the
reference model without tuning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.artifacts import ArtifactKind, Manifest, manifest_path
from tripwire.cli import main
from tripwire.cli.train import EWC_LAMBDA
from tripwire.train import TrainConfig, read_records, reference_language_data
from tripwire.train._target import split_target


@pytest.fixture
def all_python(tiny_reference: Path, tmp_path: Path) -> Path:
    """Every python file of the tiny reference model's training split (29 on this machine)."""
    return reference_language_data(tiny_reference, "python", tmp_path / "python.jsonl")


def test_split_is_a_fixed_share_chosen_by_record_id(all_python: Path) -> None:
    records = read_records([all_python])
    assert len(records) >= 20
    train, split = split_target(records, all_python, 0.1)
    held = {r.id for r in split.heldout}
    assert len(held) == max(3, round(0.1 * len(records)))
    assert not held & {r.id for r in train} and len(train) + len(held) == len(records)
    assert split_target(list(reversed(records)), all_python, 0.1)[1].heldout == split.heldout
    # a record keeps its side when others go: drop two trained records, the split stays
    fewer = [r for r in records if r.id not in {train[0].id, train[1].id}]
    assert {r.id for r in split_target(fewer, all_python, 0.1)[1].heldout} == held
    assert "held-out 10% of" in split.describe() and str(all_python) in split.describe()
    small = split_target(records[:8], all_python, 0.1)[1]
    assert not small.heldout and "a split needs 20" in small.describe()


@pytest.mark.slow
def test_target_gain_on_held_out_fine_tuning_data_and_manifest_beside_the_file(
    tiny_reference: Path, all_python: Path, tmp_path: Path
) -> None:
    assert not manifest_path(all_python).exists()
    report = tmp_path / "report.json"
    code = main(["train", "finetune", str(tiny_reference), "--data", str(all_python), "--out",
                 str(tmp_path / "tuned"), "--lr", "1e-3", "--steps", "8", "--batch-size", "4",
                 "--context", "64", "--warmup-steps", "1", "--eval-chunks", "12",
                 "--allow-unaudited", "--json", str(report)])  # fmt: skip
    assert code in (0, 1)
    data = json.loads(report.read_text())
    split = data["model"]["target_split"]
    assert split["records_heldout"] == 3 and split["records_trained"] == 26
    assert data["model"]["data"]["records"] == 26  # the held-out records were not trained on
    (target,) = data["target"]["slices"]
    assert target["slice"] == "python" and target["n"] == 3
    assert data["target"]["measured_on"].startswith("the held-out 10% of")
    decided = [f for f in data["findings"]
               if f["code"] in ("train.target_gain", "train.target_not_improved")]  # fmt: skip
    assert len(decided) == 1 and "held-out 10% of" in decided[0]["message"]
    assert decided[0]["evidence"]["measured_on"] == data["target"]["measured_on"]
    # the base's corpus is still reported for the target, as information only
    assert any(f["code"] == "train.target_on_base_corpus" for f in data["findings"])
    # the data file's manifest, beside it, is the one the model names as its parent
    beside = Manifest.read(all_python)
    assert manifest_path(all_python).is_file() and beside.kind == ArtifactKind.DATASET
    assert beside.id in Manifest.read(tmp_path / "tuned").parents


def test_the_cli_and_the_library_agree_on_the_ewc_default() -> None:
    assert TrainConfig().ewc_lambda == EWC_LAMBDA


@pytest.mark.slow
def test_the_ewc_default_keeps_the_gain_and_cuts_forgetting(
    tiny_reference: Path, all_python: Path, tmp_path: Path
) -> None:
    """A narrow Python fine-tune of the tiny reference model, plain and with EWC at its default
    lambda: EWC keeps most of the gain on held-out Python and forgets less of the rest."""
    from tripwire.train import finetune, forgetting_report

    shared = {"learning_rate": 1e-3, "steps": 60, "batch_size": 8, "context": 128,
              "warmup_steps": 5, "checkpoint_every": 0}  # fmt: skip
    outcome = {}
    for name, config in (("plain", TrainConfig(**shared)),
                         ("ewc", TrainConfig(**shared, regularizer="ewc"))):  # fmt: skip
        finetune(tiny_reference, all_python, tmp_path / name, config, allow_unaudited=True)
        comparisons = forgetting_report(tiny_reference, tmp_path / name, max_chunks=24)
        rel = {c.slice: c.delta / c.baseline for c in comparisons}
        others = [v for k, v in rel.items() if k != "python"]
        outcome[name] = (-rel["python"], sum(others) / len(others))
    (plain_gain, plain_forgot), (ewc_gain, ewc_forgot) = outcome["plain"], outcome["ewc"]
    assert plain_gain > 0.005 and plain_forgot > 0.03, outcome  # a real gain, real forgetting
    assert ewc_gain >= 0.6 * plain_gain, outcome  # most of the gain kept ...
    assert ewc_forgot <= 0.7 * plain_forgot, outcome  # ... and the forgetting cut


def test_json_nested_thousands_deep_is_bad_input(tmp_path):
    """A RecursionError traceback from json.loads; the audit already calls it bad_format."""
    from tripwire.errors import BadInputError

    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "x", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(BadInputError, match=r"deep.jsonl:1: malformed JSON: nested too deeply"):
        read_records([path])
