"""The labelled report sets: size, coverage, the held-out split's independence, provenance."""

from __future__ import annotations

import json
from collections import Counter

from tripwire.monitor import triage as rules
from tripwire.triage import CATEGORIES, load
from tripwire.triage.data import compose


def test_set_a_covers_every_category_language_and_style() -> None:
    a = load("reports")
    assert len(a) >= 500
    per_cat = Counter(r.category for r in a)
    assert set(per_cat) == set(CATEGORIES)
    assert min(per_cat.values()) >= 60
    langs = Counter(r.lang for r in a)
    assert {"en", "de", "es", "fr"} <= set(langs)
    assert sum(n for lang, n in langs.items() if lang != "en") >= 100
    assert sum("```" in r.text or "Traceback" in r.text or "error:" in r.text for r in a) >= 100
    # at least half avoid their category's textbook words: the old rules miss them
    missed = sum(rules(r.text).category != r.category for r in a)
    assert missed >= len(a) / 2


def test_heldout_split_shares_no_core_or_text_with_training() -> None:
    rows = [json.loads(line) for line in (compose.HERE / "reports.jsonl").read_text().splitlines()]
    train = {r["core"] for r in rows if r["split"] == "train"}
    held = {r["core"] for r in rows if r["split"] == "heldout"}
    assert held and not (train & held)
    assert 0.15 <= sum(r["split"] == "heldout" for r in rows) / len(rows) <= 0.25


def test_set_b_is_separate_and_never_in_training() -> None:
    a_texts = {r.text for r in load("reports")}
    b = load("reports_b")
    assert len(b) >= 150
    assert set(Counter(r.category for r in b)) == set(CATEGORIES)
    assert not a_texts & {r.text for r in b}
    assert all(r.split == "eval" for r in b)


def test_committed_files_are_what_the_composer_writes() -> None:
    on_disk = (compose.HERE / "reports.jsonl").read_text(encoding="utf-8")
    assert on_disk == compose._jsonl(compose.set_a())
    assert (compose.HERE / "reports_b.jsonl").read_text(encoding="utf-8") == compose._jsonl(
        compose.set_b()
    )
