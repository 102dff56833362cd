"""The learned triage on reports it never saw: categories, confidence, evidence, review."""

from __future__ import annotations

import copy

import numpy as np

from tripwire.triage import CATEGORIES, NEEDS_REVIEW, Triager, load

# Written for this test, in words neither report set uses.
UNSEEN = [
    ("the compiler stops at line 4 complaining about a missing semicolon", "compilation_error"),
    ("as soon as I run it Python prints a traceback ending in KeyError: 'user'", "runtime_error"),
    ("it reports 3 items in a basket that holds 4, the count is always one short", "logic_error"),
    ("the reply ends halfway through the second function, no closing brace", "incomplete_code"),
    ("it calls numpy.arrayify, which numpy has never had", "incorrect_api_usage"),
    ("I asked for a Rust answer and received Java", "instructions_not_followed"),
    ("completions take about twenty seconds since Monday's release", "performance_regression"),
    ("how do I add a second seat to our subscription?", "other"),
]


def test_unseen_reports(model: Triager) -> None:
    verdicts = model.classify([t for t, _ in UNSEEN])
    right = [v.guess == c for v, (_, c) in zip(verdicts, UNSEEN, strict=True)]
    assert sum(right) >= 7, [(v.guess, c) for v, (_, c) in zip(verdicts, UNSEEN, strict=True)]


def test_every_verdict_carries_checkable_evidence(model: Triager) -> None:
    text = "it calls pandas.read_jsonl, module 'pandas' has no attribute 'read_jsonl'"
    v = model.classify([text])[0]
    assert v.guess == "incorrect_api_usage"
    assert 0 < v.confidence <= 1
    assert abs(sum(v.probabilities.values()) - 1) < 1e-3
    assert v.words and all(w in text for w in v.words)
    assert any(r.startswith("incorrect_api_usage: ") for r in v.rules)
    assert len(v.neighbours) == 3
    assert all(n.category in CATEGORIES for n in v.neighbours)
    sims = [n.similarity for n in v.neighbours]
    assert sims == sorted(sims, reverse=True)


def test_below_threshold_is_needs_review_with_the_guess_kept(model: Triager) -> None:
    strict = copy.copy(model)  # the same fitted model, a stricter threshold
    strict.threshold = 0.999
    v = strict.classify(["hmm, not what I hoped for"])[0]
    assert v.category == NEEDS_REVIEW
    assert v.guess in CATEGORIES and v.confidence < 0.999


def test_non_english_report(model: Triager) -> None:
    v = model.classify(["Le programme plante dès le démarrage avec une exception"])[0]
    assert v.guess == "runtime_error"


def test_heldout_split_beats_the_rules(model: Triager) -> None:
    """A sample of the held-out split (cores never trained on), on the model and the rules."""
    from tripwire.monitor import triage as rules

    held = [r for r in load("reports") if r.split == "heldout"][::4]
    guesses = [v.guess for v in model.classify([r.text for r in held])]
    acc = np.mean([g == r.category for g, r in zip(guesses, held, strict=True)])
    rules_acc = np.mean([rules(r.text).category == r.category for r in held])
    assert acc >= 0.65 and acc > rules_acc + 0.25


def test_embeddings_are_cached_by_text(model: Triager) -> None:
    enc = model.encoder
    first = enc.embed(["a report seen twice"])
    size = len(enc._cache)
    again = enc.embed(["a report seen twice", "a report seen twice"])
    assert len(enc._cache) == size
    np.testing.assert_array_equal(again[0], first[0])
    assert np.isclose(np.linalg.norm(first[0]), 1.0, atol=1e-5)


def test_empty_batch(model: Triager) -> None:
    assert model.classify([]) == []


def test_the_cached_fit_predicts_what_a_fresh_fit_does(model: Triager) -> None:
    """The session's triager restores its fit from the cache file; fit the same data anew."""
    from sklearn.linear_model import LogisticRegression

    from tripwire.triage._model import C, _char_grams

    texts = [r.text for r in model.reports]
    fresh = copy.copy(model)
    fresh.chars = _char_grams().fit(texts)
    x, _ = fresh._features(texts, model.embeddings)
    fresh.model = LogisticRegression(C=C, max_iter=3000).fit(x, [r.category for r in model.reports])
    probe = [t for t, _ in UNSEEN]
    a, b = model.classify(probe), fresh.classify(probe)
    for va, vb in zip(a, b, strict=True):
        assert va.guess == vb.guess
        assert abs(va.confidence - vb.confidence) < 1e-6
