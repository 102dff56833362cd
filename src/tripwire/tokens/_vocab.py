"""A checkpoint's tokenizer as the audit sees it: the fast tokenizer, its raw JSON, its vocabulary
(model vocab plus added tokens) and the special tokens each config file names by role."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tokenizers import Encoding, Tokenizer

from tripwire.artifacts import Checkpoint
from tripwire.documents import Fields
from tripwire.errors import BadInputError, UserError
from tripwire.tokens._errors import one_line

ROLES = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")
# Rows that real checkpoints ship but never train: the reference set for under-training checks.
RESERVED_PATTERN = re.compile(
    r"<\|reserved(_special_token)?_\d+\|>|\[unused\d+\]|<unused\d+>|<extra_id_\d+>"
)


def _content(value: Any) -> str | None:
    """A special-token entry is either a string or an AddedToken dict with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def _vocabulary(raw: dict[str, Any], added: dict[str, dict[str, Any]]) -> dict[str, int]:
    """String -> id from the tokenizer.json document (faster than asking the tokenizer for
    150k-token vocabularies); empty when the model stores its vocabulary some other way."""
    vocab = (raw.get("model") or {}).get("vocab")
    if isinstance(vocab, dict):
        out = dict(vocab)
    elif isinstance(vocab, list):  # Unigram: [piece, score] in id order
        out = {piece[0]: i for i, piece in enumerate(vocab)}
    else:
        return {}
    out.update((content, a["id"]) for content, a in added.items())
    return out


def _object(value: Any, path: Any) -> dict[str, Any]:
    return Fields(value, "", str(path)).data


