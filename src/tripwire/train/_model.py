"""The model being tuned: full weights or LoRA adapters (PEFT, loaded lazily), its frozen base
as the LwF teacher, and how the result is saved (a plain checkpoint or an adapter)."""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from tripwire.artifacts import ArtifactKind, Checkpoint, atomic_path, cache_dir, ensure_manifest
from tripwire.errors import BadInputError, UnavailableError
from tripwire.train._config import TrainConfig

ADAPTER_CONFIG = "adapter_config.json"
# Copied byte for byte, so the tuned model's tokenizer hash equals the base's.
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "tokenizer.model",
    "added_tokens.json",
    "chat_template.jinja",
)


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise UnavailableError(
            "--method lora", "needs the peft package (pip install peft)"
        ) from None
    return peft


def _uses_conv1d(model: torch.nn.Module) -> bool:
    from transformers.pytorch_utils import Conv1D

    return any(isinstance(m, Conv1D) for m in model.modules())


def load_for_training(ckpt: Checkpoint, config: TrainConfig) -> torch.nn.Module:
    """The base model in float32, wrapped with fresh LoRA adapters for ``--method lora``."""
    if not ckpt.is_causal_lm:
        raise BadInputError(ckpt.path, "not a causal language model (config names no LM head)")
    model = ckpt.load_model(causal=True).float()
    if config.method == "full":
        return model
    peft = _peft()
    lora = peft.LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        bias=config.lora_bias,
        target_modules=list(config.lora_targets) or None,
        fan_in_fan_out=_uses_conv1d(model),
        use_rslora=config.lora_rslora,
        use_dora=config.lora_dora,
        init_lora_weights=True if config.lora_init == "default" else config.lora_init,
        task_type="CAUSAL_LM",
    )
    # PiSSA rewrites each adapted weight into a residual: tied embeddings must not carry a
    # head's rewrite into the input table (or the reverse)
    tied = _untie_for_rewrite(model) if config.lora_init != "default" else None
    try:
        with warnings.catch_warnings():
            # PEFT asks transformers 5 a question it has renamed; nothing for a user to act on
            warnings.filterwarnings(
                "ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning
            )
            wrapped = peft.get_peft_model(model, lora)
    except ValueError as exc:
        raise BadInputError("--lora-targets", str(exc).splitlines()[0]) from exc
    if tied is not None:
        _retie_if_untouched(wrapped, tied)
    wrapped.peft_config["default"].base_model_name_or_path = str(ckpt.path.resolve())
    return wrapped


