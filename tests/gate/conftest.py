"""Candidates for the gate, one per incident bug plus clean ones, made from the tiny reference
model once per run and cached on disk by the hash of the code that makes them; and the tokens
audit's fault zoos (tiny model and MiniLM), shared with tests/tokens rather than built again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from filelock import FileLock

from tests.tokens.conftest import BERT, TINY, Variant, _build_zoo
from tripwire.artifacts import ArtifactKind, Manifest, atomic_path, ensure_manifest
from tripwire.gate import Policy, SuitePolicy

CACHE = Path(__file__).resolve().parents[2] / ".tripwire-cache" / "gate-pairs"
# A policy small enough for tests: 30 chunks per language, 5% margin on bits per byte.
TEST_POLICY = Policy(
    suites=(SuitePolicy("retention", {"max_per_language": 30}, {"bits_per_byte": "5%"}),)
)


def _key(reference: Path) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(ensure_manifest(reference, ArtifactKind.MODEL).id.encode())
    return h.hexdigest()[:16]


def _contaminated_training_set(reference: Path, out: Path) -> Path:
    from tripwire.faults import build_contaminated_set
    from tripwire.reference import load_reference_corpus

    corpus = load_reference_corpus(reference, "train")
    planted = build_contaminated_set(corpus, clean=120, per_fault=12, seed=3)
    out.write_text(
        "".join(i.line + "\n" for i in planted.items if i.fault != "bad_format"), encoding="utf-8"
    )
    return out


def _build(reference: Path, root: Path, data_dir: Path) -> None:
    """Models into ``root`` (renamed into place after); training data into ``data_dir``, which
    stays where it is, since each fine-tune records its data's path for the gate to audit."""
    from tripwire.faults import copy_checkpoint, finetune, reassign_ids
    from tripwire.train import TrainConfig, reference_language_data
    from tripwire.train import finetune as train

    base_id = ensure_manifest(reference, ArtifactKind.MODEL).id

    def stamp(path: Path, name: str, how: str) -> None:
        Manifest.build(path, ArtifactKind.MODEL, name=name, parents=[base_id], command=how).write(
            path
        )

    copy_checkpoint(reference, root / "identical")
    stamp(root / "identical", "identical", "copy")
    finetune(reference, root / "clean_finetune", steps=4, lr=1e-4)
    stamp(root / "clean_finetune", "clean_finetune", "4 steps at lr 1e-4")
    reassign_ids(reference, root / "ids_rotated", [" if", " for", " return", " in", " def"])
    stamp(root / "ids_rotated", "ids_rotated", "keyword ids rotated, rows not remapped")
    data_dir.mkdir(parents=True, exist_ok=True)
    data = _contaminated_training_set(reference, data_dir / "experimental.jsonl")
    mild = TrainConfig(learning_rate=5e-4, steps=20, batch_size=8, context=128, replay_ratio=0.5,
                       warmup_steps=2, checkpoint_every=100)  # fmt: skip
    train(reference, data, root / "bad_data", mild, allow_unaudited=True)
    python = reference_language_data(reference, "python", data_dir / "python.jsonl")
    narrow = TrainConfig(learning_rate=3e-3, steps=60, batch_size=8, context=128,
                         warmup_steps=5, checkpoint_every=100)  # fmt: skip
    train(reference, python, root / "narrow", narrow)


@pytest.fixture(scope="session")
def candidates(tiny_reference: Path) -> dict[str, Path]:
    """name -> checkpoint: identical, clean_finetune, ids_rotated, bad_data, narrow."""
    root = CACHE / _key(tiny_reference)
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / "build.lock")):
        if not (root / "done.json").is_file():
            with atomic_path(root) as tmp:
                tmp.mkdir()
                _build(tiny_reference, tmp, CACHE / f"{root.name}-data")
                (tmp / "done.json").write_text(json.dumps({"ok": True}), encoding="utf-8")
    names = ("identical", "clean_finetune", "ids_rotated", "bad_data", "narrow")
    return {n: root / n for n in names}


@pytest.fixture(scope="session")
def tiny_zoo(tiny_reference: Path) -> dict[str, Variant]:
    """The tokens audit's fault zoo on the tiny model (see tests/tokens/conftest.py)."""
    return _build_zoo(tiny_reference, "tiny", TINY, causal=True)


@pytest.fixture(scope="session")
def minilm_zoo(minilm_checkpoint: Path) -> dict[str, Variant]:
    """The same faults on the real MiniLM checkpoint (an encoder: no causal-LM suite runs)."""
    return _build_zoo(minilm_checkpoint, "minilm", BERT, causal=False)
