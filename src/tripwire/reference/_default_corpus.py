"""The held-out code corpus a suite uses when nobody named one: works for any model.

A first-time user gating their own checkpoints has no policy and no reference model. The
machine's pinned reference corpus (the ``small`` profile's, the one ``reference build`` and
``reference import`` train and score on) has a held-out split no reference model was trained
on, so it is a fair test of retention for any causal LM. It is written once into the cache as a
corpus-only folder that reads like a reference model's (``reference_corpus/heldout.jsonl``), so
the suites load it through the same path as a reference model's own corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

from filelock import FileLock

from tripwire.artifacts import atomic_path, cache_dir
from tripwire.errors import BadInputError
from tripwire.reference._build import CORPUS_DIR, corpus_of
from tripwire.reference._profiles import PROFILES
from tripwire.reference._snapshot import pinned_corpus

DEFAULT_CORPUS_PROFILE = "small"
DEFAULT_CORPUS_NAME = "the machine's pinned reference corpus, held-out split"


def default_heldout_corpus() -> Path:
    """A folder holding the pinned corpus's held-out split (scanned and pinned if missing)."""
    profile = PROFILES[DEFAULT_CORPUS_PROFILE]
    corpus = pinned_corpus(profile.train_bytes, profile.heldout_bytes)
    if not corpus.heldout:
        raise BadInputError(
            "corpus",
            "this machine has no source files to build a held-out corpus from: set `corpus` "
            "in the policy's [[suites]] entry",
        )
    # named by content: a rescan that finds other files gets a folder of its own
    out = cache_dir() / "reference" / f"heldout-{corpus.content_hash()[:16]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if corpus_of(out) is not None:
            return out
        with atomic_path(out) as tmp:
            (tmp / CORPUS_DIR).mkdir(parents=True)
            with open(tmp / CORPUS_DIR / "heldout.jsonl", "w", encoding="utf-8") as f:
                for files in corpus.heldout.values():
                    for sf in files:
                        rec = {"id": sf.key, "text": sf.text, "language": sf.language,
                               "source": "local"}  # fmt: skip
                        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            info = {"name": DEFAULT_CORPUS_NAME, "profile": DEFAULT_CORPUS_PROFILE,
                    "corpus_hash": corpus.content_hash()}  # fmt: skip
            (tmp / "corpus.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return out
