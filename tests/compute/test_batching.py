"""Windows cover every target once; batches hold at most their token budget."""

from __future__ import annotations

import pytest

from tripwire.compute import split_windows, token_batches
from tripwire.errors import BadInputError


@pytest.mark.parametrize("n_ids", [1, 2, 5, 17, 64, 65, 66, 300])
@pytest.mark.parametrize(("window", "overlap"), [(1, 0), (8, 0), (8, 3), (16, 15), (64, 0)])
def test_every_target_is_scored_exactly_once_with_enough_context(n_ids, window, overlap) -> None:
    pieces = split_windows(0, n_ids, window, overlap)
    scored = []
    for k, p in enumerate(pieces):
        assert 1 <= p.length <= window
        # targets start + 1 + skip .. end - 1 (ids of the stream) are this window's
        scored += range(p.start + 1 + p.skip, p.end)
        assert p.skip == (overlap if k else 0)  # later windows re-read `overlap` tokens
    assert scored == list(range(1, n_ids))


def test_no_overlap_gives_the_reference_windows() -> None:
    # stream_windows' layout: window k holds ids [k*W, (k+1)*W], each sharing one id
    pieces = split_windows(3, 21, 8, 0)
    assert [(p.text, p.start, p.end, p.skip) for p in pieces] == [
        (3, 0, 9, 0),
        (3, 8, 17, 0),
        (3, 16, 21, 0),
    ]


def test_overlap_rereads_context_without_scoring_it() -> None:
    pieces = split_windows(0, 21, 8, 3)
    assert [(p.start, p.end, p.skip) for p in pieces] == [(0, 9, 0), (5, 14, 3), (10, 19, 3),
                                                          (15, 21, 3)]  # fmt: skip


@pytest.mark.parametrize(("window", "overlap"), [(0, 0), (4, 4), (4, -1)])
def test_bad_windows_are_refused(window, overlap) -> None:
    with pytest.raises(BadInputError):
        split_windows(0, 10, window, overlap)


def test_batches_keep_to_the_token_budget_and_pad_to_their_longest() -> None:
    lengths = [5, 300, 40, 41, 2, 299, 120, 7, 7, 7]
    pieces = [p for i, n in enumerate(lengths) for p in split_windows(i, n + 1, 512)]
    batches = token_batches(pieces, max_tokens=600)
    assert sorted(i for b in batches for i in b) == list(range(len(pieces)))
    for b in batches:
        longest = max(pieces[i].length for i in b)
        assert len(b) * longest <= 600
    # sorted longest first: the two long texts share a batch, the short ones are not padded to 300
    assert {pieces[i].length for i in batches[0]} == {300, 299}
    # and no row is padded by more than a quarter of its batch's width, though the budget would
    # allow all the short ones beside the 120-token one
    for b in batches:
        longest = max(pieces[i].length for i in b)
        assert all(4 * pieces[i].length >= 3 * longest for i in b)
    assert len(token_batches(pieces, max_tokens=10_000)) == len(batches)


def test_a_window_longer_than_the_budget_gets_a_batch_of_its_own() -> None:
    pieces = split_windows(0, 101, 100) + split_windows(1, 11, 100)
    assert token_batches(pieces, max_tokens=50) == [[0], [1]]
