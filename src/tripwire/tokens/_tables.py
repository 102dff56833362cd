"""The embedding tables of a checkpoint: input embeddings, the output head (when stored apart)
and its bias, mapped from the weight files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import torch

from tripwire.artifacts import Checkpoint
from tripwire.errors import BadInputError
from tripwire.tokens._matrix import mapped_tensor, nonfinite_rows

TieState = Literal["shared", "equal", "different"]


@dataclass
class EmbeddingTables:
    """Where each token's vectors live in one checkpoint."""

    input: torch.Tensor
    input_name: str
    head: torch.Tensor | None
    """The output projection, when the weights store one apart from the input table."""
    head_name: str | None
    bias: torch.Tensor | None
    bias_name: str | None

    @classmethod
    def load(cls, ckpt: Checkpoint) -> EmbeddingTables:
        name = ckpt.input_embedding_name
        table = mapped_tensor(ckpt, name)
        if table.ndim != 2:
            raise BadInputError(ckpt.path, f"{name} is not a matrix (shape {tuple(table.shape)})")
        head_name, bias_name = ckpt.output_head_name, ckpt.output_bias_name
        head = mapped_tensor(ckpt, head_name) if head_name else None
        bias = mapped_tensor(ckpt, bias_name) if bias_name else None
        if head is not None and head.ndim != 2:
            raise BadInputError(
                ckpt.path, f"{head_name} is not a matrix (shape {tuple(head.shape)})"
            )
        if bias is not None and bias.ndim != 1:
            raise BadInputError(
                ckpt.path, f"{bias_name} is not a vector (shape {tuple(bias.shape)})"
            )
        return cls(table, name, head, head_name, bias, bias_name)

    @property
    def head_fits(self) -> bool:
        """Whether the output head has the input table's shape (its rows can be compared
        token by token); output_head_shape_mismatch reports one that does not."""
        return self.head is None or tuple(self.head.shape) == tuple(self.input.shape)

    @property
    def rows(self) -> int:
        return int(self.input.shape[0])

    @property
    def width(self) -> int:
        return int(self.input.shape[1])

    @cached_property
    def tie_state(self) -> TieState:
        """What the weights really are: one stored table, two equal ones, or two different."""
        if self.head is None:
            return "shared"
        if self.head.shape == self.input.shape and torch.equal(self.head, self.input):
            return "equal"
        return "different"

    def output(self) -> torch.Tensor:
        """The table the model scores next tokens with (the input table when tied)."""
        return self.head if self.head is not None else self.input

    @cached_property
    def nonfinite_input(self) -> np.ndarray:
        """Input rows holding a NaN or an infinity."""
        return nonfinite_rows(self.input)

    @cached_property
    def nonfinite_head(self) -> np.ndarray:
        """Rows of a separately stored output head holding a NaN or an infinity."""
        return nonfinite_rows(self.head) if self.head is not None else np.zeros(0, np.int64)

    @property
    def nonfinite(self) -> set[int]:
        """Every token id whose vectors hold a NaN or an infinity, in either table."""
        return {*self.nonfinite_input.tolist(), *self.nonfinite_head.tolist()}
