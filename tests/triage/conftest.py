"""One trained triager for the whole session: the encoder loads once per process and the
training set's embeddings come from the on-disk cache after the first run."""

from __future__ import annotations

import pytest

from tripwire.triage import Triager, triager


@pytest.fixture(scope="session")
def model() -> Triager:
    return triager()
