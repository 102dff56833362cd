"""Pin the reference corpus on first use, so a machine's reference model stays the same.

Scanning the machine again after a package install would pick up other files, change the cache
key and silently retrain a different reference model (and every fixture built on it). The first
scan is written into the cache; later builds read it back until a rescan is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

from filelock import FileLock

from tripwire.artifacts import cache_dir, write_json_atomic
from tripwire.reference._corpus import Corpus, SourceFile, collect_corpus


def _snapshot_path(train_bytes: int, heldout_bytes: int) -> Path:
    return cache_dir() / "reference" / f"corpus-{train_bytes}-{heldout_bytes}.json"


def _to_json(corpus: Corpus) -> dict:
    return {
        split: {lang: [[f.path.as_posix(), f.text] for f in files] for lang, files in part.items()}
        for split, part in (("train", corpus.train), ("heldout", corpus.heldout))
    } | {"skipped": corpus.skipped}


def _from_json(data: dict) -> Corpus:
    def part(split: str) -> dict[str, list[SourceFile]]:
        return {
            lang: [SourceFile(lang, Path(path), text) for path, text in files]
            for lang, files in data[split].items()
        }

    return Corpus(train=part("train"), heldout=part("heldout"), skipped=data["skipped"])


def pinned_corpus(train_bytes: int, heldout_bytes: int, *, rescan: bool = False) -> Corpus:
    """The corpus for these byte budgets: the pinned snapshot, or a fresh scan (then pinned)."""
    path = _snapshot_path(train_bytes, heldout_bytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if not rescan and path.is_file():
            try:
                return _from_json(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError):
                pass  # a damaged snapshot is rebuilt from a fresh scan
        corpus = collect_corpus(train_bytes, heldout_bytes)
        if corpus.train:
            write_json_atomic(path, _to_json(corpus))
        return corpus
