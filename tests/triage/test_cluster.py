"""Clusters of reports: shared label, slices, and growth after a deploy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tripwire.cli import main
from tripwire.triage import Triager
from tripwire.triage._cluster import Deploy, Item, cluster_reports

T0 = datetime(2026, 11, 2, tzinfo=UTC)
PANDAS = [
    "AttributeError: module 'pandas' has no attribute 'read_jsonl'",
    "it calls pandas.read_jsonl, pandas has no such function",
    "pandas.read_jsonl does not exist, AttributeError",
    "the pandas call read_jsonl isn't a real function",
    "module 'pandas' has no attribute 'read_jsonl' again",
    "read_jsonl is not in pandas, it invented it",
]
SLOW = [
    "responses take twenty seconds now",
    "it is really slow today, answers take ages",
    "answers take ages, twenty seconds each",
]


def _items() -> list[Item]:
    items = [Item(t, "performance_regression", T0 + timedelta(hours=i), {"model_version": "v1"})
             for i, t in enumerate(SLOW * 2)]  # fmt: skip
    items.append(Item(PANDAS[0], "incorrect_api_usage", T0 + timedelta(hours=9),
                      {"model_version": "v1"}))  # fmt: skip
    items += [Item(t, "incorrect_api_usage", T0 + timedelta(hours=13, minutes=10 * i),
                   {"model_version": "v2", "language": "python"})
              for i, t in enumerate(PANDAS * 2)]  # fmt: skip
    return items


def test_a_pattern_that_grows_after_a_deploy_is_flagged(model: Triager) -> None:
    deploy = Deploy(T0 + timedelta(hours=12), "v2", "eu")
    # a deploy when collection starts: no reports before it is no evidence of growth after it
    first = Deploy(T0, "v1", "eu")
    clusters = cluster_reports(_items(), [first, deploy], model.encoder)
    pandas = clusters[0]
    assert pandas.size == 13
    assert "pandas" in pandas.label and "read_jsonl" in pandas.label
    assert pandas.categories == {"incorrect_api_usage": 13}
    assert pandas.slices["model_version"] == {"v2": 12, "v1": 1}
    assert [g["deploy"] for g in pandas.grew_after] == ["v2"]
    # equal windows within what was collected: the last report is 2 h 50 min after the deploy
    assert pandas.grew_after[0]["before"] == 0 and pandas.grew_after[0]["after"] == 12
    slow = [c for c in clusters if "performance_regression" in c.categories]
    assert slow and all(not c.grew_after for c in slow)


def test_cli_clusters(tmp_path: Path, model: Triager) -> None:
    rows: list[dict] = [{"text": it.text, "ts": it.ts.isoformat(), **it.slice}
                        for it in _items() if it.ts]  # fmt: skip
    rows.insert(7, {"type": "deploy", "ts": (T0 + timedelta(hours=12)).isoformat(),
                    "model_version": "v2"})  # fmt: skip
    src, out = tmp_path / "s.jsonl", tmp_path / "o.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["monitor", "triage", str(src), "--clusters", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["results"]) == len(rows) - 1  # the deploy line is not a report
    top = doc["clusters"][0]
    assert top["grew_after"] and 8 not in top["members"]  # members are line numbers


def test_too_few_reports() -> None:
    assert cluster_reports([Item("one", "other")]) == []
