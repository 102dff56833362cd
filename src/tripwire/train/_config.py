"""Everything that decides a fine-tune's result, in one typed, hashable place."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError

METHODS = ("full", "lora")
REGULARIZERS = ("none", "ewc", "lwf", "l2sp")
EWC_DEFAULT_LAMBDA = 3000.0
"""With the Fisher in loss units, chosen on the tiny reference model's narrow Python fine-tune
(lr 1e-3, 60 steps; tests/train/test_targets.py): it kept all of the plain fine-tune's gain on
held-out Python (1.3%) and cut the mean forgetting of the other languages from 7.2% to 3.4%
(1,000: 4.5%; 10,000: 2.1% but 85% of the gain). On the small reference model it is the old
mean-1 scale's 0.0087 (its forgetting benchmark used 0.005; the old default, 100, kept 6% of
a narrow fine-tune's gain)."""
PROMPT_FORMATS = ("plain", "alpaca", "chatml")
DECAYS = ("cosine", "linear", "constant")
LORA_SAVES = ("merged", "adapter")
LORA_BIASES = ("none", "all", "lora_only")
LORA_INITS = ("default", "pissa")


def _choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise BadInputError(flag, f"must be one of {', '.join(choices)}, got {value!r}")


def _at_least(flag: str, value: float, low: float, *, strict: bool = False) -> None:
    # written so that nan fails too (every comparison with nan is false): a nan learning rate
    # was a torch traceback, a nan EWC strength a model of nans reported as forgetting
    ok = value > low if strict else value >= low
    if not ok or math.isinf(value):
        raise BadInputError(
            flag, f"must be a finite number {'>' if strict else '>='} {low:g}, got {value:g}"
        )


