"""The whole audit on a planted set no one here wrote (``_foreign_set``: installed packages'
code, ast/tokenize disguises, middle-of-function syntax errors in four languages, cuts inside
open constructs, secrets in every place a record holds a string): per-kind recall and clean
records wrongly removed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tripwire.data import AuditConfig, audit
from tripwire.faults import KINDS_PLANTED, build_foreign_set


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    planted = build_foreign_set(per_kind=18, clean=120, seed=4)
    out = tmp_path_factory.mktemp("foreign")
    data = out / "set.jsonl"
    data.write_text("".join(p.line + "\n" for p in planted), encoding="utf-8")
    config = AuditConfig(workers=2, run_tests=False, shard_bytes=64_000)
    audit([data], config=config, findings=out / "f.jsonl", clean=out / "c.jsonl")
    rows = [json.loads(x) for x in (out / "f.jsonl").read_text().splitlines()]
    return planted, rows


def test_every_planted_kind_is_found(audited):
    planted, rows = audited
    total, found, missed = Counter(), Counter(), []
    for p, row in zip(planted, rows, strict=True):
        if p.fault is None:
            continue
        total[p.fault] += 1
        if p.fault in row["reasons"]:
            found[p.fault] += 1
        else:
            missed.append((p.fault, p.variant, p.origin, row["reasons"]))
    for kind in KINDS_PLANTED:
        assert total[kind] >= 15, total
        assert found[kind] >= 0.95 * total[kind], (kind, missed)


def test_broken_middles_are_never_called_truncated(audited):
    planted, rows = audited
    wrong = [
        (p.variant, p.origin)
        for p, row in zip(planted, rows, strict=True)
        if p.fault == "syntax_error" and "truncated" in row["reasons"]
    ]
    assert wrong == []


def test_clean_code_of_installed_packages_is_kept(audited):
    planted, rows = audited
    clean = [(p, r) for p, r in zip(planted, rows, strict=True) if p.fault is None]
    removed = [(p.origin, r["reasons"]) for p, r in clean if not r["keep"]]
    assert len(clean) >= 100
    assert len(removed) <= 0.01 * len(clean), removed
