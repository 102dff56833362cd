"""The per-shard step every engine runs: read a shard, check each record, compute its dedup
signature, and write the shard's results next to the outputs (then its completion marker).

It takes and returns plain data, so a local process pool and Ray run it alike.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.data._config import AuditConfig
from tripwire.data._dedup import content_hash
from tripwire.data._embed import DIMS, token_embeddings
from tripwire.data._lexer import ngram_hashes_many
from tripwire.data._minhash import signatures
from tripwire.data._readers import Shard, read_shard
from tripwire.data._reasons import CHECK_ORDER, NOT_RUNNABLE
from tripwire.data._records import Record
from tripwire.data._secrets import redact, redact_obj
from tripwire.data._workdir import ShardFile, WorkDir
from tripwire.data.checks import (
    CheckRunner,
    RecordCheck,
    Secret,
    compute_token_ids,
    registered_checks,
)

MAP_STAGE = "map"


@dataclass(frozen=True)
class ShardTask:
    shard: Shard
    config: AuditConfig
    workdir: str
    key: str
    """Configuration hash the shard's marker must carry."""


def build_checks(config: AuditConfig) -> list[RecordCheck]:
    """The record checks in the order they run (the reasons table's ``run``), each built from
    the configuration by its own class."""
    registered = registered_checks()
    return [registered[code].from_config(config) for code in CHECK_ORDER]


@lru_cache(maxsize=2)
def _runner_checks(config: AuditConfig) -> tuple[tuple[RecordCheck, ...], tuple[RecordCheck, ...]]:
    """(the checks whose results depend on a record's content only, and may be reused for
    its exact copies; the per-record ones: secrets read ids, sources and metadata too)."""
    checks = build_checks(config)
    return (
        tuple(c for c in checks if not isinstance(c, Secret)),
        tuple(c for c in checks if isinstance(c, Secret)),
    )


@lru_cache(maxsize=2)
def _order(config: AuditConfig) -> dict[str, int]:
    codes = [code for c in build_checks(config) for code in (c.code, *c.emits)]
    return {code: k for k, code in enumerate(codes)}


@dataclass(frozen=True)
class _Checked:
    """What the checks and the signature made of one record's content (ids and lines aside)."""

    reasons: dict[str, Any]
    flags: dict[str, Any]
    """Findings for a reviewer that keep the record (``checks.FLAGS``)."""
    language: str | None
    content: bytes
    grams: np.ndarray | None
    """The dedup shingles' hashes (the shard's signatures are computed together at its end);
    None when the record has no code to deduplicate."""
    emb: np.ndarray | None = None
    """Its token vector (``_embed``), for the set-wide out-of-domain check."""


ContentKey = tuple[Any, ...]


def _content_key(record: Record) -> ContentKey:
    """Everything a check reads: records with equal keys get equal results (a key lives only in
    its worker's memory, so Python's own string hashing serves)."""
    return (
        record.code,
        record.prompt,
        record.tests,
        record.kind,
        record.language,
        tuple(record.fence_tags),
        record.unclosed_fence,
        record.source,
        tuple(record.problems),
        record.context,
    )


_CACHED = 8192
"""Results a worker keeps: exact copies are common in scraped data and cost nothing twice."""


@lru_cache(maxsize=2)
def _seen(config: AuditConfig) -> dict[ContentKey, _Checked]:
    return {}


def _check_batch(runner: CheckRunner, records: list[Record], cfg: AuditConfig) -> list[_Checked]:
    contexts = runner.run_batch(records)
    compute_token_ids(contexts)
    coded = [ctx for ctx in contexts if ctx.has_code()]
    ids = [ctx.token_ids()[0] for ctx in coded]
    grams = iter(ngram_hashes_many(ids, cfg.shingle_size))
    embs = iter(token_embeddings(ids))
    out = []
    for ctx in contexts:
        reasons = ctx.reasons
        if ctx.has_code():
            out.append(
                _Checked(
                    reasons,
                    ctx.flags,
                    ctx.language,
                    content_hash(ctx.shingle_text()),
                    next(grams),
                    next(embs),
                )
            )
        else:
            out.append(_Checked(reasons, ctx.flags, ctx.language, b"", None))
    return out


def _check_shard(runner: CheckRunner, records: list[Record], cfg: AuditConfig) -> list[_Checked]:
    """Each record's results: exact copies of a record already checked by this worker reuse
    its results; the rest are checked together."""
    seen = _seen(cfg)
    keys = [_content_key(r) for r in records]
    new: dict[ContentKey, Record] = {}
    for key, rec in zip(keys, records, strict=True):
        if key not in seen and key not in new:
            new[key] = rec
    fresh = dict(zip(new, _check_batch(runner, list(new.values()), cfg), strict=True))
    out = []
    first = set(fresh)
    for key in keys:
        checked = fresh.get(key)
        if checked is None:
            checked = seen[key]
        if key in first:
            first.discard(key)
        else:  # a copy of a record checked before
            runner.count_reused({**checked.reasons, **checked.flags})
        out.append(checked)
    if len(seen) + len(fresh) > _CACHED:
        seen.clear()
    seen.update(fresh)
    return out


