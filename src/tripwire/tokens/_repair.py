"""`tripwire tokens repair`: rebuild a candidate's embedding tables for its own tokenizer.

Every token the baseline knows gets its baseline row back by string (undoing remaps), unless
the candidate's row is still that row (a fine-tune's drift is kept); every new token gets the
mean of the baseline rows of the pieces the baseline tokenizer splits it into, never noise.
Ties stay as they were. The result is a loadable checkpoint with a manifest that records the
plan and names both inputs as parents.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tripwire.artifacts import (
    MANIFEST_NAME,
    ArtifactKind,
    Manifest,
    atomic_path,
    cannot_write,
    ensure_manifest,
)
from tripwire.errors import BadInputError
from tripwire.findings import Severity
from tripwire.progress import Progress, no_progress
from tripwire.tokens._matrix import rows_f32
from tripwire.tokens._pair import Pair
from tripwire.tokens._rows import Correspondence
from tripwire.tokens._structure import CONFIG_SPECIAL_IDS, config_ties, generation_config
from tripwire.tokens._tokdiff import component_findings, special_findings

REPAIRABLE = frozenset({
    "tokens.rows_remapped", "tokens.output_rows_remapped", "tokens.new_rows_random",
    "tokens.new_rows_zero", "tokens.new_rows_mean", "tokens.token_ids_beyond_table",
    "tokens.config_vocab_size_mismatch", "tokens.rows_not_finite",
    "tokens.output_rows_not_finite",
})  # fmt: skip
"""Audit finding codes this repair fixes: rows back by token string, new rows from their
pieces, the table resized to the tokenizer."""


@dataclass
class TablePlan:
    """What the repair puts in each row of one table."""

    rows: int
    kept: list[int] = field(default_factory=list)
    copied: dict[int, int] = field(default_factory=dict)
    """Candidate id -> baseline id whose row it gets."""
    synthesised: dict[int, list[int]] = field(default_factory=dict)
    """Candidate id -> baseline piece ids whose rows' mean it gets (empty: the table mean)."""

    def to_dict(self, pair: Pair) -> dict[str, Any]:
        cand, base = pair.cand.tok, pair.base.tok
        return {
            "rows": self.rows,
            "kept": len(self.kept),
            "copied": [
                {"id": c, "token": cand.text_of(c), "from_baseline_id": b}
                for c, b in sorted(self.copied.items())
            ],
            "synthesised": [
                {
                    "id": c,
                    "token": cand.text_of(c),
                    "pieces": p,
                    "piece_tokens": [base.text_of(i) for i in p],
                }
                for c, p in sorted(self.synthesised.items())
            ],
        }


@dataclass(frozen=True)
class RepairResult:
    path: Path
    manifest: Manifest
    plan: dict[str, Any]


def plan_table(
    pair: Pair, corr: Correspondence | None, base_rows: int, cand_rows: int | None = None
) -> TablePlan:
    """``cand_rows``: rows the candidate's table really has, when fewer than the input table's
    (a truncated head); a row it lacks is never "kept"."""
    cand = pair.cand
    rows = max(cand.tables.rows, cand.tok.size)
    plan = TablePlan(rows)
    keep = set() if corr is None else {*corr.matched.tolist(), *corr.drifted.tolist()}
    if cand_rows is not None:
        keep = {i for i in keep if i < cand_rows}
    b_vocab = pair.base.tok.vocab
    # a NaN / infinite baseline row is never a source: the candidate's own row stays when it
    # is finite, else the token is rebuilt like a new one
    base_broken, cand_broken = pair.base.tables.nonfinite, pair.cand.tables.nonfinite
    for s, cid in sorted(cand.tok.vocab.items(), key=lambda kv: kv[1]):
        bid = b_vocab.get(s)
        if bid is not None and bid < base_rows and bid not in base_broken:
            if cid in keep:
                plan.kept.append(cid)
            else:
                plan.copied[cid] = bid
        elif bid is not None and bid < base_rows and cid not in cand_broken:
            plan.kept.append(cid)
        else:
            pieces = pair.pieces(cid)
            plan.synthesised[cid] = [i for i in pieces if i < base_rows and i not in base_broken]
    return plan


