"""Build (or fetch from cache) the reference model: corpus, tokenizer, model, held-out table."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from tripwire.artifacts import ArtifactKind, Manifest, atomic_path, cache_dir, sha256_json
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.reference._corpus import Corpus, SourceFile
from tripwire.reference._heldout import (
    encode_stream,
    heldout_bytes,
    model_nats,
    unigram_counts,
    unigram_nats,
)
from tripwire.reference._profiles import PROFILES, Profile
from tripwire.reference._snapshot import pinned_corpus

# Bump when the build procedure changes, so cached models from older code are not reused.
BUILD_VERSION = 1
CORPUS_DIR = "reference_corpus"
REFERENCE_INFO = "reference.json"


@dataclass(frozen=True)
class LanguageRow:
    """Held-out loss of the model and of the unigram baseline for one language."""

    language: str
    train_files: int
    heldout_files: int
    heldout_tokens: int
    heldout_bytes: int
    model_nats_per_token: float
    model_bits_per_byte: float
    unigram_nats_per_token: float
    unigram_bits_per_byte: float

    @property
    def gain_nats_per_token(self) -> float:
        return self.unigram_nats_per_token - self.model_nats_per_token


@dataclass(frozen=True)
class BuildResult:
    """A built reference model and its held-out table."""

    path: Path
    manifest: Manifest
    profile: Profile
    rows: list[LanguageRow]
    skipped: dict[str, str]
    cached: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "id": self.manifest.id,
            "profile": self.profile.name,
            "cached": self.cached,
            "seconds": round(self.seconds, 2),
            "languages": [
                {**asdict(r), "gain_nats_per_token": r.gain_nats_per_token} for r in self.rows
            ],
            "skipped_languages": self.skipped,
        }


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise BadInputError(
            f"--profile {name}", f"unknown profile (choose from {', '.join(PROFILES)})"
        ) from None


def _cache_key(profile: Profile, seed: int, corpus: Corpus) -> str:
    import torch
    import transformers

    return sha256_json(
        {
            "build_version": BUILD_VERSION,
            "profile": profile.to_dict(),
            "seed": seed,
            "corpus": corpus.content_hash(),
            "torch": torch.__version__.split("+")[0],
            "transformers": transformers.__version__,
        }
    )


def _write_corpus(corpus: Corpus, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, part in (("train", corpus.train), ("heldout", corpus.heldout)):
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for files in part.values():
                for sf in files:
                    rec = {
                        "id": sf.key,
                        "text": sf.text,
                        "language": sf.language,
                        "source": "local",
                    }
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def corpus_of(model_dir: str | Path, split: str = "heldout") -> Path | None:
    """The ``train`` or ``heldout`` split file a reference model carries (``CORPUS_DIR``), or
    ``None`` for a model without one (a user's own checkpoint)."""
    path = Path(model_dir) / CORPUS_DIR / f"{split}.jsonl"
    return path if path.is_file() else None


def load_reference_corpus(model_dir: str | Path, split: str) -> dict[str, list[SourceFile]]:
    """The train or held-out files a reference model was built with, per language."""
    path = corpus_of(model_dir, split)
    if path is None:
        raise BadInputError(
            model_dir, f"not a tripwire reference model (no {CORPUS_DIR}/{split}.jsonl)"
        )
    out: dict[str, list[SourceFile]] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise BadInputError(f"{path}:{n}", f"not a corpus line ({exc})") from exc
                if not (
                    isinstance(rec, dict)
                    and isinstance(rec.get("id"), str)
                    and isinstance(rec.get("text"), str)
                ):
                    raise BadInputError(f"{path}:{n}", 'a corpus line is {"id": "LANG:PATH", '
                                        '"text": "..."}')  # fmt: skip
                lang, _, file_path = rec["id"].partition(":")
                out.setdefault(lang, []).append(SourceFile(lang, Path(file_path), rec["text"]))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"unreadable corpus ({exc})") from exc
    return out


