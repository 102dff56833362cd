"""Streaming, sharding, resume, Parquet input, bad input, and the Ray engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.data import AuditConfig, audit, input_files, plan_shards, read_shard
from tripwire.data._records import FieldMap
from tripwire.errors import BadInputError

GOOD = "def add(a, b):\n    return a + b\n"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_jsonl_shards_cover_every_line_once_with_line_numbers(tmp_path):
    lines = [json.dumps({"text": f"x_{i} = {i}\n", "language": "python"}) for i in range(500)]
    path = _write(tmp_path / "a.jsonl", lines)
    shards = plan_shards(input_files([path]), target_bytes=2000)
    assert len(shards) > 5
    seen = [(rec.line, rec.id, raw) for s in shards for raw, rec in read_shard(s, FieldMap())]
    assert [line for line, _, _ in seen] == list(range(1, 501))
    assert [rid for _, rid, _ in seen] == list(range(1, 501))  # no id: the line number
    assert [raw.decode() for _, _, raw in seen] == lines


def test_malformed_lines_are_findings_not_crashes(tmp_path):
    path = _write(
        tmp_path / "bad.jsonl",
        [
            json.dumps({"id": "ok", "text": GOOD, "language": "python"}),
            '{"id": "cut", "text": "def f(',
            "[1, 2]",
            json.dumps({"id": "chat", "messages": [{"role": "user", "content": "hi"}]}),
            json.dumps({"id": "empty", "prompt": "p", "response": ""}),
        ],
    )
    result, _ = audit([path], config=AuditConfig(workers=1), findings=tmp_path / "f.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["ok", 2, 3, "chat", "empty"]
    assert rows[0]["keep"]
    for row in rows[1:]:
        assert row["reasons"] == ["bad_format"], row
    assert "malformed JSON" in rows[1]["details"]["bad_format"]["problems"][0]
    assert result.by_reason["bad_format"] == 4


def test_parquet_input_and_field_mapping(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "task": ["a", "b", "c"],
            "content": [GOOD, GOOD, "def broken(:\n    pass\n"],
            "lang": ["python"] * 3,
        }
    )
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=1)
    config = AuditConfig(
        workers=1, fields=FieldMap.parse(["id=task", "text=content", "language=lang"])
    )
    audit([tmp_path], config=config, findings=tmp_path / "f.jsonl", clean=tmp_path / "c.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [(r["id"], r["reasons"]) for r in rows] == [
        ("a", []),
        ("b", ["exact_duplicate"]),
        ("c", ["syntax_error"]),
    ]
    assert rows[1]["details"]["exact_duplicate"]["duplicate_of"] == "a"
    assert json.loads((tmp_path / "c.jsonl").read_text())["task"] == "a"


def test_rerun_with_same_outputs_resumes_finished_shards(tmp_path, contaminated):
    data = contaminated.write_jsonl(tmp_path / "set.jsonl")
    config = AuditConfig(allow_sources=contaminated.allow_sources, workers=1, shard_bytes=300_000)
    outs = {"findings": tmp_path / "f.jsonl", "clean": tmp_path / "c.jsonl"}
    first, _ = audit([data], config=config, **outs)
    assert first.shards > 2 and first.shards_resumed == 0
    # A crash mid-way loses one shard's marker: only that shard is redone.
    markers = sorted((tmp_path / "f.jsonl.tripwire-work").glob("*.map.done"))
    markers[1].unlink()
    before = outs["findings"].read_bytes(), outs["clean"].read_bytes()
    second, _ = audit([data], config=config, **outs)
    assert second.shards_resumed == first.shards - 1
    assert (outs["findings"].read_bytes(), outs["clean"].read_bytes()) == before
    # A different configuration invalidates every marker.
    third, _ = audit([data], config=AuditConfig(workers=1, shard_bytes=300_000), **outs)
    assert third.shards_resumed == 0


def test_bad_input_leaves_no_output(tmp_path):
    with pytest.raises(BadInputError):
        audit([tmp_path / "missing.jsonl"], findings=tmp_path / "f.jsonl")
    path = _write(tmp_path / "a.jsonl", [json.dumps({"text": GOOD})])
    bad_bench = _write(tmp_path / "bench.jsonl", ["not json"])
    with pytest.raises(BadInputError):
        audit(
            [path], config=AuditConfig(benchmarks=(str(bad_bench),)), findings=tmp_path / "f.jsonl"
        )
    assert not (tmp_path / "f.jsonl").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one Ray instance at a time (tests/test_ray_cluster.py too)
def test_ray_engine_gives_the_same_findings_as_local(tmp_path, audited):
    pytest.importorskip("ray")
    config = AuditConfig(
        allow_sources=audited.planted.allow_sources, workers=2, shard_bytes=256_000, engine="ray"
    )
    result, _ = audit([audited.dataset], config=config, findings=tmp_path / "ray.jsonl")
    assert result.engine == "ray"
    assert (tmp_path / "ray.jsonl").read_bytes() == (audited.out / "findings.jsonl").read_bytes()
