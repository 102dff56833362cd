"""What a fine-tune forgot: per-language held-out bits per byte of base and tuned model, paired
chunk by chunk, compared with ``tripwire.stats`` (clustered by file, Holm across languages).

A stand-in for the ``retention`` eval suite: one entry point, ``forgetting_report``, so it can be
swapped for the suite without touching its callers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from tripwire.artifacts import Checkpoint
from tripwire.findings import Finding, Severity
from tripwire.progress import Progress, no_progress
from tripwire.reference import encode_stream, load_reference_corpus
from tripwire.stats import Margin, SliceComparison, adjust_slices, compare_slice
from tripwire.train._model import load_tuned, merged_checkpoint

METRIC = "bits_per_byte"
DEFAULT_MARGIN = Margin(0.01, relative=True)


@dataclass(frozen=True)
class Chunk:
    """A contiguous piece of one held-out file, scored on its own from a clean start."""

    language: str
    file: int
    """Index of the file within its language (the cluster for the paired test)."""
    text: str

    @property
    def bytes(self) -> int:
        return len(self.text.encode("utf-8"))


def heldout_chunks(
    corpus_from: str | Path,
    tokenizer,
    chunk_tokens: int,  # type: ignore[no-untyped-def]
    languages: list[str] | None = None,
    max_chunks: int | None = None,
) -> dict[str, list[Chunk]]:
    """Each held-out file cut at token boundaries into pieces of ``chunk_tokens`` tokens.

    The cuts partition the text exactly (a piece runs to where the next one starts), so the
    pieces' bytes add up to the file's. ``max_chunks`` keeps that many per language, evenly
    spread over the files, for quick runs.
    """
    files = load_reference_corpus(corpus_from, "heldout")
    out: dict[str, list[Chunk]] = {}
    for lang, sources in files.items():
        if languages and lang not in languages:
            continue
        chunks: list[Chunk] = []
        texts = [f.text for f in sources]
        for i, enc in enumerate(tokenizer.backend_tokenizer.encode_batch(texts)):
            text, offsets = texts[i], enc.offsets
            cuts = [offsets[s][0] for s in range(0, len(offsets), chunk_tokens)]
            cuts[0] = 0
            for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True):
                if text[a:b].strip():
                    chunks.append(Chunk(lang, i, text[a:b]))
        if max_chunks and len(chunks) > max_chunks:
            chunks = [chunks[math.floor(k * len(chunks) / max_chunks)] for k in range(max_chunks)]
        out[lang] = chunks
    return out


@torch.no_grad()
def chunk_bits_per_byte(
    model,
    tokenizer,
    chunks: list[Chunk],
    context: int,  # type: ignore[no-untyped-def]
    batch_size: int = 32,
) -> np.ndarray:
    """Bits per byte the model spends on each chunk (``eos chunk``, windows of ``context``;
    up to ``batch_size`` windows' worth of tokens a batch, logits a chunk of positions at a
    time: see ``tripwire.compute``)."""
    from tripwire.compute._scoring import stream_nll

    streams = [encode_stream(tokenizer, [chunk.text])[:-1] for chunk in chunks]
    nll = stream_nll(model, streams, window=context, max_tokens=batch_size * context)
    nats = torch.tensor([float(x.sum()) for x in nll], dtype=torch.float64)
    sizes = torch.tensor([c.bytes for c in chunks], dtype=torch.float64)
    return (nats / math.log(2) / sizes).numpy()


def compare_languages(
    chunks: dict[str, list[Chunk]],
    base: dict[str, np.ndarray],
    tuned: dict[str, np.ndarray],
    margin: Margin = DEFAULT_MARGIN,
    alpha: float = 0.05,
) -> list[SliceComparison]:
    """One paired, file-clustered comparison per language, Holm-adjusted across languages
    (chunks from a single file are compared unclustered: one cluster has no variance)."""

    def files(cs: list[Chunk]) -> list[int] | None:
        ids = [c.file for c in cs]
        return ids if len(set(ids)) > 1 else None

    out = [
        compare_slice(
            lang,
            METRIC,
            base[lang],
            tuned[lang],
            higher_is_better=False,
            clusters=files(cs),
            margin=margin,
            alpha=alpha,
        )
        for lang, cs in chunks.items()
    ]
    return adjust_slices(out, alpha=alpha)


class RetentionScorer:
    """Held-out chunks of a reference corpus, scored once for the base model; each tuned model
    is then scored on the same chunks and compared with it."""

    def __init__(
        self,
        base_dir: str | Path,
        *,
        corpus_from: str | Path | None = None,
        languages: list[str] | None = None,
        chunk_tokens: int = 128,
        max_chunks: int | None = None,
        device: str | None = None,
        progress: Progress = no_progress,
    ) -> None:
        ckpt = Checkpoint.open(base_dir)
        self.tokenizer = ckpt.load_tokenizer()
        # a real model's context (8k) is no window to score in: capped like the retention suite
        self.context = min(
            int(
                ckpt.config.get("n_positions")
                or ckpt.config.get("max_position_embeddings")
                or chunk_tokens
            ),
            2048,
        )
        self.chunks = heldout_chunks(
            corpus_from or base_dir, self.tokenizer, chunk_tokens, languages, max_chunks
        )
        self.device = device
        self.progress = progress
        self.base = self.score(base_dir)

    def score(self, model_dir: str | Path) -> dict[str, np.ndarray]:
        """Bits per byte of every chunk, per language, for a checkpoint or adapter directory."""
        model = load_tuned(model_dir, self.device)
        out = {}
        for j, (lang, cs) in enumerate(self.chunks.items()):
            self.progress("retention", j, len(self.chunks))
            out[lang] = chunk_bits_per_byte(model, self.tokenizer, cs, self.context)
        self.progress("retention", len(self.chunks), len(self.chunks))
        return out

    def compare(
        self, tuned_dir: str | Path, margin: Margin = DEFAULT_MARGIN
    ) -> list[SliceComparison]:
        return compare_languages(self.chunks, self.base, self.score(tuned_dir), margin)


def forgetting_report(
    base_dir: str | Path,
    tuned_dir: str | Path,
    languages: list[str] | None = None,
    *,
    corpus_from: str | Path | None = None,
    max_chunks: int | None = None,
    margin: Margin = DEFAULT_MARGIN,
    progress: Progress = no_progress,
    device: str | None = None,
) -> list[SliceComparison]:
    """Per-language held-out bits per byte, tuned vs base (``delta > 0``: the tuned model got
    worse): the ``retention`` suite run on both models (cached per model) and compared with
    ``tripwire.evals.compare_runs``. ``corpus_from`` is a reference model directory (default:
    ``base_dir``); each comparison's ``slice`` is the language."""
    from tripwire.evals import HFBackend, cached_eval, compare_runs, get_suite

    suite = get_suite(
        "retention", corpus=corpus_from or base_dir, max_per_language=max_chunks or 10_000
    )
    runs = []
    for role, model in (("base", base_dir), ("tuned", tuned_dir)):
        backend = HFBackend(merged_checkpoint(model))
        if device is not None:
            backend.device = device

        def step(task: str, done: int, total: int, label: str = f"retention {role}") -> None:
            progress(label, done, total)

        runs.append(cached_eval(suite, backend, progress=step).path)
        backend.release()  # one model in memory at a time
    comparison = compare_runs(runs[0], runs[1], margins={"bits_per_byte": margin})
    return [
        replace(c, slice=c.slice.partition("=")[2])
        for c in comparison.slices
        if c.slice.startswith("language=")
        and (languages is None or c.slice.partition("=")[2] in languages)
    ]


