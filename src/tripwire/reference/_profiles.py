"""Build profiles of the reference model: sizes chosen for a 2-core CPU."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Everything that determines a reference build besides the corpus and the seed."""

    name: str
    train_bytes: int
    """Training text per language (bytes)."""
    heldout_bytes: int
    """Held-out text per language (bytes)."""
    vocab_size: int
    n_layer: int
    n_embd: int
    n_head: int
    context: int
    batch_size: int
    steps: int
    learning_rate: float
    warmup_steps: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    # tests: about a minute on 2 cores, good enough to tell broken embeddings from healthy ones
    "tiny": Profile(
        name="tiny",
        train_bytes=250_000,
        heldout_bytes=40_000,
        vocab_size=2048,
        n_layer=2,
        n_embd=96,
        n_head=4,
        context=128,
        batch_size=16,
        steps=250,
        learning_rate=3e-3,
        warmup_steps=15,
    ),
    # the demo: a few minutes on 2 cores
    "small": Profile(
        name="small",
        train_bytes=1_200_000,
        heldout_bytes=100_000,
        vocab_size=4096,
        n_layer=4,
        n_embd=192,
        n_head=6,
        context=128,
        batch_size=16,
        steps=320,
        learning_rate=3e-3,
        warmup_steps=30,
    ),
}
