"""Generation settings, recorded with every run so two runs can be told apart."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tripwire.errors import BadInputError

PROMPT_FORMATS = ("auto", "chat", "completion")


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

    def __post_init__(self) -> None:
        # refused here, before any run starts: past these, sampling fails mid-run (top_p 0 keeps
        # no token, a NaN temperature no probability) or quietly means something else
        if not (isinstance(self.max_new_tokens, int) and self.max_new_tokens >= 1):
            raise BadInputError("--max-new-tokens", f"expected >= 1, got {self.max_new_tokens!r}")
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise BadInputError("--temperature", f"expected a number >= 0 (0: greedy), got "
                                f"{self.temperature!r}")  # fmt: skip
        if not 0 < self.top_p <= 1:  # (NaN is never in range)
            raise BadInputError("--top-p", f"expected a number in (0, 1], got {self.top_p!r}")
        if self.prompt_format not in PROMPT_FORMATS:
            raise BadInputError("--prompt-format", f"expected {', '.join(PROMPT_FORMATS)}, got "
                                f"{self.prompt_format!r}")  # fmt: skip

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
