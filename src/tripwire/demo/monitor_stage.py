"""Demo stage: production traffic from a release that silently starts corrupting outputs on one
hardware type (the incident's serving-path fault: characters from unexpected scripts and broken
code), replayed through the monitor's detectors; the alert must name the slice, place the change
near the truth and name the last known-good version from the registry as the rollback target."""

from __future__ import annotations

import json
from pathlib import Path

from tripwire.artifacts import ArtifactKind, Manifest, Registry
from tripwire.demo._stage import StageContext, StageResult
from tripwire.monitor import KNOWN_GOOD, DetectorConfig, Fault, Traffic, replay, simulate

EVENTS = 4800
RELEASE_AT = 2400
WARMUP = 1000
"""Per route (two routes): baselines from the first ~2,000 events, all before the release."""
FAULTY = "tpu-v5e"
RATE = 0.05
# the change-point estimate must land within this many stream events of the truth
CHANGE_TOLERANCE = 300


def _register(registry: Registry, root: Path) -> dict[str, str]:
    """Two versions of the served model: v1 passed the gate (known-good), v2 is its child."""
    ids: dict[str, str] = {}
    for name, parent in (("v1", None), ("v2", "v1")):
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "model.txt").write_text(f"served model {name}\n", encoding="utf-8")
        parents = [ids[parent]] if parent else []
        m = Manifest.build(d, ArtifactKind.MODEL, name=name, parents=parents)
        registry.register(m, d)
        ids[name] = m.id
    if not registry.marks(ids["v1"], KNOWN_GOOD):
        registry.mark(ids["v1"], KNOWN_GOOD, note="passed the release gate")
    return ids


def monitor_stage(ctx: StageContext) -> StageResult:
    """Simulate, record, replay, and check the alert against the injected truth."""
    work = ctx.workdir
    work.mkdir(parents=True, exist_ok=True)
    registry = Registry(f"sqlite:///{work / 'registry.db'}")
    try:
        ids = _register(registry, work / "versions")
        traffic = Traffic(
            n=EVENTS, seed=7, versions=((0, "v1"), (RELEASE_AT, "v2")),
            faults=(Fault(start=RELEASE_AT, rate=RATE, hardware=FAULTY, model_version="v2"),),
        )  # fmt: skip
        stream = work / "events.jsonl"
        with stream.open("w", encoding="utf-8") as fh:
            for r in simulate(traffic):
                fh.write(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n")
        report = replay(stream, DetectorConfig(warmup=WARMUP), registry, ctx.progress)
    finally:
        registry.close()
    alerts = sorted(report["alerts"], key=lambda a: a["event_index"])
    first = alerts[0] if alerts else None
    right_slice = bool(alerts) and all(
        a["slice"]["hardware"] == FAULTY and a["slice"]["model_version"] == "v2" for a in alerts
    )
    near = first is not None and abs(first["change_index"] - RELEASE_AT) <= CHANGE_TOLERANCE
    target = (first or {}).get("rollback_target") or {}
    rollback_ok = target.get("registry_id") == ids["v1"]
    ok = right_slice and near and rollback_ok
    lines = [
        f"{EVENTS} events replayed; v2 released at event {RELEASE_AT} corrupts {RATE:.0%} of "
        f"its outputs on {FAULTY} only",
    ]
    if first:
        lines += [
            f"first alert: {first['metric']} on {first['slice_label']}",
            f"estimated change at event {first['change_index']} (truth {RELEASE_AT}), alarm at "
            f"event {first['event_index']} ({first['event_index'] - RELEASE_AT} events after)",
            f"rollback target: {target.get('version', '-')} ({target.get('reason', 'none')})",
        ]
    else:
        lines.append("NO alert raised")
    rows = [
        [a["metric"], a["slice"]["hardware"], a["slice"]["route"], str(a["change_index"]),
         str(a["event_index"]), f"{a['baseline_rate']:.4f} -> {a['rate_after_change']:.4f}"]
        for a in alerts
    ]  # fmt: skip
    return StageResult(
        name="monitor",
        title="Production monitor: silent output corruption on one hardware slice",
        ok=ok,
        lines=lines,
        columns=["metric", "hardware", "route", "change at", "alarm at", "rate"],
        rows=rows,
        data={"truth": {"change_index": RELEASE_AT, "hardware": FAULTY, "model_version": "v2"},
              "alerts": alerts, "right_slice": right_slice, "change_near_truth": near,
              "rollback_ok": rollback_ok},
    )  # fmt: skip


# `tripwire demo` calls each stage module's `run`
run = monitor_stage
