"""Fault zoos: broken and harmless variants of the tiny reference model and of a real pretrained
BERT, built once and cached on disk (keyed by the fault code and this file), so pytest-xdist
workers and later runs share one build."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from tripwire import faults as _faults
from tripwire.artifacts import ArtifactKind, Manifest, atomic_path
from tripwire.faults import Fault

CACHE = Path(__file__).resolve().parents[2] / ".tripwire-cache" / "tokens-zoo"

# Code that real snippets use: byte-level BPE strings for the GPT-2-style tiny model,
# lowercase WordPiece words for BERT.
TINY = {
    "swap": [" def", " return"],
    "cycle": [" if", " for", "self", " in", " not"],
    "added": ["    return ", "self.", "    def "],
    "head": [" def", " return", " if"],
}
BERT = {
    "swap": ["return", "self"],
    "cycle": ["if", "for", "while", "class", "import"],
    "added": ["self.", "!=", "=>"],
}


@dataclass(frozen=True)
class Variant:
    """One zoo member and what the audit must say about it."""

    name: str
    path: Path
    baseline: Path
    verdict: str
    code: str
    """The finding that must carry the fault's token ids ("": none must)."""
    token_ids: tuple[int, ...]


Maker = Callable[[Path, Path], Fault]


def _makers(tokens: dict[str, list[str]], *, causal: bool) -> dict[str, tuple[Maker, str, str]]:
    """name -> (maker, expected verdict, finding that carries the fault's ids or "")."""
    f = _faults
    words, cycle, swap = tokens["added"], tokens["cycle"], tokens["swap"]
    roles = ("eos_token", "pad_token") if causal else ("cls_token", "sep_token")

    def identical(s: Path, d: Path) -> Fault:
        return Fault(f.copy_checkpoint(s, d), "identical", "")

    def clean(s: Path, d: Path) -> Fault:
        return f.finetune(s, d, steps=4) if causal else f.perturb(s, d, scale=0.01)

    return {
        "identical": (identical, "pass", ""),
        "clean_finetune": (clean, "pass", ""),
        "ids_swapped": (lambda s, d: f.reassign_ids(s, d, swap), "block", "rows_remapped"),
        "ids_rotated": (lambda s, d: f.reassign_ids(s, d, cycle), "block", "rows_remapped"),
        "added_random": (
            lambda s, d: f.add_tokens(s, d, words, "random"),
            "block",
            "new_rows_random",
        ),
        "added_zero": (lambda s, d: f.add_tokens(s, d, words, "zero"), "block", "new_rows_zero"),
        "added_mean": (lambda s, d: f.add_tokens(s, d, words, "mean"), "warn", "new_rows_mean"),
        "beyond_table": (
            lambda s, d: f.add_tokens(s, d, words, None),
            "block",
            "token_ids_beyond_table",
        ),
        "normalizer_changed": (f.change_normalizer, "block", "normalizer_changed"),
        "config_vocab_mismatch": (
            f.config_vocab_mismatch,
            "block",
            "config_vocab_size_mismatch",
        ),
        "special_swapped": (
            lambda s, d: f.swap_special_tokens(s, d, *roles),
            "block",
            "rows_remapped",
        ),
    }


def _key(src: Path, kind: str) -> str:
    """The fault code, this file and the source's content (not its path: a package upgraded
    in place must not reuse a zoo made from the old weights)."""
    h = hashlib.sha256()
    for part in (Path(inspect.getsourcefile(_faults.untie) or "").read_bytes(),
                 Path(__file__).read_bytes()):  # fmt: skip
        h.update(part)
    h.update(f"{kind}:{Manifest.build(src, ArtifactKind.MODEL, command='').id}".encode())
    return h.hexdigest()[:16]


def _build_zoo(
    src: Path, kind: str, tokens: dict[str, list[str]], causal: bool
) -> dict[str, Variant]:
    root = CACHE / f"{kind}-{_key(src, kind)}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / f"{kind}.lock")):
        if not (root / "zoo.json").is_file():
            with atomic_path(root) as tmp:
                tmp.mkdir()
                meta = {}
                for name, (make, verdict, code) in _makers(tokens, causal=causal).items():
                    fault = make(src, tmp / name)
                    meta[name] = [None, verdict, code, list(fault.token_ids)]
                if "head" in tokens:
                    _faults.untie(src, tmp / "untied")
                    meta["untied"] = [None, "pass", "", []]
                    fault = _faults.scramble_head(
                        tmp / "untied", tmp / "head_scrambled", tokens["head"]
                    )
                    meta["head_scrambled"] = [
                        "untied",
                        "block",
                        "output_rows_remapped",
                        list(fault.token_ids),
                    ]
                (tmp / "zoo.json").write_text(json.dumps(meta), encoding="utf-8")
    meta = json.loads((root / "zoo.json").read_text(encoding="utf-8"))
    return {
        # the expected finding code, as the audit names it (its source first)
        name: Variant(
            name,
            root / name,
            root / base if base else src,
            verdict,
            f"tokens.{code}" if code else "",
            tuple(sorted(ids)),
        )
        for name, (base, verdict, code, ids) in meta.items()
    }


@pytest.fixture(scope="session")
def tiny_zoo(tiny_reference: Path) -> dict[str, Variant]:
    return _build_zoo(tiny_reference, "tiny", TINY, causal=True)


@pytest.fixture(scope="session")
def minilm_zoo(minilm_checkpoint: Path) -> dict[str, Variant]:
    return _build_zoo(minilm_checkpoint, "minilm", BERT, causal=False)
