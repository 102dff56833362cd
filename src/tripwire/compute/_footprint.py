"""What running a model costs in memory, read from its config and safetensors header alone.

Estimates, deliberately on the high side, of the bytes a model's weights and each token of work
take: enough to size batches and to refuse a model that cannot fit before it is loaded. They
follow the shapes of a decoder-only transformer (GPT-2, Llama and their kin); the constants say
which tensors are counted.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from tripwire.artifacts import Checkpoint
from tripwire.compute._budget import MemoryBudget, format_bytes
from tripwire.errors import BadInputError

_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}  # fmt: skip
# Python, torch and transformers themselves, before any model: measured at 0.35-0.45 GB resident
# on Linux for torch 2.x + transformers; counted so a tiny budget is refused, not overrun.
RUNTIME_BYTES = 450_000_000
# Bytes of logits one position takes while the head and log-softmax run over a chunk of
# positions: the logits, the log-sum-exp's shifted copy and its exp, in float32.
_LOGIT_COPIES = 3


def _first(cfg: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    return default


def _stored_bytes(ckpt: Checkpoint) -> tuple[int, int]:
    """(bytes of every stored tensor, bytes per element of the widest float among them)."""
    total, widest = 0, 4
    floats = []
    for path in ckpt.weight_files:
        if path.suffix != ".safetensors":
            return sum(p.stat().st_size for p in ckpt.weight_files), 4
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            size = _DTYPE_BYTES.get(meta.get("dtype", "F32"), 4)
            count = 1
            for d in meta.get("shape", []):
                count *= int(d)
            total += count * size
            if meta.get("dtype", "").startswith(("F", "BF")):
                floats.append(size)
    if floats:
        widest = max(floats)
    return total, widest


@dataclass(frozen=True)
class Footprint:
    """A model's size and shape, as far as memory goes."""

    weight_bytes: int
    """The weights as loaded (in the dtype they are stored in)."""
    param_count: int
    dtype_bytes: int
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    context: int

    @classmethod
    def of(cls, ckpt: Checkpoint) -> Footprint:
        """From the config and the weight files' headers: nothing is loaded."""
        cfg = ckpt.config
        stored, width = _stored_bytes(ckpt)
        hidden = int(_first(cfg, "hidden_size", "n_embd", "d_model", default=768))
        heads = int(_first(cfg, "num_attention_heads", "n_head", default=12))
        return cls(
            weight_bytes=stored,
            param_count=stored // width,
            dtype_bytes=width,
            layers=int(_first(cfg, "num_hidden_layers", "n_layer", "num_layers", default=12)),
            hidden=hidden,
            intermediate=int(
                _first(cfg, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden)
            ),
            heads=heads,
            kv_heads=int(_first(cfg, "num_key_value_heads", default=heads)),
            head_dim=int(_first(cfg, "head_dim", default=hidden // max(heads, 1))),
            vocab=int(_first(cfg, "vocab_size", default=50_000)),
            context=int(
                _first(cfg, "max_position_embeddings", "n_positions", "n_ctx", default=2048)
            ),
        )

    # --- inference -------------------------------------------------------------------------
    def forward_bytes_per_token(self, seq_len: int) -> int:
        """Peak live activations per token of a no-grad forward pass over rows of ``seq_len``:
        the residual stream and its normed copy, q/k/v, the MLP's three intermediate tensors,
        and one layer's attention scores and their softmax (the math kernel materialises
        them; the flash kernels need less)."""
        kv = 2 * self.kv_heads * self.head_dim
        per = 3 * self.hidden + kv + 3 * self.intermediate + 2 * self.heads * seq_len
        return 4 * per

    def kv_bytes_per_token(self) -> int:
        """One token's keys and values in every layer's cache."""
        return 2 * self.layers * self.kv_heads * self.head_dim * max(self.dtype_bytes, 4)

    def logits_bytes(self, positions: int) -> int:
        """The head's output over ``positions`` positions while they are scored."""
        return _LOGIT_COPIES * 4 * self.vocab * positions

    # --- training --------------------------------------------------------------------------
    def train_state_bytes(self, trainable_fraction: float, copies: int) -> int:
        """Weights (float32 while training), gradients and AdamW's two moments of the trainable
        share, plus ``copies`` more full-size tensors per weight (a frozen teacher, EWC's
        anchors and Fisher, L2-SP's anchors), plus the two trainable-sized temporaries AdamW's
        multi-tensor step allocates (measured on SmolLM2-135M: a 5 GB budget peaked at 5.97 GB
        without them)."""
        weights = 4 * self.param_count
        return int(weights * (1 + copies) + 5 * weights * trainable_fraction)

    def train_bytes_per_token(self, seq_len: int, checkpointing: bool) -> int:
        """Activations autograd keeps per token. Without checkpointing every layer keeps the
        inputs of its linears, norms and attention (about 12 hidden-sized and 4 intermediate-
        sized tensors and the attention probabilities); with it, each layer keeps its input
        and one layer at a time is recomputed in full during the backward pass."""
        per_layer = 4 * (12 * self.hidden + 4 * self.intermediate + 2 * self.heads * seq_len)
        if checkpointing:
            return 4 * self.hidden * self.layers + per_layer
        return per_layer * self.layers


def require_fits(
    what: str, needed: dict[str, int], budget: MemoryBudget, *, hint: str = ""
) -> None:
    """Refuse (one line, exit 2) when the parts of ``needed`` add up to more than ``budget``:
    before any model is loaded, so the command ends with a message instead of an OOM kill."""
    total = RUNTIME_BYTES + sum(needed.values())
    if total <= budget.bytes:
        return
    parts = ", ".join(f"{format_bytes(v)} {k}" for k, v in needed.items())
    raise BadInputError(
        "--max-memory",
        f"{what} needs about {format_bytes(total)} ({parts}, {format_bytes(RUNTIME_BYTES)} "
        f"runtime) but the budget is {budget.describe()}{'; ' + hint if hint else ''}",
    )