@dataclass(frozen=True)
class TrainConfig:
    """How to fine-tune; two runs with equal configs, base and data give equal weights."""

    method: str = "full"
    """``full`` (every weight) or ``lora`` (low-rank adapters via PEFT)."""
    regularizer: str = "none"
    """``none``, ``ewc``, ``lwf`` or ``l2sp``: what keeps the model near what it knew."""
    learning_rate: float = 5e-5
    """Peak learning rate (after warm-up)."""
    steps: int = 200
    """Optimizer steps."""
    batch_size: int = 8
    """Rows per step, replay rows included."""
    context: int = 0
    """Tokens per row; 0: the model's maximum position count (capped at 1024)."""
    warmup_steps: int = 10
    """Steps of linear warm-up from 0 to the peak learning rate."""
    decay: str = "cosine"
    """``cosine``, ``linear`` or ``constant`` after warm-up."""
    min_lr_ratio: float = 0.1
    """Learning rate at the last step, as a fraction of the peak."""
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    """Maximum global gradient norm; 0 disables clipping."""
    seed: int = 0
    checkpoint_every: int = 50
    """Save the training state every this many steps (0: never) so a crashed run resumes."""
    gradient_checkpointing: bool = False
    """Keep only each layer's input during the forward pass and recompute the rest in the
    backward pass: about a third more compute for activations one layer deep instead of the
    whole model's (the same weights come out, so it is not part of the run's identity)."""
    prompt_format: str = "plain"
    """How instruction and chat records become text: ``plain``, ``alpaca`` or ``chatml``."""
    replay_ratio: float = 0.0
    """Share of every batch drawn from general (replay) data."""
    ewc_lambda: float = EWC_DEFAULT_LAMBDA
    """EWC strength. The Fisher is in the task loss's units (not rescaled), so the penalty is
    ``lambda`` x the quadratic estimate of the rise in general data's loss, the same trade on a
    model of any size."""
    fisher_samples: int = 64
    """Windows of general data the EWC Fisher is estimated on (one gradient each)."""
    lwf_alpha: float = 1.0
    """LwF strength: weight of the KL term next to the task loss."""
    lwf_temperature: float = 2.0
    """LwF softmax temperature (the KL is scaled by its square)."""
    l2sp_alpha: float = 0.01
    """L2-SP strength: ``alpha / 2 * ||theta - theta_0||^2``."""
    target_heldout: float = 0.1
    """Share of the fine-tuning records set aside, never trained on, to measure the target
    gain on (``tripwire.train._target``); 0 trains on every record."""
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    lora_targets: tuple[str, ...] = ()
    """Module names to adapt; empty: PEFT's default for the architecture."""
    lora_bias: str = "none"
    """Biases trained next to the adapters: ``none``, ``all`` (every bias and norm shift) or
    ``lora_only`` (biases of adapted layers)."""
    lora_save: str = "merged"
    """``merged`` (a plain checkpoint) or ``adapter`` (PEFT adapter files next to the base)."""
    lora_plus_ratio: float = 1.0
    """LoRA+ (Hayou et al. 2024): the B matrices learn at this multiple of the learning rate
    (A matrices, biases and norms at the rate itself); 1: plain LoRA."""
    lora_rslora: bool = False
    """Rank-stabilised LoRA: scale adapters by ``alpha / sqrt(r)`` instead of ``alpha / r``, so
    a higher rank does not learn slower."""
    lora_dora: bool = False
    """DoRA: adapt each weight's direction with LoRA and learn its magnitude separately."""
    lora_init: str = "default"
    """How adapters start: ``default`` (PEFT's: A random, B zero) or ``pissa`` (Meng et al.
    2024: the adapters hold each adapted weight's top ``r`` singular directions and the base
    keeps the residual). Both start at the base model's function; PiSSA trains the principal
    directions. PiSSA rewrites the base weights, so it saves merged checkpoints only."""

    def __post_init__(self) -> None:
        _choice("--method", self.method, METHODS)
        _choice("--regularizer", self.regularizer, REGULARIZERS)
        _choice("--prompt-format", self.prompt_format, PROMPT_FORMATS)
        _choice("--decay", self.decay, DECAYS)
        _choice("--lora-save", self.lora_save, LORA_SAVES)
        _choice("--lora-bias", self.lora_bias, LORA_BIASES)
        _choice("--lora-init", self.lora_init, LORA_INITS)
        _at_least("--learning-rate", self.learning_rate, 0.0, strict=True)
        _at_least("--steps", self.steps, 1)
        _at_least("--batch-size", self.batch_size, 1)
        _at_least("--context", self.context, 0)
        _at_least("--warmup-steps", self.warmup_steps, 0)
        _at_least("--weight-decay", self.weight_decay, 0.0)
        _at_least("--grad-clip", self.grad_clip, 0.0)
        _at_least("--checkpoint-every", self.checkpoint_every, 0)
        _at_least("--ewc-lambda", self.ewc_lambda, 0.0)
        _at_least("--fisher-samples", self.fisher_samples, 1)
        _at_least("--lwf-alpha", self.lwf_alpha, 0.0)
        _at_least("--lwf-temperature", self.lwf_temperature, 0.0, strict=True)
        _at_least("--l2sp-alpha", self.l2sp_alpha, 0.0)
        _at_least("--lora-r", self.lora_r, 1)
        _at_least("--lora-plus-ratio", self.lora_plus_ratio, 0.0, strict=True)
        _at_least("--lora-alpha", self.lora_alpha, 0.0, strict=True)
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise BadInputError("--min-lr-ratio", f"must be in [0, 1], got {self.min_lr_ratio:g}")
        if not 0.0 <= self.target_heldout <= 0.5:
            raise BadInputError(
                "--target-heldout", f"must be in [0, 0.5], got {self.target_heldout:g}"
            )
        if not 0.0 <= self.replay_ratio < 1.0:
            raise BadInputError("--replay-ratio", f"must be in [0, 1), got {self.replay_ratio:g}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise BadInputError("--lora-dropout", f"must be in [0, 1), got {self.lora_dropout:g}")
        if self.lora_init != "default" and self.lora_save == "adapter":
            # the adapter would only reproduce the tuned model on top of the rewritten residual
            raise BadInputError(
                "--lora-init",
                f"{self.lora_init} rewrites the base weights, so its adapter does not apply to "
                "the base model: use --lora-save merged",
            )
        object.__setattr__(self, "lora_targets", tuple(self.lora_targets))

    @property
    def uses_general_data(self) -> bool:
        """Replay mixes general data into batches; EWC estimates its Fisher on it."""
        return self.replay_ratio > 0 or self.regularizer == "ewc"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["lora_targets"] = list(self.lora_targets)
        return out

    def identity(self) -> str:
        """Hash of what decides the weights: a saved state resumes only under the same one."""
        decisive = self.to_dict()
        decisive.pop("checkpoint_every")
        decisive.pop("gradient_checkpointing")
        return sha256_json(decisive)
