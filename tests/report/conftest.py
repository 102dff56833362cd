"""Fixtures: realistic gate results and an incident report (built in scenarios.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.report import scenarios


@pytest.fixture(scope="session")
def _gate_results() -> dict[str, dict[str, Any]]:
    return {name: build() for name, build in scenarios.SCENARIOS.items()}


@pytest.fixture
def gate_results(_gate_results) -> dict[str, dict[str, Any]]:
    """One gate result per scenario (tokens, data, eval, pass); a copy, so tests may corrupt it."""
    return copy.deepcopy(_gate_results)


@pytest.fixture
def incident(gate_results) -> dict[str, Any]:
    """The demo's incident report: three bugs, each blocked, remedied and re-gated."""
    return scenarios.incident(gate_results)
