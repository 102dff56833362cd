"""Open a local Hugging Face checkpoint directory offline and read its parts.

Embedding matrices are read straight from the weight files (memory-mapped safetensors), so an
audit of a 150k x 4096 table never builds the model.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.errors import BadInputError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Nothing tripwire does may reach a model hub: every load is from a local directory.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model")
# Suffixes of the input-embedding and output-head weights across common architectures.
_INPUT_EMBEDDING_SUFFIXES = (
    "wte.weight",
    "embed_tokens.weight",
    "word_embeddings.weight",
    "tok_embeddings.weight",
    "embed_in.weight",
    "wte.embedding.weight",
)
_OUTPUT_HEAD_SUFFIXES = ("lm_head.weight", "embed_out.weight", "output.weight", "decoder.weight")
_OUTPUT_BIAS_SUFFIXES = ("lm_head.bias", "decoder.bias", "predictions.bias", "final_logits_bias")


def _check_safetensors(path: Path) -> dict[str, tuple[int, ...]]:
    """Validate a safetensors file's header against its length; return its tensors' shapes."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise BadInputError(path, "truncated safetensors file (no header)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100_000_000:
            raise BadInputError(path, f"truncated safetensors file (header says {n} bytes)")
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInputError(path, f"corrupt safetensors header: {exc}") from exc
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end > size:
        raise BadInputError(
            path, f"truncated safetensors file ({size} bytes, tensors need {8 + n + end})"
        )
    return {k: tuple(v.get("shape", ())) for k, v in header.items() if k != "__metadata__"}


