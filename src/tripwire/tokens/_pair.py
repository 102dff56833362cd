"""A baseline and a candidate checkpoint loaded side by side, and their rows compared by token
string: what both the audit and the repair start from."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from tripwire.artifacts import Checkpoint
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.tokens._errors import one_line
from tripwire.tokens._matrix import RowStats
from tripwire.tokens._rows import Correspondence, correspond
from tripwire.tokens._structure import check_config, check_width
from tripwire.tokens._tables import EmbeddingTables
from tripwire.tokens._vocab import TokenizerView


@dataclass
class Side:
    """One checkpoint with its tokenizer and embedding tables."""

    ckpt: Checkpoint
    tok: TokenizerView
    tables: EmbeddingTables

    @classmethod
    def load(cls, path: str | Path) -> Side:
        ckpt = Checkpoint.open(path)
        check_config(ckpt)
        try:
            side = cls(ckpt, TokenizerView.load(ckpt), EmbeddingTables.load(ckpt))
        except BadInputError as exc:
            raise one_line(exc) from exc
        check_width(ckpt, side.tables)
        return side


@dataclass
class Pair:
    base: Side
    cand: Side
    rows: dict[str, Correspondence] = field(default_factory=dict)
    """Row correspondence per matrix (``input``, and ``output`` when a head is stored apart)."""

    @classmethod
    def load(cls, baseline: str | Path, candidate: str | Path) -> Pair:
        base, cand = Side.load(baseline), Side.load(candidate)
        if base.tables.width != cand.tables.width:
            raise BadInputError(
                candidate,
                f"embedding width {cand.tables.width} differs from the baseline's "
                f"{base.tables.width}: not a version of the same model",
            )
        return cls(base, cand)

    @cached_property
    def shared(self) -> tuple[np.ndarray, np.ndarray]:
        """(candidate ids, baseline ids) of the token strings both have, within both tables,
        in candidate id order."""
        b_vocab, b_rows, c_rows = self.base.tok.vocab, self.base.tables.rows, self.cand.tables.rows
        pairs = sorted(
            (i, b_vocab[s])
            for s, i in self.cand.tok.vocab.items()
            if s in b_vocab and i < c_rows and b_vocab[s] < b_rows
        )
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return arr[:, 0].copy(), arr[:, 1].copy()

    @cached_property
    def not_comparable(self) -> np.ndarray:
        """Candidate ids whose rows no distance can be taken for: NaN or infinite in the
        candidate (reported as rows_not_finite), or in the baseline row of the same string."""
        cand_ids, base_ids = self.shared
        base_broken = np.asarray(sorted(self.base.tables.nonfinite), dtype=np.int64)
        was_broken = cand_ids[np.isin(base_ids, base_broken)]
        return np.union1d(np.asarray(sorted(self.cand.tables.nonfinite), np.int64), was_broken)

    @cached_property
    def new_ids(self) -> np.ndarray:
        """Candidate ids, within the candidate table, of tokens the baseline does not have."""
        b_vocab, c_rows = self.base.tok.vocab, self.cand.tables.rows
        return np.asarray(
            sorted(i for s, i in self.cand.tok.vocab.items() if s not in b_vocab and i < c_rows),
            dtype=np.int64,
        )

    @cached_property
    def base_stats(self) -> RowStats:
        return RowStats(self.base.tables.input)

    @cached_property
    def base_output_stats(self) -> RowStats:
        return RowStats(self.base.tables.output())

    @property
    def compare_output(self) -> bool:
        """Whether the output head needs its own comparison (stored apart and different), and
        can have one (a head of another shape is a structural finding, with no row to match)."""
        fits = self.base.tables.head_fits and self.cand.tables.head_fits
        return fits and "different" in (self.base.tables.tie_state, self.cand.tables.tie_state)

    def compare_rows(self, progress: Progress = no_progress) -> dict[str, Correspondence]:
        cand_ids, base_ids = self.shared
        if "input" not in self.rows:
            self.rows["input"] = correspond(
                self.base.tables.input,
                self.cand.tables.input,
                cand_ids,
                base_ids,
                matrix="input",
                progress=progress,
            )
        if self.compare_output and "output" not in self.rows:
            self.rows["output"] = correspond(
                self.base.tables.output(),
                self.cand.tables.output(),
                cand_ids,
                base_ids,
                matrix="output",
                progress=progress,
            )
        return self.rows

    def pieces(self, cand_id: int) -> list[int]:
        """Baseline ids of the pieces the baseline tokenizer splits a candidate token into."""
        cand, base = self.cand.tok, self.base.tok
        s = cand.id_to_token[cand_id] if cand_id < cand.size else None
        if s is None:
            return []
        if s in cand.added or cand.model_type != base.model_type:
            return base.pieces(s)
        try:
            ids = base.model_pieces(s)
        except Exception:  # the model rejects characters it has no piece for: use the text
            ids = []
        return ids or base.pieces(cand.tokenizer.decode([cand_id], skip_special_tokens=False))
