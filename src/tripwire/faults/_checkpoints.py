"""Fault injection: make a broken (or harmlessly changed) candidate from a healthy checkpoint.

Tests, the demo and the benchmarks build their fault zoos with these, so each fault is made
one way. Every maker copies ``src`` to ``dst`` and returns a ``Fault`` naming the candidate ids
whose rows are now wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file, save_file

from tripwire.artifacts import MANIFEST_NAME, Checkpoint
from tripwire.errors import BadInputError
from tripwire.tokens import TokenizerView

Init = Literal["random", "zero", "mean"]


@dataclass(frozen=True)
class Fault:
    """A candidate made from a healthy checkpoint."""

    path: Path
    name: str
    description: str
    token_ids: tuple[int, ...] = ()
    """Candidate ids whose rows the fault made wrong (what an audit should report)."""


def copy_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint directory without its manifest (the copy will change). Weight files are
    hard-linked where possible: every edit below writes a new file and renames it into place,
    so a link never carries a change back to ``src``."""
    dst = Path(dst)
    if dst.exists():
        shutil.rmtree(dst)

    def link_or_copy(a: str, b: str) -> None:
        if a.endswith((".safetensors", ".bin")):
            try:
                os.link(a, b)
                return
            except OSError:
                pass
        shutil.copy2(a, b)

    shutil.copytree(
        src, dst, ignore=shutil.ignore_patterns(MANIFEST_NAME), copy_function=link_or_copy
    )
    return dst


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- tokenizer and weight editing ------------------------------------------------------------
def _read_tokenizer(path: Path) -> dict[str, Any]:
    return json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))


