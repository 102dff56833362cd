"""Gate results and an incident in the shapes the gate and the demo write (fixtures in
conftest.py).

Eval slices are not typed in: they come from ``tripwire.stats`` run on per-item scores drawn
for each scenario (a narrow fine-tune raising python bits/byte, a contaminated set inflating
HumanEval, a clean pair), so deltas, intervals, p-values and statuses are the real computation's.
Finding messages and a sample carry an HTML/JS injection that every renderer must neutralise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tripwire.stats import Margin, adjust_slices, compare_slice

# Both payloads would retitle the page if they ever became elements.
INJECT_SCRIPT = "<script>document.title='pwned-script'</script>"
INJECT_IMG = "<img src=x onerror=\"document.title='pwned-img'\">"
INJECTION = INJECT_SCRIPT + INJECT_IMG

LANGUAGES = ("python", "javascript", "c", "perl", "shell")
BASE = {"path": "/models/ref-small", "id": "a3f9c2e1b7d4" + "0" * 52, "name": "ref-small"}


def _model(name: str, digit: str) -> dict[str, str]:
    return {"path": f"/models/{name}", "id": digit * 12 + "5e" * 26, "name": name}


def _retention(shift: dict[str, float], seed: int) -> dict[str, Any]:
    """Bits/byte per held-out file, baseline vs candidate, slices by language."""
    rng = np.random.default_rng(seed)
    comparisons = []
    pooled_b, pooled_c = [], []
    for lang in LANGUAGES:
        base = rng.normal(2.1, 0.25, 60).clip(0.5)
        cand = base * (1 + shift.get(lang, 0.0)) + rng.normal(0, 0.03, 60)
        pooled_b.append(base)
        pooled_c.append(cand)
        comparisons.append(
            compare_slice(
                f"language={lang}",
                "bits_per_byte",
                base,
                cand,
                higher_is_better=False,
                margin=Margin.parse("2%"),
            )
        )
    comparisons.insert(
        0,
        compare_slice(
            "all",
            "bits_per_byte",
            np.concatenate(pooled_b),
            np.concatenate(pooled_c),
            higher_is_better=False,
            margin=Margin.parse("2%"),
        ),
    )
    slices = [c.to_dict() for c in adjust_slices(comparisons, 0.05, "holm")]
    verdict = "block" if any(s["regressed"] for s in slices) else "pass"
    return _suite("retention", verdict, slices)


def _humaneval(p_base: float, p_cand: float, seed: int) -> dict[str, Any]:
    """Pass/fail per problem; the candidate flips a share of problems."""
    rng = np.random.default_rng(seed)
    base = (rng.random(164) < p_base).astype(float)
    cand = base.copy()
    flip = rng.random(164) < abs(p_cand - p_base) / max(p_base, 1 - p_base)
    cand[flip] = 1.0 if p_cand > p_base else 0.0
    comparisons = [
        compare_slice(
            "all",
            "pass",
            base,
            cand,
            higher_is_better=True,
            binary=True,
            margin=Margin.parse("0.02"),
        )
    ]
    slices = [c.to_dict() for c in adjust_slices(comparisons, 0.05, "holm")]
    verdict = "block" if any(s["regressed"] for s in slices) else "pass"
    return _suite("humaneval", verdict, slices)


def _suite(name: str, verdict: str, slices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "suite": name,
        "verdict": verdict,
        "alpha": 0.05,
        "correction": "holm",
        "baseline_run": f"/runs/{name}/base",
        "candidate_run": f"/runs/{name}/cand",
        "slices": slices,
    }


def _policy() -> dict[str, Any]:
    return {
        "alpha": 0.05,
        "correction": "holm",
        "suites": [
            {
                "name": "retention",
                "options": {"split": "heldout"},
                "margins": {"bits_per_byte": "2%"},
                "slice_margins": {},
            },
            {
                "name": "humaneval",
                "options": {"samples": 1},
                "margins": {"pass": "0.02"},
                "slice_margins": {"pass@all": "0.02"},
            },
        ],
        "block": ["token_ids_changed", "failing_tests", "benchmark_contamination", "regression"],
        "warn": ["segmentation_changed", "low_quality"],
        "ignore": [],
    }


def _lineage(candidate: dict[str, str], changes: list[dict[str, Any]], data: bool) -> dict:
    nodes = [
        {"id": "0" * 12, "name": "ref-small-init", "kind": "model", "role": "ancestor"},
        {"id": BASE["id"], "name": BASE["name"], "kind": "model", "role": "baseline"},
        {"id": candidate["id"], "name": candidate["name"], "kind": "model", "role": "candidate"},
    ]
    edges = [["0" * 12, BASE["id"]], [BASE["id"], candidate["id"]]]
    training = None
    if data:
        nodes.append({"id": "d" * 12, "name": "finetune.jsonl", "kind": "dataset", "role": "input"})
        edges.append(["d" * 12, candidate["id"]])
        training = {
            "data": {"path": "finetune.jsonl", "records": 2400},
            "config": {"epochs": 3, "lr": 3e-4},
            "base": {"id": BASE["id"]},
        }
    return {"changes": changes, "nodes": nodes, "edges": edges, "training": training}


def _eval_findings(evals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the gate makes of every slice that did not pass (gate/_evals.py)."""
    out = []
    for e in evals:
        for s in e["slices"]:
            if s["status"] == "pass":
                continue
            message = (
                f"{e['suite']} {s['metric']} on {s['slice']}: {s['baseline']:.4g} -> "
                f"{s['candidate']:.4g} ({s['delta']:+.4g}, CI [{s['ci_low']:+.4g}, "
                f"{s['ci_high']:+.4g}], margin {s['margin']:.3g}, n={s['n']})"
            )
            code, severity = ("regression", "block") if s["regressed"] else ("inconclusive", "warn")
            out.append(
                _finding("eval", code, severity, message, evidence={"suite": e["suite"], **s})
            )
    return out


