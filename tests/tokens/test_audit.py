"""The fault zoos: each variant gets the right verdict and exactly the right token ids."""

from __future__ import annotations

import pytest

from tripwire.findings import Severity
from tripwire.tokens import audit, audit_model

from .conftest import Variant

TINY_NAMES = [
    "identical", "clean_finetune", "ids_swapped", "ids_rotated", "added_random", "added_zero",
    "added_mean", "beyond_table", "normalizer_changed", "special_swapped", "untied",
    "head_scrambled",
]  # fmt: skip
MINILM_NAMES = [n for n in TINY_NAMES if n not in ("untied", "head_scrambled")]
# Findings that describe the tokenizer as a whole: their ids are the re-segmented tokens.
_WHOLE_TOKENIZER = {
    "tokens.segmentation_changed",
    "tokens.config_special_token_mismatch",
    "tokens.config_special_token_changed",
}


def _check(v: Variant) -> None:
    report = audit(v.baseline, v.path)
    blocking = [f for f in report.findings if f.severity is Severity.BLOCK]
    assert str(report.verdict) == v.verdict, [(f.code, f.message) for f in blocking]
    if v.code:
        finding = report.find(v.code)
        assert finding is not None, sorted(report.codes())
        assert tuple(finding.token_ids) == v.token_ids
    # No blocking finding blames a token the fault did not touch.
    for f in blocking:
        if f.code not in _WHOLE_TOKENIZER:
            assert set(f.token_ids) <= set(v.token_ids), (f.code, f.token_ids)
    assert report.to_dict()["verdict"] == v.verdict


@pytest.mark.parametrize("name", TINY_NAMES)
def test_tiny_zoo(tiny_zoo: dict[str, Variant], name: str) -> None:
    _check(tiny_zoo[name])


@pytest.mark.parametrize("name", MINILM_NAMES)
def test_minilm_zoo(minilm_zoo: dict[str, Variant], name: str) -> None:
    _check(minilm_zoo[name])


def test_clean_finetune_drift_is_measured(tiny_zoo: dict[str, Variant]) -> None:
    """Every row moved a little, none beyond the tolerance the drift sets."""
    v = tiny_zoo["clean_finetune"]
    summary = audit(v.baseline, v.path).summary
    assert 0 < summary["drift"]["input"] < summary["tolerance"]["input"]
    identical = audit(v.baseline, tiny_zoo["identical"].path).summary
    assert identical["drift"]["input"] == 0


def test_remap_names_the_row_each_token_holds(tiny_zoo: dict[str, Variant]) -> None:
    v = tiny_zoo["ids_swapped"]
    f = audit(v.baseline, v.path).find("tokens.rows_remapped")
    assert f is not None
    held = {e["token"]: e["holds_row_of"] for e in f.evidence["examples"]}
    assert held == {" def": " return", " return": " def"}


def test_normalizer_change_is_also_a_config_disagreement(minilm_zoo: dict[str, Variant]) -> None:
    v = minilm_zoo["normalizer_changed"]
    report = audit(v.baseline, v.path)
    # do_lower_case vs normalizer
    assert report.find("tokens.tokenizer_config_mismatch") is not None
    seg = report.find("tokens.segmentation_changed")
    assert seg is not None and seg.evidence["unexplained_share"] > 0.05


def test_single_model_minilm_unused_tokens(minilm_checkpoint) -> None:
    """BERT's [unusedN] rows calibrate the indicator; it finds tokens that are never produced."""
    report = audit_model(minilm_checkpoint)
    reserved = report.find("tokens.reserved_rows")
    assert reserved is not None and reserved.evidence["count"] == 994
    assert reserved.evidence["median_norm"] < 0.6 * reserved.evidence["other_median_norm"]
    found = report.find("tokens.undertrained_tokens")
    assert found is not None and len(found.token_ids) > 50
    assert not set(found.token_ids) & set(reserved.token_ids)
    # Most of what it finds are continuation pieces the pre-tokenizer never lets occur.
    assert len(found.evidence["unreachable"]) > len(found.token_ids) / 2
    assert str(report.verdict) in ("pass", "warn")


def test_single_model_tiny_reserved_rows(tiny_reference) -> None:
    report = audit_model(tiny_reference)
    assert report.find("tokens.reserved_rows").evidence["count"] == 8
    assert str(report.verdict) != "block"
