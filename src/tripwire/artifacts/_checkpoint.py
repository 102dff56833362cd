"""Open a local Hugging Face checkpoint directory offline and read its parts.

Embedding matrices are read straight from the weight files (memory-mapped safetensors), so an
audit of a 150k x 4096 table never builds the model.
"""

from __future__ import annotations

import functools
import json
import math
import os
import stat
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
    # last: T5/BART's shared table, Mamba/RWKV's (their names are generic enough to appear
    # inside other architectures, so the specific names above win when both are present)
    "shared.weight",
    "embeddings.weight",
)
_OUTPUT_HEAD_SUFFIXES = (
    "lm_head.weight",
    "embed_out.weight",
    "output.weight",
    "decoder.weight",
    "head.weight",  # RWKV
)
# Names generic enough to end a layer's weight too (RWKV's ``blocks.0.att.output.weight`` is a
# hidden x hidden projection, not the head): they count only at the top or one level down.
_SHALLOW_SUFFIXES = frozenset(
    {"shared.weight", "embeddings.weight", "output.weight", "head.weight"}
)
_OUTPUT_BIAS_SUFFIXES = ("lm_head.bias", "decoder.bias", "predictions.bias", "final_logits_bias")


# Bytes per element of the safetensors dtypes whose size is a whole number of bytes; others
# (4- and 6-bit floats) are left for safetensors itself to check when a tensor is read.
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


def _regular_file(path: Path, what: str) -> int:
    """The size of ``path``, which must be a regular file: a FIFO would hang the read, and a
    directory or a link to nowhere would surface as a bare OSError."""
    try:
        info = path.stat()
    except OSError as exc:
        problem = "a symlink to nowhere" if path.is_symlink() else exc.strerror or str(exc)
        raise BadInputError(path, f"unreadable {what}: {problem}") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise BadInputError(path, f"unreadable {what}: {kind}")
    return info.st_size


def _read_safetensors_header(path: Path) -> tuple[int, Any]:
    size = _regular_file(path, "safetensors file")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise BadInputError(path, "truncated safetensors file (no header)")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8 or n > 100_000_000:
                raise BadInputError(path, f"truncated safetensors file (header says {n} bytes)")
            header = json.loads(f.read(n))
    except OSError as exc:
        raise BadInputError(path, f"unreadable safetensors file: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInputError(path, f"corrupt safetensors header: {exc}") from exc
    return n, header


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_extent(path: Path, name: str, entry: Any) -> tuple[tuple[int, ...], int]:
    """One header entry's shape and the end of its data, checked the way the readers use them
    (a view of ``data_offsets`` bytes as ``shape``)."""

    def bad(problem: str) -> BadInputError:
        return BadInputError(path, f"corrupt safetensors header: tensor {name!r} {problem}")

    if not isinstance(entry, dict):
        raise bad(f"is {type(entry).__name__}, not an object")
    shape, offsets, dtype = entry.get("shape"), entry.get("data_offsets"), entry.get("dtype")
    if not isinstance(shape, list) or not all(_whole(d) for d in shape):
        raise bad(f"has no valid shape (got {shape!r})")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_whole(o) for o in offsets):
        raise bad(f"has no valid data_offsets (got {offsets!r})")
    if not isinstance(dtype, str):
        raise bad(f"has no valid dtype (got {dtype!r})")
    begin, end = offsets
    if end < begin:
        raise bad(f"has data_offsets {offsets} that end before they begin")
    width = _DTYPE_BYTES.get(dtype)
    need = math.prod(shape) * width if width is not None else end - begin
    if end - begin != need:
        raise bad(f"holds {end - begin} bytes, but {dtype} {shape} needs {need}")
    return tuple(shape), end


def _check_safetensors(path: Path) -> dict[str, tuple[int, ...]]:
    """Validate a safetensors file's header against its length; return its tensors' shapes."""
    n, header = _read_safetensors_header(path)
    if not isinstance(header, dict):
        raise BadInputError(
            path, f"corrupt safetensors header: a JSON {type(header).__name__}, not an object"
        )
    shapes: dict[str, tuple[int, ...]] = {}
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise BadInputError(
                    path, "corrupt safetensors header: __metadata__ is not an object of strings"
                )
            continue
        shapes[name], stop = _tensor_extent(path, name, entry)
        end = max(end, stop)
    size = path.stat().st_size
    if 8 + n + end > size:
        raise BadInputError(
            path, f"truncated safetensors file ({size} bytes, tensors need {8 + n + end})"
        )
    return shapes