def _rebuild(
    cand: torch.Tensor, base: torch.Tensor, plan: TablePlan, base_mean: torch.Tensor
) -> torch.Tensor:
    """The repaired table, in the candidate's dtype."""
    rows = plan.rows
    shape = (rows, *cand.shape[1:])
    out = torch.empty(shape, dtype=cand.dtype)
    n = min(rows, int(cand.shape[0]))
    out[:n] = cand[:n]
    if rows > n:
        out[n:] = base_mean.to(cand.dtype)
    if plan.copied:
        cids = np.fromiter(plan.copied.keys(), dtype=np.int64)
        bids = np.fromiter(plan.copied.values(), dtype=np.int64)
        for start in range(0, len(cids), 8192):
            sl = slice(start, start + 8192)
            out[torch.from_numpy(cids[sl])] = _rows(base, bids[sl]).to(cand.dtype)
    for cid, pieces in plan.synthesised.items():
        row = _rows(base, np.asarray(pieces)).mean(0) if pieces else base_mean
        out[cid] = row.to(cand.dtype)
    return out


def _rows(table: torch.Tensor, ids: np.ndarray) -> torch.Tensor:
    return rows_f32(table, ids) if table.ndim == 2 else table[torch.from_numpy(ids)].float()


def _config_updates(pair: Pair, rows: int) -> dict[str, dict[str, list[Any]]]:
    """config.json / generation_config.json values the candidate tokenizer contradicts."""
    roles = pair.cand.tok.roles()
    updates: dict[str, dict[str, list[Any]]] = {}
    files = {"config.json": pair.cand.ckpt.config}
    gen = generation_config(pair.cand.ckpt)
    if gen is not None:
        files["generation_config.json"] = gen
    for name, cfg in files.items():
        changes: dict[str, list[Any]] = {}
        if name == "config.json" and cfg.get("vocab_size") != rows:
            changes["vocab_size"] = [cfg.get("vocab_size"), rows]
        for key, role in CONFIG_SPECIAL_IDS.items():
            token = roles.get(role)
            value = cfg.get(key)
            if token is None or token not in pair.cand.tok.vocab or value is None:
                continue
            want = pair.cand.tok.vocab[token]
            if isinstance(value, int) and value != want:
                changes[key] = [value, want]
        if changes:
            updates[name] = changes
    return updates


def repair(
    baseline: str | Path,
    candidate: str | Path,
    out: str | Path,
    *,
    command: str | None = None,
    progress: Progress = no_progress,
) -> RepairResult:
    """Write a repaired copy of ``candidate`` to ``out`` (atomically) and return its manifest."""
    out = Path(out)
    _check_out(out, (baseline, candidate))
    _check_memory(candidate)
    pair = Pair.load(baseline, candidate)
    rows = pair.compare_rows(progress)
    base, cand = pair.base, pair.cand
    tables: dict[str, torch.Tensor] = {}
    plan: dict[str, Any] = {}
    progress("repair", 0, 3)
    in_plan = plan_table(pair, rows["input"], base.tables.rows)
    tables[cand.tables.input_name] = _rebuild(
        cand.tables.input, base.tables.input, in_plan, pair.base_stats.mean
    )
    plan["input"] = in_plan.to_dict(pair)
    progress("repair", 1, 3)
    if cand.tables.head is not None and cand.tables.head_name is not None:
        if config_ties(cand.ckpt):
            tables[cand.tables.head_name] = tables[cand.tables.input_name]
            plan["output"] = "tied to the input embeddings"
        elif cand.tables.head.shape[1] != base.tables.output().shape[1]:
            plan["output"] = "kept: its width differs from the baseline's (no row to copy)"
        else:
            out_plan = plan_table(
                pair,
                rows.get("output", rows["input"]),
                base.tables.rows,
                int(cand.tables.head.shape[0]),
            )
            tables[cand.tables.head_name] = _rebuild(
                cand.tables.head, base.tables.output(), out_plan, pair.base_output_stats.mean
            )
            plan["output"] = out_plan.to_dict(pair)
    else:
        plan["output"] = "shares the input embeddings"
    if cand.tables.bias is not None and cand.tables.bias_name is not None:
        if base.tables.bias is not None:
            bias_plan = plan_table(
                pair,
                rows.get("output", rows["input"]),
                len(base.tables.bias),
                len(cand.tables.bias),
            )
            tables[cand.tables.bias_name] = _rebuild(
                cand.tables.bias, base.tables.bias, bias_plan, base.tables.bias.float().mean()
            )
            plan["bias"] = "rebuilt like the output head"
        else:
            plan["bias"] = "kept (the baseline has no output bias)"
    progress("repair", 2, 3)
    config = _config_updates(pair, in_plan.rows)
    plan["config"] = config
    plan["not_repaired"] = [
        f.code
        for f in (*component_findings(base.tok, cand.tok), *special_findings(base.tok, cand.tok))
        if f.severity is Severity.BLOCK
    ]
    parents = (
        ensure_manifest(base.ckpt.path, ArtifactKind.MODEL).id,
        ensure_manifest(cand.ckpt.path, ArtifactKind.MODEL).id,
    )
    plan["baseline"] = {"path": str(base.ckpt.path), "id": parents[0]}
    plan["candidate"] = {"path": str(cand.ckpt.path), "id": parents[1]}
    try:
        manifest = _write(out, pair, tables, config, command, parents, plan)
    except OSError as exc:  # a disk that fills up, a folder that went away meanwhile
        raise BadInputError(out, f"cannot write the repaired checkpoint ({exc})") from exc
    progress("repair", 3, 3)
    return RepairResult(out, manifest, plan)


