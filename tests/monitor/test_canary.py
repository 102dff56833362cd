"""Canaries against real OpenAI-compatible servers on loopback serving the tiny reference model:
identical deployments agree round after round; a deployment whose weights are corrupted (as a
faulty serving path would corrupt them) disagrees at temperature 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.openai_server import serve
from tripwire.errors import BadInputError
from tripwire.faults import perturb
from tripwire.monitor import Endpoint, run_canaries

pytestmark = pytest.mark.slow


def test_same_model_agrees_and_a_broken_deployment_is_named(
    tiny_reference: Path, tmp_path: Path
) -> None:
    broken = perturb(tiny_reference, tmp_path / "broken", scale=0.5)
    with (
        serve(tiny_reference, name="m") as a,
        serve(tiny_reference, name="m") as b,
        serve(broken.path, name="m") as c,
    ):
        healthy = [Endpoint.parse(f"a=openai:{a}#m"), Endpoint.parse(f"b=openai:{b}#m")]
        rounds = run_canaries(healthy, rounds=2, every_s=0.0)
        codes = {f.code for r in rounds for f in r.findings}
        assert "monitor.canary_disagreement" not in codes and "monitor.canary_changed" not in codes
        assert len(rounds[1].answers) == len(rounds[0].answers) > 0
        (mixed,) = run_canaries([healthy[0], Endpoint.parse(f"c=openai:{c}#m")], rounds=1)
    disagreements = [f for f in mixed.findings if f.code == "monitor.canary_disagreement"]
    assert disagreements, [f.code for f in mixed.findings]
    groups = disagreements[0].evidence["groups"]
    assert sorted(e for names in groups.values() for e in names) == ["a", "c"] and len(groups) == 2


def test_endpoint_spec_is_validated() -> None:
    with pytest.raises(BadInputError, match="NAME=openai:URL#MODEL"):
        Endpoint.parse("http://localhost:8000")
    with pytest.raises(BadInputError, match="at least one endpoint"):
        run_canaries([])