@dataclass
class TokenizerView:
    """One checkpoint's tokenizer, loaded offline from ``tokenizer.json`` (or converted)."""

    ckpt: Checkpoint
    tokenizer: Tokenizer
    raw: dict[str, Any]
    """The tokenizer.json document (components are compared as JSON)."""
    vocab: dict[str, int]
    """Every token string the tokenizer can emit (model vocabulary and added tokens) -> id."""
    added: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Added tokens by content, as tokenizer.json lists them."""

    @classmethod
    def load(cls, ckpt: Checkpoint) -> TokenizerView:
        path = ckpt.path / "tokenizer.json"
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
                json.loads(text)  # its message names the line and column; the Rust one may not
                tok = Tokenizer.from_str(text)
            except Exception as exc:
                raise BadInputError(path, f"does not load: {exc}") from exc
            # Compared as the installed tokenizers library writes it, defaults filled in: a
            # file from an older version (no "use_regex", "ignore_merges") is the same tokenizer.
            raw = json.loads(tok.to_str())
        else:
            try:
                fast = ckpt.load_tokenizer()
            except BadInputError as exc:
                raise one_line(exc) from exc
            backend = getattr(fast, "backend_tokenizer", None)
            if backend is None:
                raise BadInputError(ckpt.path, "tokenizer has no fast (tokenizers) form to audit")
            tok = backend
            raw = json.loads(tok.to_str())
        # A tokenizer.json may carry padding/truncation for serving; the audit needs raw ids.
        tok.no_padding()
        tok.no_truncation()
        added = {a["content"]: a for a in raw.get("added_tokens") or []}
        return cls(ckpt, tok, raw, _vocabulary(raw, added) or tok.get_vocab(True), added)

    # --- vocabulary ---------------------------------------------------------------------------
    @cached_property
    def size(self) -> int:
        """One past the largest id the tokenizer can emit."""
        return max(self.vocab.values(), default=-1) + 1

    @cached_property
    def id_to_token(self) -> list[str | None]:
        out: list[str | None] = [None] * self.size
        for s, i in self.vocab.items():
            out[i] = s
        return out

    @property
    def model_type(self) -> str:
        return str((self.raw.get("model") or {}).get("type", "unknown"))

    def text_of(self, token_id: int) -> str:
        """What a token reads as, for messages (decoded, so ``Ġdef`` shows as `` def``)."""
        s = self.id_to_token[token_id] if 0 <= token_id < self.size else None
        if s is None:
            return f"<id {token_id}>"
        if s in self.added:
            return s
        text = self.tokenizer.decode([token_id], skip_special_tokens=False)
        return text if text and "\ufffd" not in text else s

    def reserved_ids(self) -> list[int]:
        """Ids of the never-trained reserved / unused tokens (``<|reserved_N|>``, ``[unusedN]``)."""
        return sorted(i for s, i in self.vocab.items() if RESERVED_PATTERN.fullmatch(s))

    # --- special tokens -----------------------------------------------------------------------
    @cached_property
    def config(self) -> dict[str, Any]:
        """tokenizer_config.json (empty when absent); a document that is not an object is bad
        input, not a crash in whatever reads a role from it."""
        return _object(self.ckpt.tokenizer_config(), self.ckpt.path / "tokenizer_config.json")

    @cached_property
    def special_map(self) -> dict[str, Any]:
        """special_tokens_map.json (empty when absent)."""
        return _object(self.ckpt.special_tokens_map(), self.ckpt.path / "special_tokens_map.json")

    def roles(self) -> dict[str, str]:
        """Role -> token string, from tokenizer_config.json, else special_tokens_map.json, else
        (when neither names any role) what transformers' tokenizer class gives by default."""
        return dict(self._roles)

    @cached_property
    def _roles(self) -> dict[str, str]:
        sources = [self.config, self.special_map]
        if not any(_content(src.get(r)) for src in sources for r in ROLES):
            # A checkpoint shipping only vocab.txt or tokenizer.json still loads with roles
            # (BertTokenizer's [CLS], [SEP], ...): reading none would report every role changed.
            sources.append(self._loader_roles())
        out: dict[str, str] = {}
        for role in ROLES:
            value = next((v for v in (_content(s.get(role)) for s in sources) if v), None)
            if value is not None:
                out[role] = value
        return out

    def _loader_roles(self) -> dict[str, Any]:
        try:
            return dict(getattr(self.ckpt.load_tokenizer(), "special_tokens_map", {}) or {})
        except UserError:
            return {}  # nothing loads it: no role is known, as the files said

    def extra_special(self) -> list[str]:
        cfg, smap = self.config, self.special_map
        for source in (cfg, smap):
            for key in ("extra_special_tokens", "additional_special_tokens"):
                values = source.get(key)
                if isinstance(values, list):
                    return [c for c in (_content(v) for v in values) if c is not None]
        return []

    def chat_template(self) -> str | None:
        template = self.config.get("chat_template")
        jinja = self.ckpt.path / "chat_template.jinja"
        if template is None and jinja.is_file():
            try:
                template = jinja.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise BadInputError(jinja, f"unreadable chat template: {exc}") from exc
        return template if template is None else json.dumps(template, sort_keys=True)

    # --- encoding -----------------------------------------------------------------------------
    def encode(self, texts: list[str]) -> list[Encoding]:
        return self.tokenizer.encode_batch(texts, add_special_tokens=False)

    def pieces(self, text: str) -> list[int]:
        """Ids this tokenizer splits ``text`` into (no special tokens added)."""
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def model_pieces(self, token: str) -> list[int]:
        """Ids this tokenizer's model splits a token string of the same alphabet into (byte-level
        BPE strings and WordPiece words), without normalizing or pre-tokenizing it again."""
        prefix = (self.raw.get("model") or {}).get("continuing_subword_prefix") or ""
        if prefix and token.startswith(prefix) and len(token) > len(prefix):
            ids = [t.id for t in self.tokenizer.model.tokenize(token[len(prefix) :])]
            first = self.id_to_token[ids[0]] if ids else None
            if first is not None and prefix + first in self.vocab:
                ids[0] = self.vocab[prefix + first]
            return ids
        return [t.id for t in self.tokenizer.model.tokenize(token)]
