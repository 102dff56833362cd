"""`tripwire monitor replay` through the real CLI on a recorded stream."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monitor.conftest import CLI, FAULT_START, FAULTY, WARMUP, write_stream
from tripwire.artifacts import ArtifactKind, Manifest, Registry
from tripwire.cli import main
from tripwire.monitor import KNOWN_GOOD, Event, Traffic, simulate


def _tripwire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def _register_versions(tmp_path: Path) -> dict[str, str]:
    """v1 (marked known-good) and its child v2, as the registry knows them."""
    reg = Registry()
    ids = {}
    for name, parents in (("v1", ()), ("v2", ("v1",))):
        d = tmp_path / name
        d.mkdir()
        (d / "weights.bin").write_bytes(name.encode() * 100)
        m = Manifest.build(d, ArtifactKind.MODEL, name=name, parents=[ids[p] for p in parents])
        reg.register(m, d)
        ids[name] = m.id
    reg.mark(ids["v1"], KNOWN_GOOD, note="passed the release gate")
    return ids


def test_replay_finds_the_corrupting_slice(faulty_stream: Path, tmp_path: Path) -> None:
    ids = _register_versions(tmp_path)
    out = tmp_path / "alerts.json"
    r = _tripwire(
        "monitor", "replay", str(faulty_stream), "--json", str(out), "--warmup", str(WARMUP)
    )
    assert r.returncode == 1, r.stderr  # alerts mean a regression
    report = json.loads(out.read_text())
    alerts = report["alerts"]
    assert alerts, report
    assert report["verdict"] == "block"  # the verdict words every --json uses
    assert {a["slice"]["hardware"] for a in alerts} == {FAULTY}
    assert {a["slice"]["model_version"] for a in alerts} == {"v2"}
    assert "unexpected_script" in {a["metric"] for a in alerts}
    first = min(alerts, key=lambda a: a["event_index"])
    assert set(first) >= {"metric", "slice", "event_index", "change_index", "effect"}
    assert FAULT_START <= first["change_index"] < FAULT_START + 300
    assert first["event_index"] - FAULT_START < 1000
    assert first["effect"] > 0.02
    assert first["rollback_target"]["version"] == "v1"
    assert first["rollback_target"]["registry_id"] == ids["v1"]
    assert any(d["model_version"] == "v2" for d in first["deploys_near_change"])
    assert report["events"] == 4800


@pytest.mark.parametrize("method", ["cusum", "msprt"])
def test_replay_is_quiet_on_healthy_traffic(tmp_path: Path, method: str) -> None:
    """A prompt-mix shift raises nothing, with either method (mSPRT is one-sided: answers
    better than the robust baseline, the usual case, are no evidence of a change)."""
    path = write_stream(
        tmp_path / "ok.jsonl", simulate(Traffic(n=6000, seed=11, mix_shift_at=3000))
    )
    r = _tripwire("monitor", "replay", str(path), "--json", "-", "--warmup", "500",
                  "--method", method)  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["alerts"] == [] and report["judged_events"] > 4000
    assert report["verdict"] == "pass"


def test_msprt_replay_finds_the_corrupting_slice(faulty_stream: Path, tmp_path: Path) -> None:
    """The mSPRT's exact mixture (valid at rare rates) still finds the fault, on its slice,
    with an always-valid p-value under the FDR level."""
    out = tmp_path / "alerts.json"
    r = _tripwire("monitor", "replay", str(faulty_stream), "--json", str(out), "--warmup",
                  str(WARMUP), "--method", "msprt")  # fmt: skip
    assert r.returncode == 1, r.stderr
    alerts = json.loads(out.read_text())["alerts"]
    assert alerts and {a["slice"]["hardware"] for a in alerts} == {FAULTY}
    first = min(alerts, key=lambda a: a["event_index"])
    assert first["event_index"] - FAULT_START < 1500
    assert all(a["p_value"] <= 0.01 for a in alerts)


@pytest.mark.parametrize("seed", [103, 104, 105])
def test_msprt_is_quiet_on_healthy_traffic_at_rare_rates(tmp_path: Path, seed: int) -> None:
    """Healthy streams whose rare flags (truncation in C, a sampler's not-top-1 on
    JavaScript) once alarmed: the normal-mixture mSPRT rejected all three at FDR 1%; the exact
    mixture is valid at any rate."""
    path = write_stream(
        tmp_path / "ok.jsonl", simulate(Traffic(n=8000, seed=seed, mix_shift_at=4000))
    )
    out = tmp_path / "r.json"
    r = _tripwire("monitor", "replay", str(path), "--json", str(out), "--warmup", "1000",
                  "--method", "msprt")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["alerts"] == []


REFUSAL = "I'm sorry, but I can't help with that request."


@pytest.mark.parametrize("method", ["cusum", "msprt"])
def test_refusals_rising_where_requests_name_no_language_are_found(
    tmp_path: Path, method: str
) -> None:
    """Chat requests name no language; an answer's language comes from its own code fence,
    which a refusal does not have. Stratified by it, every refusal sat in the no-language
    stratum (where refusals are the norm) and refusals going from 0.3% to 4% of chat answers
    were never found; judged in the request's stratum, they are."""
    rng = random.Random(1)
    events = []
    for i, ev in enumerate(simulate(Traffic(n=12000, seed=1, mix_shift_at=8000))):
        if isinstance(ev, Event) and i >= 6000 and ev.route == "chat" and rng.random() < 0.04:
            ev = ev.model_copy(update={"completion": REFUSAL})
        events.append(ev)
    path = write_stream(tmp_path / "refusals.jsonl", events)
    out = tmp_path / "r.json"
    r = _tripwire("monitor", "replay", str(path), "--json", str(out), "--warmup", "2000",
                  "--method", method)  # fmt: skip
    assert r.returncode == 1, r.stderr
    alerts = json.loads(out.read_text())["alerts"]
    # (a stream at the default per-stream ARL may also raise an unrelated false alarm)
    refusals = [a for a in alerts if a["metric"] == "empty_or_refusal"]
    assert refusals and {a["slice"]["route"] for a in refusals} == {"chat"}
    assert 6000 < min(a["event_index"] for a in refusals) < 8000