def _check_out(out: Path, inputs: tuple[str | Path, str | Path]) -> None:
    """Refuse an ``--out`` that would overwrite a stranger's folder, copy an input into itself
    (an input's subfolder) or delete one (a folder holding an input, replaced whole)."""
    target = out.resolve()
    for p in inputs:
        src = Path(p).resolve()
        if target == src:
            raise BadInputError(out, "--out must differ from the inputs")
        if src in target.parents or target in src.parents:
            raise BadInputError(out, f"--out must be neither inside nor around the input {p}")
    foreign = out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_NAME).is_file())
    )
    if foreign:
        raise BadInputError(out, "exists and is not a tripwire artifact; refusing to overwrite")
    problem = cannot_write(out)
    if problem is not None:
        raise BadInputError(out, f"cannot write the repaired checkpoint: {problem}")


def _write(
    out: Path,
    pair: Pair,
    tables: dict[str, torch.Tensor],
    config: dict[str, dict[str, list[Any]]],
    command: str | None,
    parents: tuple[str, str],
    plan: dict[str, Any],
) -> Manifest:
    """The repaired checkpoint, written atomically: the candidate's files with the rebuilt
    tables and config values, and a manifest recording the plan."""
    cand = pair.cand
    with atomic_path(out) as tmp:
        weights = [f.name for f in cand.ckpt.weight_files]
        # links are copied as the files they point to; one pointing nowhere carries nothing
        shutil.copytree(
            cand.ckpt.path,
            tmp,
            ignore=shutil.ignore_patterns(MANIFEST_NAME, *weights),
            ignore_dangling_symlinks=True,
        )
        _write_tensors(tmp, cand.ckpt.weight_files, tables)
        for name, changes in config.items():
            path = tmp / name
            data = json.loads(path.read_text(encoding="utf-8"))
            data.update({k: new for k, (_, new) in changes.items()})
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        manifest = Manifest.build(
            tmp,
            ArtifactKind.MODEL,
            name=out.name,
            parents=parents,
            command=command,
            notes={"repair": plan},
        )
        manifest.write(tmp)
    return manifest


def _check_memory(candidate: str | Path) -> None:
    """Repair reads the tables memory-mapped, and holds one weight file at a time while
    rewriting it, beside the rebuilt input table and head (refused in one line before any of
    it when that cannot fit ``--max-memory``)."""
    from tripwire.artifacts import Checkpoint
    from tripwire.compute import Footprint, current_budget, require_fits

    ckpt = Checkpoint.open(candidate)
    fp = Footprint.of(ckpt)
    largest = max(f.stat().st_size for f in ckpt.weight_files)
    tables = 2 * 4 * fp.vocab * fp.hidden
    require_fits("tokens repair", {"for the largest weight file": largest,
                                   "for the rebuilt tables": tables}, current_budget())  # fmt: skip


def _write_tensors(root: Path, weight_files: list[Path], tables: dict[str, torch.Tensor]) -> None:
    """Write every weight file into ``root``: the ones holding a replaced tensor are rewritten
    from the original with the new tensors, the others copied as they are."""
    remaining = dict(tables)
    for original in weight_files:
        target = root / original.name
        if original.suffix == ".safetensors":
            with safe_open(original, framework="pt") as f:
                names, metadata = set(f.keys()), f.metadata() or {"format": "pt"}
        else:
            names, metadata = set(torch.load(original, map_location="cpu", weights_only=True)), {}
        if not names & remaining.keys():
            shutil.copy2(original, target)
            continue
        if original.suffix == ".safetensors":
            tensors = load_file(original)
        else:
            tensors = torch.load(original, map_location="cpu", weights_only=True)
        for name in list(remaining):
            if name in tensors:
                tensors[name] = remaining.pop(name)
        if original.suffix == ".safetensors":
            # A tied head shares storage with the input table; safetensors wants distinct ones.
            seen: set[int] = set()
            for name, t in tensors.items():
                if t.data_ptr() in seen and t.numel():
                    tensors[name] = t.clone()
                seen.add(t.data_ptr())
            save_file({k: v.contiguous() for k, v in tensors.items()}, target, metadata=metadata)
        else:
            torch.save(tensors, target)
    if remaining:
        raise BadInputError(root, f"tensors not found in the weight files: {sorted(remaining)}")