def enable_checkpointing(model: torch.nn.Module) -> None:
    """Gradient checkpointing in every block (transformers' own, non-reentrant so frozen
    inputs need no ``requires_grad`` trick under LoRA)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # type: ignore[operator]
    if not getattr(inner, "supports_gradient_checkpointing", False):
        raise BadInputError(
            "--gradient-checkpointing", f"{type(inner).__name__} does not support it"
        )
    # named activation_checkpointing_enable since transformers 5
    enable = getattr(inner, "activation_checkpointing_enable", None)
    if enable is None:
        enable = inner.gradient_checkpointing_enable
        enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        return
    import inspect

    kw = "activation_checkpointing_kwargs"
    if kw not in inspect.signature(enable).parameters:
        kw = "gradient_checkpointing_kwargs"
    enable(**{kw: {"use_reentrant": False}})


def _untie_for_rewrite(model: torch.nn.Module) -> torch.Tensor | None:
    """Give a tied head its own copy of the table; returns the shared table (None: not tied)."""
    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    if head is None or head.weight is not emb.weight:
        return None
    shared = emb.weight
    _untie(head, model)
    return shared


def _retie_if_untouched(wrapped: torch.nn.Module, shared: torch.Tensor) -> None:
    """Tie the head back when neither side got an adapter (so neither was rewritten)."""
    base = wrapped.get_base_model()  # type: ignore[operator]
    emb, head = base.get_input_embeddings(), base.get_output_embeddings()
    if not hasattr(emb, "base_layer") and not hasattr(head, "base_layer"):
        head.weight = shared
        base.config.tie_word_embeddings = True


class Teacher:
    """The starting model's logits, for LwF: callable on ids (the whole logits), and in parts
    (``hidden`` then ``logits`` of chosen positions) so the training loop can take its logits a
    chunk of positions at a time."""

    def __init__(self, model: torch.nn.Module, adapters_off: bool) -> None:
        from tripwire.train._step import CausalParts

        self.model = model
        self.adapters_off = adapters_off
        self.parts = CausalParts.of(model)

    def _context(self) -> Any:
        return self.model.disable_adapter() if self.adapters_off else contextlib.nullcontext()  # type: ignore[operator]

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        with self._context():
            return self.model(input_ids=ids).logits

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        with self._context():
            return self.parts.hidden(ids)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        with self._context():
            return self.parts.head(hidden)


def frozen_teacher(model: torch.nn.Module, config: TrainConfig) -> Teacher:
    """Logits of the starting model: a frozen copy, or the LoRA model with adapters disabled
    (the base weights never change under LoRA, so no copy is needed; PiSSA's base is a
    residual, not the starting model, so it gets the copy)."""
    if config.method == "lora" and config.lora_init == "default":
        return Teacher(model, adapters_off=True)
    base = copy.deepcopy(model).eval()
    for p in base.parameters():
        p.requires_grad_(False)
    return Teacher(base, adapters_off=False)


def copy_tokenizer(base: Path, out: Path) -> None:
    for name in _TOKENIZER_FILES:
        if (base / name).is_file():
            shutil.copy2(base / name, out / name)


def _untie_adapted_head(model: torch.nn.Module) -> None:
    """An adapter on one side of tied embeddings (``--lora-target lm_head`` or ``wte``)
    changes that side only: untie them before merging, or the merge would change both."""
    base = model.get_base_model()  # type: ignore[operator]
    emb, head = base.get_input_embeddings(), base.get_output_embeddings()
    emb_layer = getattr(emb, "base_layer", emb)
    head_layer = getattr(head, "base_layer", head)
    if head_layer is None or (emb_layer is emb and head_layer is head):
        return
    if head_layer.weight is emb_layer.weight:
        _untie(head_layer, base)


def _untie(head: torch.nn.Module, model: torch.nn.Module) -> None:
    """Give the output head its own copy of the table it shares with the input embeddings."""
    head.weight = torch.nn.Parameter(head.weight.detach().clone(), requires_grad=False)
    model.config.tie_word_embeddings = False


def save_tuned(model: torch.nn.Module, config: TrainConfig, base: Path, out: Path) -> None:
    """Write the result to ``out``: a loadable HF checkpoint, or a PEFT adapter directory."""
    out.mkdir(parents=True, exist_ok=True)
    if config.method == "lora" and config.lora_save == "merged":
        _untie_adapted_head(model)
        model = model.merge_and_unload()  # type: ignore[operator]
    model.save_pretrained(out, safe_serialization=True)
    copy_tokenizer(base, out)


def load_tuned(path: str | Path, device: str | None = None) -> torch.nn.Module:
    """A tuned model in eval mode: a checkpoint, or an adapter applied to its recorded base."""
    path = Path(path)
    if not (path / ADAPTER_CONFIG).is_file():
        return Checkpoint.open(path).load_model(causal=True).to(pick_device(device))
    peft = _peft()
    try:
        base_dir = json.loads((path / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise BadInputError(path / ADAPTER_CONFIG, f"unreadable adapter config: {exc}") from exc
    base = Checkpoint.open(base_dir).load_model(causal=True)
    return peft.PeftModel.from_pretrained(base, path).eval().to(pick_device(device))


def pick_device(name: str | None) -> torch.device:
    """``name``, or the GPU when there is one."""
    if name:
        try:
            return torch.device(name)
        except RuntimeError as exc:
            raise BadInputError("--device", str(exc)) from exc
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_context(ckpt: Checkpoint, config: TrainConfig) -> int:
    """Tokens per training row: the configured context, within the model's positions."""
    limit = int(ckpt.config.get("n_positions") or ckpt.config.get("max_position_embeddings") or 0)
    if config.context:
        if limit and config.context > limit:
            raise BadInputError("--context", f"{config.context} exceeds the model's {limit}")
        return config.context
    return min(limit or 1024, 1024)


def merged_checkpoint(path: str | Path) -> Path:
    """A plain checkpoint for ``path``: itself, or for a LoRA adapter the adapter merged into its
    base, kept in the cache by the adapter's content id (evaluation backends load checkpoints)."""
    path = Path(path)
    if not (path / ADAPTER_CONFIG).is_file():
        return path
    out = cache_dir() / "merged-adapters" / ensure_manifest(path, ArtifactKind.MODEL).id[:16]
    if not (out / "config.json").is_file():
        with atomic_path(out) as tmp:
            model = load_tuned(path, "cpu")
            _untie_adapted_head(model)
            model.merge_and_unload().save_pretrained(tmp, safe_serialization=True)
            copy_tokenizer(path, tmp)
    return out
