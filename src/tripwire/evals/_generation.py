"""Generation settings, recorded with every run so two runs can be told apart."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GenerationConfig:
    """How completions are sampled (the same meaning for every backend)."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    """0 means greedy decoding."""
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    """Extra stop sequences, on top of the task's own."""
    prompt_format: str = "auto"
    """``auto`` (the model's chat template where it has one and the suite has a request for a
    chat model), ``chat`` or ``completion`` (the raw prompt)."""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stop": list(self.stop)}


def cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    """The completion up to (not including) the earliest stop sequence."""
    cut = len(text)
    for s in stops:
        i = text.find(s)
        if s and i != -1:
            cut = min(cut, i)
    return text[:cut]