def _result(cand, changes, root_cause, findings, evals, audit: str, trained: bool) -> dict:
    """The shape of ``GateResult.to_dict()``; finding codes carry their source as a prefix."""
    findings = findings + _eval_findings(evals)
    severities = {f["severity"] for f in findings}
    verdict = next((v for v in ("block", "warn") if v in severities), "pass")
    lineage = _lineage(cand, changes, trained)
    checks = ["lineage", audit, *(f"eval:{e['suite']}" for e in evals)]
    return {
        "verdict": verdict,
        "exit_code": 1 if verdict == "block" else 0,
        "baseline": dict(BASE),
        "candidate": cand,
        "policy": _policy(),
        "lineage": lineage,
        "root_cause": root_cause,
        "findings": findings,
        "evals": evals,
        "checks_run": checks,
        "cached": False,
        "seconds": 41.7,
    }


def _finding(source, code, severity, message, **extra) -> dict[str, Any]:
    return {
        "source": source,
        "code": f"{source}.{code}",
        "severity": severity,
        "message": message,
        "token_ids": extra.get("token_ids", []),
        "record_ids": extra.get("record_ids", []),
        "evidence": extra.get("evidence", {}),
    }


def tokens_block() -> dict[str, Any]:
    cand = _model("ref-small-tok2", "1")
    ids = list(range(1700, 2112))
    findings = [
        _finding(
            "tokens",
            "token_ids_changed",
            "block",
            "ids of 412 tokens reassigned without embedding remap " + INJECTION,
            token_ids=ids,
            evidence={"reassigned": 412, "examples": ["def", "self", "):"]},
        ),
        _finding(
            "tokens",
            "segmentation_changed",
            "warn",
            "3.1% of probe texts segment differently",
            evidence={"changed_share": 0.031},
        ),
        _finding("lineage", "tokenizer_changed", "info", "tokenizer.json differs"),
    ]
    root = {
        "source": "tokens",
        "code": "tokens.token_ids_changed",
        "message": "ids of 412 tokens reassigned without embedding remap",
        "evidence": {"reassigned": 412, "sample": INJECTION},
        "remedy": "tripwire tokens repair /models/ref-small /models/ref-small-tok2 "
        "--out /models/ref-small-tok2-repaired",
    }
    changes = [
        {
            "component": "tokenizer",
            "files": ["tokenizer.json", "vocab.json"],
            "detail": "412 ids reassigned, 0 added",
        }
    ]
    evals = [_retention({lang: 0.35 for lang in LANGUAGES}, seed=1)]
    return _result(cand, changes, root, findings, evals, "tokens", False)


def data_block() -> dict[str, Any]:
    cand = _model("ref-small-ft-contaminated", "2")
    findings = [
        _finding(
            "data",
            "failing_tests",
            "block",
            "14% of training records fail their own tests (336 of 2400)",
            record_ids=[f"rec-{i:05d}" for i in range(0, 3360, 10)],
            evidence={"share": 0.14, "records": 336},
        ),
        _finding(
            "data",
            "benchmark_contamination",
            "block",
            "41 records contain HumanEval problems",
            record_ids=["rec-00017", "rec-00452"],
            evidence={"benchmark": "humaneval"},
        ),
        _finding("data", "secret", "warn", "2 records contain credentials (redacted)"),
    ]
    root = {
        "source": "data",
        "code": "data.failing_tests",
        "message": "14% of training records fail their own tests",
        "evidence": {"records": 336, "share": 0.14},
        "remedy": "tripwire data audit finetune.jsonl --clean finetune.clean.jsonl && retrain",
    }
    changes = [
        {"component": "training_data", "files": ["finetune.jsonl"], "detail": "new set"},
        {"component": "weights", "files": ["model.safetensors"], "detail": "fine-tuned"},
    ]
    evals = [_retention({"python": 0.03}, seed=2), _humaneval(0.30, 0.38, seed=2)]
    return _result(cand, changes, root, findings, evals, "data", True)


