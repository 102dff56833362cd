"""A contaminated set built once per session from the tiny reference corpus, and its audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tripwire.data import AuditConfig, AuditResult, audit
from tripwire.faults import ContaminatedSet, build_contaminated_set
from tripwire.reference import load_reference_corpus


@dataclass
class Audited:
    planted: ContaminatedSet
    dataset: Path
    findings: list[dict[str, Any]]
    result: AuditResult
    report: Any
    out: Path


def reference_corpus(path: Path) -> dict:
    corpus = load_reference_corpus(path, "train")
    for lang, files in load_reference_corpus(path, "heldout").items():
        corpus.setdefault(lang, []).extend(files)
    return corpus


@pytest.fixture(scope="session")
def contaminated(tiny_reference: Path) -> ContaminatedSet:
    return build_contaminated_set(reference_corpus(tiny_reference), clean=320, per_fault=30, seed=1)


@pytest.fixture(scope="session")
def audited(contaminated: ContaminatedSet, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    out = tmp_path_factory.mktemp("audit")
    dataset = contaminated.write_jsonl(out / "contaminated.jsonl")
    config = AuditConfig(allow_sources=contaminated.allow_sources, workers=2, shard_bytes=256_000)
    result, report = audit(
        [dataset], config=config, findings=out / "findings.jsonl", clean=out / "clean.jsonl"
    )
    rows = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    return Audited(contaminated, dataset, rows, result, report, out)
