"""Running a model within a memory budget: the budget (``--max-memory``), what a model costs
(from its files, before loading), token-budgeted batches of windows, and log-probabilities
computed a chunk of positions at a time.

Cost follows the work, not the model's maxima: batches are filled by tokens and padded to their
longest text, and vocabulary-sized logits are never held for a whole batch. ``torch`` is only
imported by the modules that run a model (``_chunked``), so the budget and footprint can be
checked before anything heavy loads.
"""

from tripwire.compute._batching import Piece, split_windows, token_batches
from tripwire.compute._budget import (
    DEFAULT_SHARE,
    ENV,
    MemoryBudget,
    available_memory,
    current_budget,
    default_budget,
    format_bytes,
    parse_memory,
    use_budget,
)
from tripwire.compute._footprint import RUNTIME_BYTES, Footprint, require_fits

__all__ = [
    "DEFAULT_SHARE",
    "ENV",
    "RUNTIME_BYTES",
    "Footprint",
    "MemoryBudget",
    "Piece",
    "available_memory",
    "current_budget",
    "default_budget",
    "format_bytes",
    "parse_memory",
    "require_fits",
    "split_windows",
    "token_batches",
    "use_budget",
]