def _write_tokenizer(path: Path, raw: dict[str, Any]) -> None:
    """Write tokenizer.json and keep a WordPiece vocab.txt in step with it."""
    _replace_text(path / "tokenizer.json", json.dumps(raw, ensure_ascii=False))
    vocab = (raw.get("model") or {}).get("vocab")
    if (path / "vocab.txt").is_file() and isinstance(vocab, dict):
        lines = [s for s, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
        _replace_text(path / "vocab.txt", "\n".join(lines) + "\n")


def _token_string(tok: TokenizerView, text: str) -> str:
    """The vocabulary string of the single token ``text`` encodes to."""
    if text in tok.vocab:
        return text
    ids = tok.pieces(text)
    if len(ids) != 1:
        raise BadInputError(tok.ckpt.path, f"{text!r} is not one token ({len(ids)} pieces)")
    return tok.id_to_token[ids[0]] or text


def _reassign(raw: dict[str, Any], new_ids: dict[str, int]) -> None:
    """Give token strings new ids everywhere tokenizer.json names them."""
    vocab = raw["model"]["vocab"]
    old_to_new = {}
    for s, i in new_ids.items():
        if s in vocab:
            old_to_new[vocab[s]] = i
            vocab[s] = i
    for a in raw.get("added_tokens") or []:
        if a["content"] in new_ids:
            old_to_new[a["id"]] = new_ids[a["content"]]
            a["id"] = new_ids[a["content"]]
    post = raw.get("post_processor") or {}
    for spec in (post.get("special_tokens") or {}).values():
        spec["ids"] = [old_to_new.get(i, i) for i in spec.get("ids", [])]


def _edit_weights(path: Path, edit: Callable[[dict[str, torch.Tensor], Checkpoint], None]) -> None:
    ckpt = Checkpoint.open(path)
    files = [f for f in ckpt.weight_files if f.suffix == ".safetensors"]
    if len(files) != 1:
        raise BadInputError(path, "fault injection needs exactly one model.safetensors")
    # Cloned: the loaded tensors may map the file, which can be a hard link to the source.
    tensors = {k: v.clone() for k, v in load_file(files[0]).items()}
    edit(tensors, ckpt)
    tmp = files[0].with_name(files[0].name + ".tmp")
    save_file(tensors, tmp, metadata={"format": "pt"})
    os.replace(tmp, files[0])


def _update_config(path: Path, **changes: Any) -> None:
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(changes)
    _replace_text(cfg_path, json.dumps(cfg, indent=2) + "\n")


def _view(path: Path) -> TokenizerView:
    return TokenizerView.load(Checkpoint.open(path))


# --- faults ------------------------------------------------------------------------------------
def reassign_ids(
    src: str | Path, dst: str | Path, cycle: Sequence[str], *, name: str = "ids_rotated"
) -> Fault:
    """Rotate the ids of the tokens ``cycle`` (texts, e.g. ``" def"``): each takes the next
    one's id, while the embedding rows stay where they were. Two tokens make a swap."""
    dst = copy_checkpoint(src, dst)
    tok = _view(dst)
    strings = [_token_string(tok, t) for t in cycle]
    ids = [tok.vocab[s] for s in strings]
    raw = _read_tokenizer(dst)
    _reassign(raw, {s: ids[(k + 1) % len(ids)] for k, s in enumerate(strings)})
    _write_tokenizer(dst, raw)
    return Fault(dst, name, f"ids of {list(cycle)} rotated, rows not remapped", tuple(sorted(ids)))


def add_tokens(
    src: str | Path,
    dst: str | Path,
    texts: Sequence[str],
    init: Init | None,
    *,
    name: str | None = None,
    std: float | None = None,
    seed: int = 0,
) -> Fault:
    """Add ``texts`` as added tokens at new ids after the vocabulary. ``init`` says how the grown
    table's new rows are made (``random``: normal with ``std``, by default the config's
    ``initializer_range`` as ``resize_token_embeddings`` once did; 1.0 is a fresh
    ``nn.Embedding``); ``None`` leaves the table (and config vocab_size) as it was, so the
    tokenizer is larger than the table."""
    dst = copy_checkpoint(src, dst)
    tok = _view(dst)
    raw = _read_tokenizer(dst)
    first = tok.size
    for k, text in enumerate(texts):
        if text in tok.vocab:
            raise BadInputError(dst, f"{text!r} is already a token")
        raw.setdefault("added_tokens", []).append(
            {
                "id": first + k,
                "content": text,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": False,
            }
        )
    _write_tokenizer(dst, raw)
    new_ids = tuple(range(first, first + len(texts)))
    if init is None:
        return Fault(
            dst, name or "tokenizer_beyond_table", "tokens added, table not grown", new_ids
        )
    gen = torch.Generator().manual_seed(seed)
    rows = first + len(texts)

    def grow(tensors: dict[str, torch.Tensor], ckpt: Checkpoint) -> None:
        scale = std if std is not None else float(ckpt.config.get("initializer_range", 0.02))
        for key in filter(None, (ckpt.input_embedding_name, ckpt.output_head_name)):
            old = tensors[key]
            extra = rows - old.shape[0]
            if init == "random":
                new = torch.randn(extra, old.shape[1], generator=gen) * scale
            elif init == "zero":
                new = torch.zeros(extra, old.shape[1])
            else:
                new = old.float().mean(0, keepdim=True).expand(extra, -1)
            tensors[key] = torch.cat([old, new.to(old.dtype)])
        if ckpt.output_bias_name:
            old = tensors[ckpt.output_bias_name]
            tensors[ckpt.output_bias_name] = torch.cat([old, old.new_zeros(rows - len(old))])

    _edit_weights(dst, grow)
    _update_config(dst, vocab_size=rows)
    return Fault(dst, name or f"added_{init}", f"tokens added with {init} rows", new_ids)


def config_vocab_mismatch(src: str | Path, dst: str | Path, extra: int = 3) -> Fault:
    """Make config.json's vocab_size ``extra`` larger than the embedding table (a config
    edited for a grown tokenizer, the weights never resized): transformers then refuses to
    load the weights (a negative ``extra`` makes it smaller)."""
    dst = copy_checkpoint(src, dst)
    ckpt = Checkpoint.open(dst)
    rows = int(ckpt.tensor_shape(ckpt.input_embedding_name)[0])
    _update_config(dst, vocab_size=rows + extra)
    return Fault(
        dst, "config_vocab_mismatch", f"config vocab_size {rows + extra}, table {rows} rows"
    )


def change_normalizer(src: str | Path, dst: str | Path) -> Fault:
    """Flip lowercasing: a lowercasing normalizer stops lowercasing; any other starts to."""
    dst = copy_checkpoint(src, dst)
    raw = _read_tokenizer(dst)
    norm = raw.get("normalizer")
    if norm and norm.get("type") == "BertNormalizer":
        norm["lowercase"] = not norm.get("lowercase", True)
    elif norm is None:
        raw["normalizer"] = {"type": "Lowercase"}
    else:
        raw["normalizer"] = {"type": "Sequence", "normalizers": [norm, {"type": "Lowercase"}]}
    _write_tokenizer(dst, raw)
    return Fault(dst, "normalizer_changed", "lowercasing of the normalizer flipped")


def swap_special_tokens(src: str | Path, dst: str | Path, role_a: str, role_b: str) -> Fault:
    """Swap the ids of two special tokens (e.g. ``eos_token`` and ``pad_token``)."""
    roles = _view(Path(src)).roles()
    for role in (role_a, role_b):
        if role not in roles:
            raise BadInputError(src, f"the tokenizer has no {role}")
    fault = reassign_ids(src, dst, [roles[role_a], roles[role_b]], name="special_swapped")
    return Fault(fault.path, fault.name, f"ids of {role_a} and {role_b} swapped", fault.token_ids)


def untie(src: str | Path, dst: str | Path) -> Fault:
    """Store the output head apart from the input embeddings (equal values, config untied)."""
    dst = copy_checkpoint(src, dst)

    def split(tensors: dict[str, torch.Tensor], ckpt: Checkpoint) -> None:
        if ckpt.output_head_name is None:
            tensors["lm_head.weight"] = tensors[ckpt.input_embedding_name].clone()

    _edit_weights(dst, split)
    _update_config(dst, tie_word_embeddings=False)
    return Fault(dst, "untied", "output head stored apart (same values)")


def scramble_head(src: str | Path, dst: str | Path, cycle: Sequence[str]) -> Fault:
    """Rotate the output-head rows of the tokens ``cycle`` in an untied checkpoint."""
    dst = copy_checkpoint(src, dst)
    tok = _view(dst)
    ids = [tok.vocab[_token_string(tok, t)] for t in cycle]

    def rotate(tensors: dict[str, torch.Tensor], ckpt: Checkpoint) -> None:
        head = ckpt.output_head_name
        if head is None:
            raise BadInputError(dst, "scramble_head needs an untied checkpoint (see untie)")
        tensors[head][ids] = tensors[head][ids[1:] + ids[:1]].clone()

    _edit_weights(dst, rotate)
    return Fault(dst, "head_scrambled", f"output-head rows of {list(cycle)} rotated", tuple(ids))


def reinitialise_rows(
    src: str | Path, dst: str | Path, texts: Sequence[str], seed: int = 0
) -> Fault:
    """Replace the input rows of existing tokens with fresh random rows (initializer_range)."""
    dst = copy_checkpoint(src, dst)
    tok = _view(dst)
    ids = sorted(tok.vocab[_token_string(tok, t)] for t in texts)
    gen = torch.Generator().manual_seed(seed)

    def reinit(tensors: dict[str, torch.Tensor], ckpt: Checkpoint) -> None:
        table = tensors[ckpt.input_embedding_name]
        std = float(ckpt.config.get("initializer_range", 0.02))
        table[ids] = (torch.randn(len(ids), table.shape[1], generator=gen) * std).to(table.dtype)

    _edit_weights(dst, reinit)
    return Fault(dst, "rows_reinitialised", f"rows of {list(texts)} re-initialised", tuple(ids))


def perturb(src: str | Path, dst: str | Path, scale: float = 0.01, seed: int = 0) -> Fault:
    """Move every floating-point weight by Gaussian noise of ``scale`` times its tensor's std."""
    dst = copy_checkpoint(src, dst)
    gen = torch.Generator().manual_seed(seed)

    def jitter(tensors: dict[str, torch.Tensor], ckpt: Checkpoint) -> None:
        for key, t in tensors.items():
            if t.is_floating_point() and t.numel() > 1:
                noise = torch.randn(t.shape, generator=gen) * float(t.float().std()) * scale
                tensors[key] = (t.float() + noise).to(t.dtype)

    _edit_weights(dst, jitter)
    return Fault(dst, "perturbed", f"every weight moved by {scale:g} of its spread")


def finetune(
    src: str | Path, dst: str | Path, *, steps: int = 4, lr: float = 3e-4, seed: int = 0
) -> Fault:
    """A clean fine-tune: a few AdamW steps of next-token prediction on the reference corpus's
    training text (or the probe snippets), so every weight moves a little. Causal LMs only."""
    from tripwire.reference import load_reference_corpus
    from tripwire.tokens import builtin_probe

    ckpt = Checkpoint.open(src)
    if not ckpt.is_causal_lm:
        raise BadInputError(src, "finetune needs a causal LM (use perturb for encoders)")
    try:
        texts = [f.text for fs in load_reference_corpus(src, "train").values() for f in fs]
    except BadInputError:
        texts = [p.text for p in builtin_probe()]
    torch.manual_seed(seed)
    model = ckpt.load_model(causal=True).train()
    tok = TokenizerView.load(ckpt)
    ctx = int(ckpt.config.get("n_positions") or ckpt.config.get("max_position_embeddings", 128))
    ids = [i for enc in tok.encode(texts[:64]) for i in enc.ids]
    windows = torch.tensor(ids[: (len(ids) // ctx) * ctx]).view(-1, ctx)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for _ in range(steps):
        batch = windows[torch.randperm(len(windows))[:8]]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    dst = copy_checkpoint(src, dst)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        model.eval().save_pretrained(tmp)
        for f in Path(tmp).iterdir():
            os.replace(f, dst / f.name)
    return Fault(dst, "clean_finetune", f"{steps} AdamW steps at lr {lr:g} (every weight moved)")


def tokenizer_update(
    src: str | Path, dst: str | Path, *, add: Sequence[str], rotate: Sequence[str]
) -> Fault:
    """The incident: a tokenizer update adds tokens (the table grown with random rows) and
    reassigns the ids of existing ones, and the embedding table is not remapped."""
    dst = Path(dst)
    staged = dst.with_name(dst.name + ".stage")
    first = add_tokens(src, staged, add, "random")
    try:
        second = reassign_ids(staged, dst, rotate)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return Fault(
        second.path,
        "tokenizer_update",
        f"{len(add)} tokens added with random rows; ids of {len(rotate)} tokens rotated",
        tuple(sorted(first.token_ids + second.token_ids)),
    )


def frequent_tokens(model_dir: str | Path, n: int, *, skip: int = 0) -> list[str]:
    """The texts of the ``n`` tokens (after the ``skip`` most frequent) that occur most often in
    a reference model's training corpus, each of which encodes back to itself."""
    from tripwire.reference import load_reference_corpus

    tok = _view(Path(model_dir))
    texts = [f.text for fs in load_reference_corpus(model_dir, "train").values() for f in fs]
    counts: Counter[int] = Counter()
    for enc in tok.encode(texts):
        counts.update(enc.ids)
    out: list[str] = []
    for tid, _ in counts.most_common():
        text = tok.tokenizer.decode([tid], skip_special_tokens=False)
        if tok.id_to_token[tid] in tok.added or tok.pieces(text) != [tid]:
            continue
        out.append(text)
        if len(out) == skip + n:
            break
    return out[skip:]
