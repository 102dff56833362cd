"""Demo stage: production traffic from a release that silently starts corrupting outputs on one
hardware type (the incident's serving-path fault: characters from unexpected scripts and broken
code), replayed through the monitor's detectors; the alert must name the slice, place the change
near the truth and name the last known-good version from the registry as the rollback target.

Users write in too: a trickle of everyday reports of every kind all along (set A's held-out
reports, which triage never trained on), and after the release some users of corrupted answers
describe what they see, in their own words and languages. Clustered by meaning
(``tripwire.triage``), the reports must show the pattern the seed's first diagnostic step looks
for: a cluster that grew after the v2 deploy, coming from the faulty hardware."""

from __future__ import annotations

import json
from pathlib import Path

from tripwire.artifacts import ArtifactKind, Manifest, Registry
from tripwire.demo._stage import StageContext, StageResult
from tripwire.monitor import (
    KNOWN_GOOD,
    Deploy,
    DetectorConfig,
    Event,
    Fault,
    Feedback,
    Traffic,
    check_event,
    replay,
    simulate,
)

EVENTS = 4800
RELEASE_AT = 2400
WARMUP = 1000
"""Per route (two routes): baselines from the first ~2,000 events, all before the release."""
FAULTY = "tpu-v5e"
RATE = 0.05
# the change-point estimate must land within this many stream events of the truth
CHANGE_TOLERANCE = 300
BACKGROUND_REPORTS = 1 / 80
"""Everyday reports per event, on every slice, before and after the release."""
BROKEN_REPORTS = 0.6
"""Share of the users shown a corrupted answer who write in."""
# What users of corrupted answers wrote (several ways, several languages, few textbook words).
CORRUPTION_REPORTS = (
    "the function it gave me has a Thai letter stuck in the middle of a variable name, python "
    "refuses to run it",
    "weird characters inside the code block (Cyrillic? Chinese?), it does not compile anymore",
    "Since this morning the answers contain random non-Latin glyphs in identifiers. Copy-paste "
    "fails every time.",
    "garbage unicode in the output: retuกrn instead of return",
    "SyntaxError: invalid character in identifier, there are strange symbols in the middle of "
    "the code",
    "Der Code enthält plötzlich seltsame Schriftzeichen mitten in den Bezeichnern und lässt sich "
    "nicht kompilieren.",
    "El código trae caracteres raros (como chino) en medio de las variables y no compila.",
    "half the snippets today have corrupted letters in them, like totaล. Never happened last week",
    "foreign letters pasted into keywords, the compiler chokes on them",
    "le code contient des caractères bizarres au milieu des noms de variables, impossible de "
    "compiler",
)


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
        records = _with_reports(simulate(traffic))
        stream = work / "events.jsonl"
        with stream.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n")
        report = replay(stream, DetectorConfig(warmup=WARMUP), registry, ctx.progress)
    finally:
        registry.close()
    patterns = _patterns(records)
    alerts = sorted(report["alerts"], key=lambda a: a["event_index"])
    first = alerts[0] if alerts else None
    right_slice = bool(alerts) and all(
        a["slice"]["hardware"] == FAULTY and a["slice"]["model_version"] == "v2" for a in alerts
    )
    near = first is not None and abs(first["change_index"] - RELEASE_AT) <= CHANGE_TOLERANCE
    target = (first or {}).get("rollback_target") or {}
    rollback_ok = target.get("registry_id") == ids["v1"]
    ok = right_slice and near and rollback_ok and patterns["found"]
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
    lines += patterns["lines"]
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
              "rollback_ok": rollback_ok, "feedback_patterns": patterns["clusters"]},
    )  # fmt: skip


def _with_reports(stream: list[Event | Deploy]) -> list[Event | Deploy | Feedback]:
    """The stream with users' reports after the answers they are about."""
    import random

    from tripwire.triage import load

    everyday = [r.text for r in load("reports") if r.split == "heldout"]
    rng = random.Random(11)
    out: list[Event | Deploy | Feedback] = []
    for r in stream:
        out.append(r)
        if not isinstance(r, Event):
            continue
        where = {"model_version": r.model_version, "deployment": r.deployment,
                 "hardware": r.hardware, "route": r.route}  # fmt: skip
        text = None
        if check_event(r).flags["unexpected_script"] and rng.random() < BROKEN_REPORTS:
            text = rng.choice(CORRUPTION_REPORTS)
        elif rng.random() < BACKGROUND_REPORTS:
            text = rng.choice(everyday)
        if text is not None:
            out.append(Feedback(event_id=r.event_id, ts=r.ts, thumbs="down", text=text, **where))
    return out


def _patterns(records: list[Event | Deploy | Feedback]) -> dict:
    """Clusters of the reports by meaning; found when one grew after v2 and came mostly from the
    faulty hardware."""
    from tripwire.triage import Deploy as Rollout
    from tripwire.triage import Item, classify, cluster_reports

    reports = [r for r in records if isinstance(r, Feedback)]
    verdicts = classify([r.text for r in reports])
    items = [Item(r.text, v.category, r.ts,
                  {"model_version": r.model_version or "", "hardware": r.hardware or ""})
             for r, v in zip(reports, verdicts, strict=True)]  # fmt: skip
    rollouts = [Rollout(r.ts, r.model_version, r.deployment) for r in records
                if isinstance(r, Deploy)]  # fmt: skip
    clusters = cluster_reports(items, rollouts)
    grown = [c for c in clusters if any(g["deploy"] == "v2" for g in c.grew_after)]
    lines = [f"user reports: {len(reports)}, in {len(clusters)} clusters by meaning; "
             f"{len(grown)} grew after the v2 deploy"]  # fmt: skip
    found = False
    for c in grown[:3]:
        g = next(g for g in c.grew_after if g["deploy"] == "v2")
        on_faulty = c.slices.get("hardware", {}).get(FAULTY, 0)
        found = found or on_faulty > c.size / 2
        lines.append(
            f"pattern {c.label!r}: {c.size} reports, {g['before']} -> {g['after']} in equal "
            f"windows around v2 (p {g['p_value']:.2g}); {on_faulty} from {FAULTY}; triaged "
            + ", ".join(f"{k} {v}" for k, v in c.categories.items())
        )
    if not found:
        lines.append(f"NO report pattern on {FAULTY} grew after the release")
    from dataclasses import asdict

    shown = [{k: v for k, v in asdict(c).items() if k != "members"} for c in clusters[:10]]
    return {"lines": lines, "found": found, "clusters": shown}


# `tripwire demo` calls each stage module's `run`
run = monitor_stage
