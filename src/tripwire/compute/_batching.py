"""Cost follows the work: texts cut into windows, windows packed into batches by a token budget.

A text longer than a window is split into consecutive windows of at most ``window`` predicted
tokens. With ``overlap`` K, each window after the first starts K tokens before the previous one
ended and re-reads them as context without scoring them again (stride ``window - K``), so every
token is scored exactly once, and after the first window with at least K tokens of context.
With K = 0 the windows are those of ``tripwire.reference.stream_windows``: each shares one id
with the next, so the first target of a window is predicted from a single token.

Batches hold windows of similar length (sorted longest first, so a batch that does not fit
shows up at once) and are padded to their longest window only, never to the model's context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tripwire.errors import BadInputError


@dataclass(frozen=True)
class Piece:
    """One window of one text: ids ``[start, end)`` of the text's stream are the inputs and
    targets (inputs ``[start, end - 1)``, targets ``[start + 1, end)``); targets before
    ``start + 1 + skip`` are context already scored by the previous window."""

    text: int
    start: int
    end: int
    skip: int = 0

    @property
    def length(self) -> int:
        """Input positions (the padded cost of this window)."""
        return self.end - 1 - self.start

    @property
    def scored(self) -> int:
        return self.length - self.skip


def split_windows(text: int, n_ids: int, window: int, overlap: int = 0) -> list[Piece]:
    """The windows of a stream of ``n_ids`` ids (``n_ids - 1`` targets)."""
    if window < 1:
        raise BadInputError("window", f"must be at least 1 token, got {window}")
    if not 0 <= overlap < window:
        raise BadInputError("overlap", f"must be in [0, window) = [0, {window}), got {overlap}")
    targets = n_ids - 1
    if targets <= 0:
        return []
    pieces = [Piece(text, 0, min(n_ids, window + 1))]
    scored_to = pieces[0].end - 1  # targets [1, scored_to] are scored
    while scored_to < targets:
        start = scored_to - overlap
        end = min(n_ids, start + window + 1)
        pieces.append(Piece(text, start, end, skip=scored_to - start))
        scored_to = end - 1
    return pieces


def token_batches(pieces: Sequence[Piece], max_tokens: int, max_rows: int = 256) -> list[list[int]]:
    """Indices into ``pieces`` grouped so that rows x longest window <= ``max_tokens`` (a window
    longer than the budget gets a batch of its own) and no row is padded by more than a quarter
    of the batch's width. Longest windows first."""
    order = sorted(range(len(pieces)), key=lambda i: (-pieces[i].length, i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        n = pieces[i].length
        # padding is computed like tokens: twenty 350-token texts padded to one 863-token text
        # spent 55% of the forward pass on padding (SmolLM2 retention ran at 43% of a packed
        # forward pass's tokens/s)
        if current and (
            (len(current) + 1) * max(longest, n) > max_tokens
            or len(current) >= max_rows
            or 4 * n < 3 * longest
        ):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches
