"""Unreadable reports get `other` with a reason; the rest of their batch is triaged as usual."""

from __future__ import annotations

from tripwire.triage import MAX_BYTES, Triager

GOOD = "the function returns 0 for every input I give it"


def test_bad_items_do_not_cost_the_batch(model: Triager) -> None:
    batch: list[object] = [
        "",
        "   \n\t ",
        "x" * MAX_BYTES,
        "\x00\x01\x02binary",
        "\x07\x08" * 50 + "ok",
        "\ufffd" * 40,
        12345,
        None,
        GOOD,
    ]
    verdicts = model.classify(batch)
    assert len(verdicts) == len(batch)
    for v in verdicts[:-1]:
        assert v.category == "other" and v.reason, v
        assert v.evidence == (v.reason,)
    assert "1,000,000 bytes" in (verdicts[2].reason or "")
    alone = model.classify([GOOD])[0]
    assert verdicts[-1].reason is None
    assert verdicts[-1].guess == alone.guess
    assert verdicts[-1].confidence == alone.confidence


def test_stray_control_characters_are_removed_not_refused(model: Triager) -> None:
    coloured = "\x1b[31mSegmentation fault (core dumped)\x1b[0m when the input file is empty"
    v = model.classify([coloured])[0]
    assert v.reason is None
    assert v.guess == "runtime_error"