def _check_shard_index(root: Path, single: str, tensors: dict[str, Path] | None) -> None:
    """A sharded checkpoint's index must name files that are there, holding the tensors it
    says: a missing shard would otherwise read as a checkpoint without those tensors (a
    missing output head as a tied one). Skipped, as transformers does, when the single-file
    ``single`` is present; ``tensors`` (the tensors found, by file) is None for .bin shards,
    whose contents are not read here."""
    index_path = root / f"{single}.index.json"
    if (root / single).exists() or not (index_path.exists() or index_path.is_symlink()):
        return
    _regular_file(index_path, "shard index")
    data = _read_json_or_none(index_path)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise BadInputError(index_path, "not a shard index (no weight_map of tensor -> file)")
    for tensor, name in weight_map.items():
        shard = root / name
        if "/" in name or "\\" in name or not shard.is_file():
            raise BadInputError(index_path, f"names shard {name!r} (for {tensor!r}), not in {root}")
        if tensors is not None and tensors.get(tensor) != shard:
            raise BadInputError(index_path, f"says {tensor!r} is in {name!r}, which lacks it")


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
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadInputError(cfg_path, f"unreadable config: {exc}") from exc
        if not isinstance(config, dict):
            raise BadInputError(cfg_path, "config is not a JSON object")
        index: dict[str, Path] = {}
        shapes: dict[str, tuple[int, ...]] = {}
        weights = sorted(path.glob("*.safetensors"))
        for w in weights:
            for name, shape in _check_safetensors(w).items():
                index[name], shapes[name] = w, shape
        if weights:
            _check_shard_index(path, "model.safetensors", index)
        else:
            weights = sorted(path.glob("pytorch_model*.bin"))
            for w in weights:
                _regular_file(w, "weights")
            _check_shard_index(path, "pytorch_model.bin", None)
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
        value = self.config.get("architectures") or []
        if isinstance(value, str):  # list("LlamaForCausalLM") would be its letters
            value = [value]
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise BadInputError(
                self.path / "config.json", f"architectures must be a list of names, got {value!r}"
            )
        return list(value)

    @property
    def is_causal_lm(self) -> bool:
        """True when the config names a causal-LM architecture (generation is possible)."""
        return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in self.architectures)

    @property
    def vocab_size(self) -> int | None:
        """The config's vocab_size, None when unset; anything but a positive whole number is
        bad input (``int("lots")`` would crash, ``int(1.5)`` would quietly drop a row)."""
        v = self.config.get("vocab_size")
        if v is None:
            return None
        whole = isinstance(v, int) or (isinstance(v, float) and v.is_integer())
        if isinstance(v, bool) or not whole or v < 1:
            raise BadInputError(
                self.path / "config.json", f"vocab_size must be a positive whole number, got {v!r}"
            )
        return int(v)

    @property
    def tie_word_embeddings(self) -> bool:
        """Whether transformers ties the output head to the input embeddings on load: the
        config's value, else the model class's default (untied for Llama, Mistral, Qwen2)."""
        v = self.config.get("tie_word_embeddings")
        if v is None:
            return _class_ties(self.model_type)
        if not isinstance(v, bool):
            # transformers reads any non-empty string as true: "false" would tie silently
            raise BadInputError(
                self.path / "config.json", f"tie_word_embeddings must be true or false, got {v!r}"
            )
        return v

    # --- weights ----------------------------------------------------------------------------
    @cached_property
    def _bin_state(self) -> dict[str, torch.Tensor]:
        import torch

        state: dict[str, torch.Tensor] = {}
        for w in self.weight_files:
            try:
                loaded = torch.load(w, map_location="cpu", mmap=True, weights_only=True)
            except Exception as exc:
                raise BadInputError(w, f"unreadable weights: {exc}") from exc
            if not isinstance(loaded, dict):
                raise BadInputError(w, f"not a state dict (a {type(loaded).__name__})")
            # a training checkpoint also holds steps, optimizer state and nested dicts: only
            # top-level tensors are weights
            state.update((k, v) for k, v in loaded.items() if isinstance(v, torch.Tensor))
        return state

    @property
    def _safetensors(self) -> bool:
        # not ``self._index``: a safetensors file holding no tensors is not a torch pickle
        return any(w.suffix == ".safetensors" for w in self.weight_files)

    def tensor_names(self) -> list[str]:
        return sorted(self._index) if self._safetensors else sorted(self._bin_state)

    def tensor_shape(self, name: str) -> tuple[int, ...]:
        """A tensor's shape from the safetensors header, without reading its data."""
        if self._safetensors:
            if name not in self._shapes:
                raise BadInputError(self.path, f"no tensor named {name!r}")
            return self._shapes[name]
        return tuple(self.read_tensor(name).shape)

    def read_tensor(self, name: str) -> torch.Tensor:
        """One tensor, memory-mapped from safetensors where possible."""
        if self._safetensors:
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
            if suffix in _SHALLOW_SUFFIXES:
                hits = [n for n in hits if n.count(".") - suffix.count(".") <= 1]
            if hits:
                return min(hits, key=len)
        return None

    @property
    def input_embedding_name(self) -> str:
        name = self._find(_INPUT_EMBEDDING_SUFFIXES)
        if name is None:
            raise BadInputError(self.path, "no input-embedding tensor found in the weights")
        return self._table(name)

    @property
    def output_head_name(self) -> str | None:
        """The separate output projection, or None when the weights store only a tied table."""
        name = self._find(_OUTPUT_HEAD_SUFFIXES)
        return None if name is None else self._table(name)

    def _table(self, name: str) -> str:
        """``name``, checked to be a table (rows by width): its rows are counted as tokens."""
        shape = self.tensor_shape(name)
        if len(shape) != 2:
            where = self._index.get(name, self.path)
            raise BadInputError(where, f"{name} is not a matrix (shape {tuple(shape)})")
        return name

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


@functools.cache
def _class_ties(model_type: str) -> bool:
    """The default tie_word_embeddings of ``model_type``'s config class, read without weights."""
    try:
        from transformers import AutoConfig

        return bool(AutoConfig.for_model(model_type).tie_word_embeddings)
    except (ImportError, ValueError, KeyError, TypeError, AttributeError):
        # a model type transformers does not know: PretrainedConfig's default
        return True


def _read_json_or_none(path: Path) -> dict[str, Any] | None:
    """An optional JSON object beside the weights, None when absent."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInputError(path, f"unreadable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadInputError(path, f"must be a JSON object, got {type(data).__name__}")
    return data
