"""A deliberately degraded copy of a reference model: one language's characteristic tokens get
each other's embedding rows. Slice-level regression checks are proven against it."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from tripwire.artifacts import Checkpoint, atomic_path
from tripwire.errors import BadInputError
from tripwire.reference._build import load_reference_corpus


def characteristic_tokens(model_dir: str | Path, language: str, top: int = 40) -> list[int]:
    """Frequent token ids that occur mostly in ``language`` (train split)."""
    ck = Checkpoint.open(model_dir)
    tok = ck.load_tokenizer()
    train = load_reference_corpus(model_dir, "train")
    if language not in train:
        raise BadInputError(model_dir, f"reference corpus has no {language!r} files")
    counts: dict[str, Counter[int]] = {}
    for lang, files in train.items():
        c: Counter[int] = Counter()
        for enc in tok.backend_tokenizer.encode_batch([f.text for f in files]):
            c.update(enc.ids)
        counts[lang] = c
    mine, total = counts[language], sum(counts.values(), Counter())
    candidates = [t for t, n in mine.items() if n >= 20 and n / total[t] > 0.8]
    return sorted(candidates, key=lambda t: -mine[t])[:top]


def degrade_language(
    model_dir: str | Path, out: str | Path, language: str, *, top: int = 40, seed: int = 0
) -> list[int]:
    """Copy ``model_dir`` to ``out`` with the rows of ``language``'s characteristic tokens
    rotated among themselves (input table and, when untied, output head). Returns the ids."""
    import torch
    from safetensors.torch import load_file, save_file

    ck = Checkpoint.open(model_dir)
    ids = characteristic_tokens(model_dir, language, top)
    if len(ids) < 2:
        raise BadInputError(model_dir, f"too few characteristic {language} tokens to scramble")
    gen = torch.Generator().manual_seed(seed)
    perm = torch.tensor(ids)[torch.randperm(len(ids), generator=gen)]
    perm = torch.roll(perm, 1)  # a rotation after a shuffle: no id keeps its own row
    names = [n for n in (ck.input_embedding_name, ck.output_head_name) if n]
    with atomic_path(out) as tmp:
        shutil.copytree(model_dir, tmp, ignore=shutil.ignore_patterns("tripwire.json"))
        for file in ck.weight_files:
            state = load_file(tmp / file.name)
            touched = False
            for name in names:
                if name in state:
                    t = state[name].clone()
                    t[torch.tensor(ids)] = state[name][perm]
                    state[name] = t
                    touched = True
            if touched:
                save_file(state, tmp / file.name, metadata={"format": "pt"})
    return ids
