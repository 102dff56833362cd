"""Feedback triage into the incident's categories, with the words that decided."""

from __future__ import annotations

import pytest

from tripwire.monitor import Feedback, triage, triage_feedback

REPORTS = [
    ("It gives SyntaxError: invalid syntax, the code does not compile", "compilation_error"),
    ("Running it crashes with a TypeError, traceback below", "runtime_error"),
    ("returns the wrong result for an empty list, off-by-one at the end", "logic_error"),
    ("the answer is cut off halfway, the function is incomplete", "incomplete_code"),
    (
        "it calls a made-up function pandas.read_jsonl, module has no attribute",
        "incorrect_api_usage",
    ),
    ("I asked for Go and it wrote Python instead of Go", "instructions_not_followed"),
    ("responses got slow this week, latency doubled", "performance_regression"),
    ("meh", "other"),
]


@pytest.mark.parametrize(("text", "category"), REPORTS)
def test_categories_with_evidence(text: str, category: str) -> None:
    t = triage(text)
    assert t.category == category
    assert (len(t.evidence) > 0) == (category != "other")
    assert all(w in text.lower() for w in t.evidence)


def test_reporter_category_wins_and_feedback_needs_content() -> None:
    fb = Feedback(thumbs="down", text="it is slow", category="logic_error")
    assert triage_feedback(fb).category == "logic_error"
    assert triage_feedback(fb).source == "reporter"
    with pytest.raises(ValueError, match="thumbs, text or a category"):
        Feedback(text="  ")