@dataclass
class Checkpoint:
    """A validated local checkpoint directory."""

    path: Path
    config: dict[str, Any]
    weight_files: list[Path]
    _index: dict[str, Path] = field(default_factory=dict, repr=False)
    _shapes: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path, *, require_tokenizer: bool = True) -> Checkpoint:
        """Validate ``path`` as a checkpoint; every problem is a one-line ``BadInputError``."""
        path = Path(path)
        if not path.exists():
            raise BadInputError(path, "no such file or directory")
        if not path.is_dir():
            raise BadInputError(path, "not a directory (a checkpoint is a directory)")
        cfg_path = path / "config.json"
        if not cfg_path.is_file():
            raise BadInputError(path, "not a Hugging Face checkpoint (no config.json)")
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInputError(cfg_path, f"unreadable config: {exc}") from exc
        if not isinstance(config, dict):
            raise BadInputError(cfg_path, "config is not a JSON object")
        index: dict[str, Path] = {}
        shapes: dict[str, tuple[int, ...]] = {}
        weights = sorted(path.glob("*.safetensors"))
        for w in weights:
            for name, shape in _check_safetensors(w).items():
                index[name], shapes[name] = w, shape
        if not weights:
            weights = sorted(path.glob("pytorch_model*.bin"))
        if not weights:
            raise BadInputError(path, "no weights (no *.safetensors or pytorch_model*.bin)")
        if require_tokenizer and not any((path / f).is_file() for f in _TOKENIZER_FILES):
            raise BadInputError(
                path, f"no tokenizer (none of {', '.join(_TOKENIZER_FILES)} is present)"
            )
        return cls(path=path, config=config, weight_files=weights, _index=index, _shapes=shapes)

    # --- what it is -------------------------------------------------------------------------
    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", "unknown"))

    @property
    def architectures(self) -> list[str]:
        return list(self.config.get("architectures") or [])

    @property
    def is_causal_lm(self) -> bool:
        """True when the config names a causal-LM architecture (generation is possible)."""
        return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in self.architectures)

    @property
    def vocab_size(self) -> int | None:
        v = self.config.get("vocab_size")
        return int(v) if v is not None else None

    @property
    def tie_word_embeddings(self) -> bool:
        """What the config claims (transformers defaults to tied when unset)."""
        return bool(self.config.get("tie_word_embeddings", True))

    # --- weights ----------------------------------------------------------------------------
    @cached_property
    def _bin_state(self) -> dict[str, torch.Tensor]:
        import torch

        state: dict[str, torch.Tensor] = {}
        for w in self.weight_files:
            try:
                state.update(torch.load(w, map_location="cpu", mmap=True, weights_only=True))
            except Exception as exc:
                raise BadInputError(w, f"unreadable weights: {exc}") from exc
        return state

    def tensor_names(self) -> list[str]:
        return sorted(self._index) if self._index else sorted(self._bin_state)

    def tensor_shape(self, name: str) -> tuple[int, ...]:
        """A tensor's shape from the safetensors header, without reading its data."""
        if self._index:
            if name not in self._shapes:
                raise BadInputError(self.path, f"no tensor named {name!r}")
            return self._shapes[name]
        return tuple(self.read_tensor(name).shape)

    def read_tensor(self, name: str) -> torch.Tensor:
        """One tensor, memory-mapped from safetensors where possible."""
        if self._index:
            from safetensors import SafetensorError, safe_open

            if name not in self._index:
                raise BadInputError(self.path, f"no tensor named {name!r}")
            file = self._index[name]
            try:
                with safe_open(file, framework="pt") as f:
                    return f.get_tensor(name)
            except SafetensorError as exc:
                raise BadInputError(file, f"unreadable tensor {name!r}: {exc}") from exc
        if name not in self._bin_state:
            raise BadInputError(self.path, f"no tensor named {name!r}")
        return self._bin_state[name]

    def _find(self, suffixes: tuple[str, ...]) -> str | None:
        names = self.tensor_names()
        for suffix in suffixes:
            hits = [n for n in names if n == suffix or n.endswith("." + suffix)]
            if hits:
                return min(hits, key=len)
        return None

    @property
    def input_embedding_name(self) -> str:
        name = self._find(_INPUT_EMBEDDING_SUFFIXES)
        if name is None:
            raise BadInputError(self.path, "no input-embedding tensor found in the weights")
        return name

    @property
    def output_head_name(self) -> str | None:
        """The separate output projection, or None when the weights store only a tied table."""
        return self._find(_OUTPUT_HEAD_SUFFIXES)

    @property
    def output_bias_name(self) -> str | None:
        return self._find(_OUTPUT_BIAS_SUFFIXES)

    def input_embeddings(self) -> torch.Tensor:
        return self.read_tensor(self.input_embedding_name)

    def output_embeddings(self) -> torch.Tensor | None:
        name = self.output_head_name
        return None if name is None else self.read_tensor(name)

    # --- full objects -----------------------------------------------------------------------
    def load_tokenizer(self) -> PreTrainedTokenizerBase:
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        except Exception as exc:
            raise BadInputError(self.path, f"tokenizer does not load: {exc}") from exc

    def load_model(self, *, causal: bool | None = None) -> PreTrainedModel:
        """The model in eval mode; a causal LM head when the config names one."""
        from transformers import AutoModel, AutoModelForCausalLM

        cls = (
            AutoModelForCausalLM if (self.is_causal_lm if causal is None else causal) else AutoModel
        )
        try:
            model = cls.from_pretrained(self.path, local_files_only=True)
        except Exception as exc:
            raise BadInputError(self.path, f"model does not load: {exc}") from exc
        return model.eval()

    def tokenizer_json(self) -> dict[str, Any] | None:
        """The raw tokenizer.json, when the checkpoint has one."""
        return _read_json_or_none(self.path / "tokenizer.json")

    def tokenizer_config(self) -> dict[str, Any]:
        return _read_json_or_none(self.path / "tokenizer_config.json") or {}

    def special_tokens_map(self) -> dict[str, Any]:
        return _read_json_or_none(self.path / "special_tokens_map.json") or {}


def _read_json_or_none(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"unreadable JSON: {exc}") from exc