def eval_block() -> dict[str, Any]:
    cand = _model("ref-small-ft-narrow", "3")
    evals = [_retention({"python": 0.18, "javascript": 0.04}, seed=3)]
    py = next(s for s in evals[0]["slices"] if s["slice"] == "language=python")
    findings: list[dict[str, Any]] = []
    root = {
        "source": "eval",
        "code": "eval.regression",
        "message": "python bits/byte +18% after a narrow fine-tune",
        "evidence": {"suite": "retention", "slice": "language=python", "delta": py["delta"]},
        "remedy": "tripwire train /models/ref-small narrow.jsonl --replay 0.3 --out ft-replay",
    }
    changes = [
        {"component": "weights", "files": ["model.safetensors"], "detail": "fine-tuned"},
        {"component": "training_config", "files": [], "detail": "lr 3e-3, 8 epochs"},
    ]
    return _result(cand, changes, root, findings, evals, "data", True)


def clean_pass() -> dict[str, Any]:
    cand = _model("ref-small-ft-replay", "4")
    changes = [{"component": "weights", "files": ["model.safetensors"], "detail": "fine-tuned"}]
    evals = [_retention({}, seed=4), _humaneval(0.30, 0.30, seed=4)]
    return _result(cand, changes, None, [], evals, "data", True)


SCENARIOS = {"tokens": tokens_block, "data": data_block, "eval": eval_block, "pass": clean_pass}


def incident(gate_results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The demo's incident report: three bugs, each blocked, remedied and re-gated."""
    passing = gate_results["pass"]
    bugs = []
    for name, title, injected, remedy, command in [
        (
            "tokens",
            "Tokenizer update without embedding remap",
            "tokenizer retrained; 412 token ids reassigned, embedding rows left in place",
            "Copy embedding rows by token string",
            "tripwire tokens repair base cand --out fixed",
        ),
        (
            "data",
            "Fine-tune on a contaminated set",
            "14% broken records and 41 HumanEval problems mixed into the fine-tuning set",
            "Audit, clean and retrain",
            "tripwire data audit ft.jsonl --clean ft.clean.jsonl",
        ),
        (
            "eval",
            "Aggressive narrow fine-tune",
            "8 epochs at lr 3e-3 on python-only data",
            "Retrain with replay of the original mix",
            "tripwire train base ft.jsonl --replay 0.3",
        ),
    ]:
        bugs.append(
            {
                "name": name,
                "title": title,
                "injected": injected,
                "evidence": [
                    f"gate root cause: {gate_results[name]['root_cause']['code']}",
                    "model sample: " + INJECTION,
                ],
                "gate": gate_results[name],
                "remedy": {"description": remedy, "command": command, "gate": passing},
            }
        )
    timeline = [
        {"step": 0, "event": "reference model built", "model": "ref-small", "verdict": None}
    ]
    for i, b in enumerate(bugs, 1):
        timeline.append(
            {
                "step": 2 * i - 1,
                "event": f"candidate: {b['title']}",
                "model": b["gate"]["candidate"]["name"],
                "verdict": "block",
            }
        )
        timeline.append(
            {
                "step": 2 * i,
                "event": f"remedy: {b['remedy']['description']}",
                "model": "ref-small-fixed",
                "verdict": "pass",
            }
        )
    chain = ["v1", "v2", "v3", "v4", "v5"]
    return {
        "title": "Incident 2024-03: three silent regressions in a code model release",
        "generated_at": "2024-03-14T09:30:00+00:00",
        "tripwire_version": "0.1.0",
        "reference": {
            "profile": "small",
            "id": BASE["id"],
            "path": BASE["path"],
            "languages": [
                {"language": lang, "model_bits_per_byte": 2.0 + i / 10, "files": 40}
                for i, lang in enumerate(LANGUAGES)
            ],
        },
        "summary": "Three changes shipped in one week each degraded the model; each is now caught.",
        "timeline": timeline,
        "bugs": bugs,
        "bisect": {
            "good": "v1",
            "bad": "v5",
            "steps": [
                {"id": f"{v}-id", "name": v, "verdict": "pass" if v < "v4" else "block"}
                for v in chain
            ],
            "first_bad": {"id": "v4-id", "name": "v4"},
        },
        "monitor": {
            "lines": ["window 12: python syntax_valid 0.91 -> 0.74 (CUSUM alarm)", INJECTION],
            "alert": {"metric": "syntax_valid", "slice": "language=python", "step": 12},
        },
        "lessons": [
            "Version every component: data, tokenizer and model.",
            "Validate automatically before every release.",
            "Find which change caused a regression, then roll back.",
        ],
    }
