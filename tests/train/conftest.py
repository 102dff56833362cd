"""Fixtures for the training tests: a micro GPT-2 for exact arithmetic, and one language of the
tiny reference model's training split as fine-tune data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from tripwire.train import reference_language_data


@pytest.fixture
def micro_model() -> GPT2LMHeadModel:
    """A real (randomly initialised) GPT-2 small enough to check penalties by hand."""
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=11,
        n_positions=8,
        n_embd=4,
        n_layer=1,
        n_head=2,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(config).eval()


@pytest.fixture
def python_data(tiny_reference: Path, tmp_path: Path) -> Path:
    """The first few python training files of the tiny reference model."""
    return reference_language_data(tiny_reference, "python", tmp_path / "python.jsonl", limit=6)
