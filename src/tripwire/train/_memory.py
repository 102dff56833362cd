"""How a fine-tune fits the memory budget: checked before the model is loaded, and the rows run
through the model at once (micro-batches; the optimizer still steps on the whole batch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tripwire.artifacts import Checkpoint
from tripwire.compute import RUNTIME_BYTES, Footprint, MemoryBudget, format_bytes, require_fits
from tripwire.compute._chunked import CHUNK_BYTES
from tripwire.train._config import TrainConfig

# LoRA's adapters and their optimizer state, as a share of the model: r=8 on every attention
# and MLP projection of a 135M Llama is 0.3%; counted generously for higher ranks.
_LORA_TRAINABLE = 0.05


@dataclass(frozen=True)
class MemoryPlan:
    """What the fine-tune will hold and how it runs its batches."""

    micro_rows: int
    state_bytes: int
    row_bytes: int
    chunk_bytes: int
    budget: MemoryBudget

    def to_dict(self) -> dict[str, Any]:
        return {
            "micro_rows": self.micro_rows,
            "state_bytes": self.state_bytes,
            "row_bytes": self.row_bytes,
            "chunk_bytes": self.chunk_bytes,
            "budget_bytes": self.budget.bytes,
            "budget": self.budget.describe(),
        }


def _copies(config: TrainConfig) -> int:
    """Full-size tensors per weight besides the model's own: the frozen teacher LwF compares
    with (LoRA's is the model itself with adapters off), EWC's anchors and Fisher, L2-SP's
    anchors."""
    teacher = config.regularizer == "lwf" and not (
        config.method == "lora" and config.lora_init == "default"
    )
    return {"ewc": 2, "l2sp": 1}.get(config.regularizer, 0) + int(teacher)


def plan_memory(
    ckpt: Checkpoint, config: TrainConfig, context: int, budget: MemoryBudget
) -> MemoryPlan:
    """Refuse (``--max-memory``, one line) a fine-tune that cannot fit even one row at a time;
    otherwise the most rows per micro-batch the budget allows, up to the batch size."""
    fp = Footprint.of(ckpt)
    share = 1.0 if config.method == "full" else _LORA_TRAINABLE
    state = fp.train_state_bytes(share, _copies(config))
    per_token = fp.train_bytes_per_token(context, config.gradient_checkpointing)
    row = context * per_token
    hint = "raise --max-memory, lower --context" + (
        "" if config.gradient_checkpointing else " or add --gradient-checkpointing"
    )
    require_fits(
        "fine-tuning",
        {"for weights, gradients, optimizer state and anchors": state,
         f"for one row of {context} tokens": row, "for a chunk of logits": CHUNK_BYTES},
        budget, hint=hint,
    )  # fmt: skip
    spare = budget.bytes - RUNTIME_BYTES - state - CHUNK_BYTES
    rows = max(1, min(config.batch_size, spare // max(row, 1)))
    return MemoryPlan(int(rows), state, row, CHUNK_BYTES, budget)


def describe_plan(plan: MemoryPlan) -> str:
    return (f"{plan.micro_rows} rows at a time ({format_bytes(plan.row_bytes)} each beside "
            f"{format_bytes(plan.state_bytes)} of weights and optimizer state; budget "
            f"{plan.budget.describe()})")  # fmt: skip
