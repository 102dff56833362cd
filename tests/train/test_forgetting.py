"""Forgetting measurement on the tiny reference model: the chunked scorer the benchmark uses, and
forgetting_report (the retention suite on both models, compared with eval compare)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.artifacts import Checkpoint
from tripwire.reference import load_reference_corpus
from tripwire.train import forgetting_report, heldout_chunks


def test_chunks_cover_each_file_exactly(tiny_reference: Path) -> None:
    tokenizer = Checkpoint.open(tiny_reference).load_tokenizer()
    chunks = heldout_chunks(tiny_reference, tokenizer, 64, languages=["c"])
    files = load_reference_corpus(tiny_reference, "heldout")["c"]
    assert set(chunks) == {"c"}
    for i, f in enumerate(files):
        pieces = [c.text for c in chunks["c"] if c.file == i]
        # only whitespace-only pieces are dropped: nothing to score there
        assert "".join(pieces).split() == f.text.split()
        assert all(len(tokenizer(p)["input_ids"]) <= 64 + 2 for p in pieces)


@pytest.mark.slow
def test_a_model_compared_with_itself_neither_gains_nor_forgets(tiny_reference: Path) -> None:
    # 10 chunks per language: the fewest on which a score comparison gives any verdict
    report = forgetting_report(tiny_reference, tiny_reference, max_chunks=10)
    languages = load_reference_corpus(tiny_reference, "heldout")
    assert sorted(c.slice for c in report) == sorted(languages)
    for c in report:
        assert c.delta == 0.0 and c.n == 10 and not c.regressed and c.status == "pass"
        assert 0.5 < c.baseline < 8.0  # bits per byte of a (weak) code model
    # fewer chunks are no evidence either way, not a pass
    few = forgetting_report(tiny_reference, tiny_reference, max_chunks=8)
    assert all(c.status == "inconclusive" and "at least 10" in c.note for c in few)