def _shown(c: SliceComparison) -> str:
    rel = c.delta / c.baseline if c.baseline else 0.0
    return (
        f"{c.slice}: {c.baseline:.3f} -> {c.candidate:.3f} bits/byte ({rel:+.1%}, "
        f"90% CI of the change [{c.ci_low:+.3f}, {c.ci_high:+.3f}], p={c.p_value:.2g})"
    )


def retention_findings(
    comparisons: list[SliceComparison],
    targets: list[str],
    target: list[SliceComparison] | None = None,
    split: str = "",
) -> list[Finding]:
    """The comparison as Findings: a language the fine-tune did not target that regressed
    blocks (forgetting); the targets' change is reported (a target that got worse warns).
    ``target``: the targets' change on held-out fine-tuning data (``split`` says which), which
    then decides the target findings; the targets' change on the base's corpus is reported
    beside it as information (data unlike the fine-tune's is no measure of what it learned)."""
    out = []
    measured = {c.slice for c in target or []}
    for c in target or []:
        code, sev = ("train.target_gain", Severity.INFO) if c.delta < 0 else (
            "train.target_not_improved", Severity.WARN)  # fmt: skip
        out.append(Finding(code, sev, f"target {_shown(c)} on {split}",
                           evidence={**c.to_dict(), "measured_on": split}))  # fmt: skip
    for c in comparisons:
        shown = _shown(c)
        if c.slice in targets and c.slice in measured:
            out.append(Finding("train.target_on_base_corpus", Severity.INFO,
                               f"target on the base's held-out corpus {shown}",
                               evidence={**c.to_dict(), "measured_on": "the base's held-out "
                                         "corpus"}))  # fmt: skip
        elif c.slice in targets:
            code, sev = (
                ("train.target_gain", Severity.INFO)
                if c.delta < 0
                else ("train.target_not_improved", Severity.WARN)
            )
            out.append(Finding(code, sev, f"target {shown} on the base's held-out corpus",
                               evidence={**c.to_dict(),
                                         "measured_on": "the base's held-out corpus"}))  # fmt: skip
        elif c.regressed:
            out.append(
                Finding("train.forgetting", Severity.BLOCK, f"forgot {shown}", evidence=c.to_dict())
            )
        else:
            out.append(
                Finding(
                    "train.retained", Severity.INFO, f"{c.status} {shown}", evidence=c.to_dict()
                )
            )
    return out