def _build_into(
    out: Path, profile: Profile, seed: int, corpus: Corpus, progress: Progress
) -> list[LanguageRow]:
    # torch and transformers load only when a model is really built (not on a cache hit)
    from tripwire.reference._tokenizer import train_tokenizer
    from tripwire.reference._train import pretrain

    progress("tokenizer", 0, 1)
    train_texts = [f.text for files in corpus.train.values() for f in files]
    tokenizer = train_tokenizer(train_texts, profile.vocab_size)
    progress("tokenizer", 1, 1)
    streams = {
        lang: encode_stream(tokenizer, [f.text for f in fs]) for lang, fs in corpus.train.items()
    }
    vocab = len(tokenizer)
    model, losses = pretrain(
        profile, streams, vocab, tokenizer.eos_token_id, tokenizer.pad_token_id, seed, progress
    )
    counts = unigram_counts(list(streams.values()), vocab)
    rows = []
    for i, (lang, files) in enumerate(corpus.heldout.items()):
        progress("evaluate", i, len(corpus.heldout))
        texts = [f.text for f in files]
        stream = encode_stream(tokenizer, texts)
        n_tok, n_bytes = len(stream) - 1, heldout_bytes(texts)
        m, u = model_nats(model, stream, profile.context), unigram_nats(counts, stream)
        rows.append(
            LanguageRow(
                language=lang,
                train_files=len(corpus.train[lang]),
                heldout_files=len(files),
                heldout_tokens=n_tok,
                heldout_bytes=n_bytes,
                model_nats_per_token=m / n_tok,
                model_bits_per_byte=m / n_bytes / 0.6931471805599453,
                unigram_nats_per_token=u / n_tok,
                unigram_bits_per_byte=u / n_bytes / 0.6931471805599453,
            )
        )
    progress("evaluate", len(corpus.heldout), len(corpus.heldout))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    _write_corpus(corpus, out / CORPUS_DIR)
    info = {
        "profile": profile.to_dict(),
        "seed": seed,
        "corpus_hash": corpus.content_hash(),
        "skipped_languages": corpus.skipped,
        "final_train_loss": losses[-1],
        "languages": [asdict(r) for r in rows],
    }
    (out / REFERENCE_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return rows


def _read_rows(path: Path) -> tuple[list[LanguageRow], dict[str, str]]:
    info = json.loads((path / REFERENCE_INFO).read_text(encoding="utf-8"))
    return [LanguageRow(**r) for r in info["languages"]], info.get("skipped_languages", {})


def build_reference(
    profile: str | Profile = "tiny",
    out: str | Path | None = None,
    *,
    seed: int = 0,
    progress: Progress = no_progress,
    command: str | None = None,
    rescan: bool = False,
) -> BuildResult:
    """Build the reference model, reusing the cache when corpus, profile and seed are unchanged.

    The corpus is the snapshot pinned on the first build (``rescan`` scans the machine again).
    The model lives in the cache under its key; with ``out`` it is also copied there (atomically).
    Concurrent builds of the same model wait for one another instead of training it twice.
    """
    t0 = time.perf_counter()
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    progress("corpus", 0, 1)
    corpus = pinned_corpus(prof.train_bytes, prof.heldout_bytes, rescan=rescan)
    if not corpus.train:
        raise BadInputError("reference corpus", "no source code found on this machine")
    progress("corpus", 1, 1)
    key = _cache_key(prof, seed, corpus)
    cached_dir = cache_dir() / "reference" / f"{prof.name}-{key[:16]}"
    cached_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cached_dir) + ".lock"):
        cached = (cached_dir / "tripwire.json").is_file()
        if not cached:
            with atomic_path(cached_dir) as tmp:
                tmp.mkdir()
                _build_into(tmp, prof, seed, corpus, progress)
                Manifest.build(
                    tmp,
                    ArtifactKind.MODEL,
                    name=f"reference-{prof.name}",
                    command=command,
                    notes={"reference": {"profile": prof.name, "seed": seed, "cache_key": key}},
                ).write(tmp)
    target = cached_dir
    if out is not None:
        target = Path(out)
        if target.exists() and not (target / "tripwire.json").is_file() and any(target.iterdir()):
            raise BadInputError(
                target, "exists and is not a tripwire artifact; refusing to overwrite"
            )
        with atomic_path(target) as tmp:
            shutil.copytree(cached_dir, tmp)
    rows, skipped = _read_rows(target)
    return BuildResult(
        path=target,
        manifest=Manifest.read(target),
        profile=prof,
        rows=rows,
        skipped=skipped,
        cached=cached,
        seconds=time.perf_counter() - t0,
    )
