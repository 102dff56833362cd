"""A record too long to check (``MAX_RECORD_CHARS``) is removed as ``low_quality`` unchecked:
never tokenized, parsed, linted or deduplicated (one 10 MiB record took gigabytes), but still
scanned for secrets."""

from __future__ import annotations

import json
from pathlib import Path

from tripwire.data import AuditConfig, audit
from tripwire.data._records import Record
from tripwire.data.checks import _base
from tripwire.data.checks._base import MAX_RECORD_CHARS, RecordContext

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GOOD = "def add(a, b):\n    return a + b\n"


def _audit(tmp_path: Path, records: list[dict]) -> tuple[list[dict], list[dict]]:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    audit(
        [path],
        config=AuditConfig(workers=1),
        findings=tmp_path / "f.jsonl",
        clean=tmp_path / "clean.jsonl",
    )
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    kept = [json.loads(x) for x in (tmp_path / "clean.jsonl").read_text().splitlines()]
    return rows, kept


def test_huge_record_is_removed_unchecked_and_its_secret_still_found(tmp_path):
    huge = "a = 1\n" * (MAX_RECORD_CHARS // 6 + 1000) + f"TOKEN = '{TOKEN}'\n"
    rows, kept = _audit(
        tmp_path,
        [
            {"id": "before", "text": GOOD, "language": "python"},
            {"id": "big", "text": huge, "language": "python"},
            {"id": "after", "text": GOOD.replace("add", "plus"), "language": "python"},
        ],
    )
    by_id = {r["id"]: r for r in rows}
    big = by_id["big"]
    assert not big["keep"]
    assert big["reasons"] == ["secret", "low_quality"]
    assert big["details"]["low_quality"] == {
        "signals": {"too_long": {"chars": len(huge), "limit": MAX_RECORD_CHARS}}
    }
    assert big["details"]["secret"]["count"] == 1
    assert big["details"]["secret"]["secrets"][0]["kind"] == "github_token"
    assert TOKEN not in (tmp_path / "f.jsonl").read_text()
    # not linted: no static-analysis flag on a record nothing but the secrets scan read
    assert "lint" not in big.get("flags", {})
    assert [r["id"] for r in kept] == ["before", "after"]
    assert by_id["before"]["keep"] and by_id["after"]["keep"]


def test_chat_counts_all_its_turns(tmp_path):
    half = "x = 1\n" * (MAX_RECORD_CHARS // 12 + 1000)  # each turn under the limit
    chat = {
        "id": "chat",
        "messages": [
            {"role": "system", "content": "You write Python."},
            {"role": "user", "content": half},
            {"role": "assistant", "content": half},
        ],
    }
    rows, kept = _audit(tmp_path, [chat, {"id": "ok", "text": GOOD, "language": "python"}])
    assert rows[0]["reasons"] == ["low_quality"]
    assert "too_long" in rows[0]["details"]["low_quality"]["signals"]
    assert [r["id"] for r in kept] == ["ok"]


def test_limit_is_on_code_prompt_and_context(monkeypatch):
    monkeypatch.setattr(_base, "MAX_RECORD_CHARS", 10)
    short = RecordContext(Record("s", 1, "code", code="x = 1\n"))
    assert short.has_code() and not short.too_long()
    long = RecordContext(Record("l", 1, "instruction", code="x = 1\n", prompt="write x = 1"))
    assert long.too_long() and not long.has_code()