def test_malformed_line_is_bad_input(faulty_stream: Path, tmp_path: Path, capsys) -> None:
    lines = faulty_stream.read_text().splitlines()[:20]
    lines[6] = lines[6][:-5]  # cut off mid-object
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.json"
    assert main(["monitor", "replay", str(bad), "--json", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert len(stderr.strip().splitlines()) == 1
    assert f"{bad}:7" in stderr.replace("\n", "") and "not valid JSON" in stderr
    assert not out.exists() and list(tmp_path.glob("out.json*")) == []

    invalid = json.loads(lines[3])
    invalid["latency_ms"] = -1
    lines[6] = json.dumps(invalid)
    bad.write_text("\n".join(lines) + "\n")
    assert main(["monitor", "replay", str(bad), "--json", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert f"{bad}:7" in stderr and "latency_ms" in stderr
    assert not out.exists()


def test_a_stream_out_of_time_order_is_named(faulty_stream: Path, tmp_path: Path) -> None:
    """Two servers' logs concatenated: the second starts an hour before the first ends. Replay
    judges the file in its own order (as the server judges arrivals) and says so, naming the
    first such line; an in-order stream gets no such notice."""
    lines = faulty_stream.read_text().splitlines()
    half = len(lines) // 2
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines[half:] + lines[:half]) + "\n")
    out = tmp_path / "r.json"
    r = _tripwire("monitor", "replay", str(mixed), "--json", str(out), "--warmup", str(WARMUP))
    late = json.loads(out.read_text())["out_of_order"]
    assert late["records"] >= half - 10 and late["first_line"] == len(lines) - half + 1
    assert f"first at line {late['first_line']}" in r.stderr and "sort it by ts" in r.stderr
    r = _tripwire("monitor", "replay", str(faulty_stream), "--json", str(out), "--warmup",
                  str(WARMUP))  # fmt: skip
    assert json.loads(out.read_text())["out_of_order"]["records"] == 0
    assert "sort it by ts" not in r.stderr
