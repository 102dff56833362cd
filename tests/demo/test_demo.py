"""`tripwire demo` on the tiny reference model: the bisect stage names the first bad nightly and
the CLI writes the incident report with what each stage proved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import tripwire
from tripwire.artifacts import Registry
from tripwire.demo import StageContext
from tripwire.demo.bisect_stage import BAD_AT
from tripwire.demo.bisect_stage import run as bisect_stage

pytestmark = pytest.mark.slow


def test_bisect_stage_finds_the_bad_nightly(tiny_reference: Path, tmp_path: Path) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    result = bisect_stage(StageContext(tiny_reference, tmp_path, registry=registry))
    assert result.ok, result.lines
    assert result.data["first_bad"]["name"] == f"nightly-{BAD_AT}"
    assert result.data["gate_runs"] <= 4
    first_gate = result.data["gates"][f"nightly-{BAD_AT}"]
    assert first_gate["root_cause"]["source"] == "tokens"
    assert result.data["rollback"]["id"] == registry.last_good().id


def test_demo_cli_writes_the_incident_report(tmp_path: Path) -> None:
    report = tmp_path / "incident.html"
    args = ["demo", "--profile", "tiny", "--only", "tokens", "--only", "monitor",
            "--workdir", str(tmp_path / "work"), "--report", str(report)]  # fmt: skip
    r = tripwire(*args, "--json", str(tmp_path / "d.json"), timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    d = json.loads((tmp_path / "d.json").read_text())
    assert [s["name"] for s in d["stages"]] == ["tokens", "monitor"]
    assert all(s["ok"] for s in d["stages"])
    html = report.read_text()
    assert "rows_remapped" in html and "tripwire tokens repair" in html
    assert Registry(d["registry"]).list()  # the demo recorded its versions


@pytest.mark.parametrize("model", ["reference", "smollm2"])
def test_every_stage_module_loads(model: str) -> None:
    """Each stage the demo runs imports and has ``run`` (the SmolLM2 flow's HumanEval stage once
    imported a name its package did not export: a traceback after 30 minutes of earlier stages)."""
    import importlib

    from tripwire.cli.demo import REAL_STAGES, STAGES

    for _name, module in STAGES if model == "reference" else REAL_STAGES:
        assert callable(importlib.import_module(module).run)


def test_the_postmortem_claims_only_what_ran() -> None:
    """``--only humaneval`` on SmolLM2 once read "the incident's three bugs were injected ...
    blocked 0 of 0"; the summary names what ran."""
    from tripwire.demo import StageResult
    from tripwire.demo._incident import incident_document

    humaneval = StageResult(name="humaneval", title="HumanEval through the chat template",
                            ok=True, lines=["base: pass@1 0.055"])  # fmt: skip
    doc = incident_document({"profile": "smollm2"}, [humaneval])
    assert doc["summary"] == ("No bug stage ran on SmolLM2-135M-Instruct in this run. Also run: "
                              "HumanEval through the chat template.")  # fmt: skip
    assert doc["stages"][0]["lines"] == ["base: pass@1 0.055"]
