"""A GGUF file (llama.cpp's format) made into a normal Hugging Face checkpoint.

transformers reads GGUF files and dequantizes them (``gguf_file=...``, needs the ``gguf``
package), but refuses to save the result ("quantized with gguf and is not serializable"): the
config still carries the GGUF quantization. So the weights are moved, without a copy, into a
fresh model of the same class built from a clean config, which saves as float32 safetensors.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.errors import BadInputError, UnavailableError

# What transformers adds to a config loaded from GGUF that describes the file, not the model.
_FILE_KEYS = ("quantization_config", "_name_or_path", "_model_name_or_path", "_commit_hash")


def convert_gguf(gguf: Path, out: Path) -> dict[str, str]:
    """Write ``gguf`` as a float32 checkpoint with its tokenizer (and chat template) into ``out``;
    returns what it was (architecture, model type)."""
    try:
        import gguf as _  # noqa: F401 - transformers needs it to read the file
    except ImportError:
        raise UnavailableError(
            gguf, "reading GGUF needs the gguf package: pip install 'tripwire[smollm2]'"
        ) from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                  dtype=torch.float32)  # fmt: skip
    settings = {k: v for k, v in loaded.config.to_dict().items() if k not in _FILE_KEYS}
    config = type(loaded.config)(**settings)
    config.architectures = [type(loaded).__name__]
    with torch.device("meta"):
        model = type(loaded)(config)
    # assign: the dequantized tensors become the new model's, nothing is copied or initialised
    model.load_state_dict(loaded.state_dict(), strict=False, assign=True)
    model.tie_weights()
    missing = [n for n, p in model.named_parameters() if p.is_meta]
    if missing:
        raise BadInputError(gguf, f"weights missing after conversion: {', '.join(missing[:4])}")
    model.generation_config = loaded.generation_config
    model.eval().save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return {"architecture": type(loaded).__name__, "model_type": str(config.model_type)}