def _with_secrets(
    records: list[Record], results: list[_Checked], runner: CheckRunner, cfg: AuditConfig
) -> list[dict[str, Any]]:
    """Each record's reasons, with the per-record checks' (secrets) added in check order; a
    record with a secret has every piece of its evidence redacted (a syntax error quotes its
    line, a bad chat role is quoted whole)."""
    order = _order(cfg)
    out = []
    suspects = [r for r in records if r.suspects]
    found = {id(ctx.record): ctx.reasons for ctx in runner.run_batch(suspects)}
    for rec, checked in zip(records, results, strict=True):
        extra = found.get(id(rec))
        if not extra:
            out.append(checked.reasons)
            continue
        merged = {**checked.reasons, **extra}
        out.append(redact_obj(dict(sorted(merged.items(), key=lambda kv: order[kv[0]]))))
    return out


def run_shard(task: ShardTask) -> dict[str, Any]:
    """Process one shard; returns its summary (also stored in its completion marker)."""
    cfg = task.config
    wd = WorkDir(Path(task.workdir))
    cached, per_record = _runner_checks(cfg)
    runner = CheckRunner(list(cached))
    secrets_runner = CheckRunner(list(per_record))
    t0 = time.perf_counter()
    ordinals: list[int] = []
    ids: list[Any] = []
    rejected: list[bool] = []
    grams: list[np.ndarray] = []
    embs: list[np.ndarray] = []
    hashes: list[bytes] = []
    rows: list[dict[str, Any]] = []
    n = nbytes = tests = 0
    entries = list(read_shard(task.shard, cfg.fields))
    records = [record for _, record in entries]
    results = _check_shard(runner, records, cfg)
    all_reasons = _with_secrets(records, results, secrets_runner, cfg)
    with open(wd.file(task.shard, ShardFile.TESTS), "w", encoding="utf-8") as tf:
        for ordinal, ((raw, record), checked, reasons) in enumerate(
            zip(entries, results, all_reasons, strict=True)
        ):
            n += 1
            nbytes += len(raw) + 1
            # ids and sources are outputs too: a token in one never leaves the worker
            rid = redact_obj(record.id) if record.suspects else record.id
            ids.append(rid)
            rows.append(
                {
                    "id": rid,
                    "line": record.line,
                    "kind": record.kind,
                    "language": checked.language,
                    "chars": len(record.code),
                    "lines": record.code.count("\n") + 1 if checked.grams is not None else 0,
                    "source": redact_obj(record.source) if record.suspects else record.source,
                    "reasons": reasons,
                    # like reasons: redacted where the record holds a secret (the write step
                    # checks every line again)
                    "flags": redact_obj(checked.flags) if "secret" in reasons else checked.flags,
                }
            )
            if checked.grams is not None:
                ordinals.append(ordinal)
                rejected.append(bool(reasons))
                hashes.append(checked.content)
                grams.append(checked.grams)
                embs.append(checked.emb)
            runnable = NOT_RUNNABLE.isdisjoint(reasons) and checked.language in ("python", None)
            if cfg.run_tests and record.tests and checked.grams is not None and runnable:
                tf.write(
                    json.dumps({"o": ordinal, "program": record.code, "tests": record.tests}) + "\n"
                )
                tests += 1
    if cfg.model:  # the answers the driver scores against their instructions (``_fit``)
        fit = [  # grams: it has code, and is not too long to check (``MAX_RECORD_CHARS``)
            {"o": k, "p": r.prompt, "a": r.code}
            for k, (r, checked) in enumerate(zip(records, results, strict=True))
            if r.kind in ("instruction", "chat") and r.prompt.strip() and checked.grams is not None
        ]
        wd.file(task.shard, ShardFile.FIT).write_text(json.dumps(fit, ensure_ascii=False), "utf-8")
    # One JSON document per shard: a single encoder call, not one per record.
    wd.file(task.shard, ShardFile.RECORDS).write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    # Record ids, so findings can name what a duplicate duplicates without re-reading shards.
    wd.file(task.shard, ShardFile.IDS).write_text(json.dumps(ids, ensure_ascii=False))
    np.savez(
        wd.file(task.shard, ShardFile.SIGNATURES),
        ordinals=np.array(ordinals, dtype=np.int64),
        sigs=signatures(grams, num_perm=cfg.num_perm),
        hashes=np.array(hashes, dtype="S16"),
        rejected=np.array(rejected, dtype=bool),
        emb=np.array(embs, dtype=np.float16).reshape(len(embs), DIMS),
    )
    unread = [r for r in records if r.kind == "invalid"]
    summary = {
        "shard": task.shard.number,
        "records": n,
        "unread": len(unread),
        # the set-level error quotes one (``audit``): redacted, as every output is
        "first_unread": redact(f"{task.shard.path}:{unread[0].line}: {unread[0].problems[0]}")
        if unread
        else None,
        "bytes": nbytes,
        "tests": tests,
        "seconds": round(time.perf_counter() - t0, 3),
        "checks": {
            k: {"hits": v.hits, "seconds": round(v.seconds, 3)}
            for k, v in sorted(
                {**runner.stats, **secrets_runner.stats}.items(), key=lambda kv: _order(cfg)[kv[0]]
            )
        },
    }
    wd.mark(task.shard, MAP_STAGE, task.key, summary)
    return summary
