"""Structural checks of one checkpoint: do config, tokenizer files and weight tables agree?"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from tripwire.artifacts import Checkpoint
from tripwire.findings import Finding, Severity
from tripwire.tokens._tables import EmbeddingTables
from tripwire.tokens._vocab import TokenizerView

CONFIG_SPECIAL_IDS = {
    "bos_token_id": "bos_token",
    "eos_token_id": "eos_token",
    "pad_token_id": "pad_token",
    "sep_token_id": "sep_token",
}


def normalizer_lowercases(normalizer: dict[str, Any] | None) -> bool:
    """Whether a tokenizer.json normalizer (possibly a Sequence) lowercases text."""
    if not normalizer:
        return False
    kind = normalizer.get("type")
    if kind == "Lowercase":
        return True
    if kind == "BertNormalizer":
        return bool(normalizer.get("lowercase", True))
    if kind == "Sequence":
        return any(normalizer_lowercases(n) for n in normalizer.get("normalizers", []))
    return False


def table_findings(ckpt: Checkpoint, tok: TokenizerView, tables: EmbeddingTables) -> list[Finding]:
    """Sizes and ties: config vocab_size, tokenizer, input rows, output head, bias."""
    out: list[Finding] = []
    rows = tables.rows
    if ckpt.vocab_size is not None and ckpt.vocab_size != rows:
        out.append(
            Finding(
                "tokens.config_vocab_size_mismatch",
                Severity.BLOCK,
                f"config vocab_size is {ckpt.vocab_size} but {tables.input_name} has {rows} rows",
                evidence={"config_vocab_size": ckpt.vocab_size, "rows": rows},
            )
        )
    beyond = sorted(i for i in tok.vocab.values() if i >= rows)
    if beyond:
        out.append(
            Finding(
                "tokens.token_ids_beyond_table",
                Severity.BLOCK,
                f"{len(beyond)} token ids are beyond the {rows}-row embedding table "
                f"(largest {beyond[-1]}): encoding them indexes past the table",
                token_ids=beyond,
                evidence={"rows": rows, "tokenizer_size": tok.size},
            )
        )
    elif tok.size < rows:
        out.append(
            Finding(
                "tokens.table_larger_than_tokenizer",
                Severity.INFO,
                f"the embedding table has {rows - tok.size} rows no token uses (padding)",
                evidence={"rows": rows, "tokenizer_size": tok.size},
            )
        )
    if tables.head is not None and tuple(tables.head.shape) != tuple(tables.input.shape):
        out.append(
            Finding(
                "tokens.output_head_shape_mismatch",
                Severity.BLOCK,
                f"output head {tables.head_name} is {tuple(tables.head.shape)} but the input "
                f"embeddings are {tuple(tables.input.shape)}",
            )
        )
    head_rows = int(tables.output().shape[0])
    if tables.bias is not None and int(tables.bias.shape[0]) != head_rows:
        out.append(
            Finding(
                "tokens.output_bias_shape_mismatch",
                Severity.BLOCK,
                f"output bias {tables.bias_name} has {int(tables.bias.shape[0])} entries for "
                f"{head_rows} output rows",
            )
        )
    out.extend(_tie_findings(ckpt, tables))
    return out


def _tie_findings(ckpt: Checkpoint, tables: EmbeddingTables) -> list[Finding]:
    tied, state = ckpt.tie_word_embeddings, tables.tie_state
    if tied and state == "different":
        return [
            Finding(
                "tokens.tie_config_mismatch",
                Severity.BLOCK,
                f"config ties the output head to the input embeddings, but the weights store a "
                f"different {tables.head_name}: loading silently replaces it",
                evidence={"config_tied": True, "weights": state},
            )
        ]
    if not tied and state == "shared" and ckpt.is_causal_lm:
        return [
            Finding(
                "tokens.output_head_missing",
                Severity.BLOCK,
                "config unties the output head, but the weights store none: it loads random",
                evidence={"config_tied": False, "weights": state},
            )
        ]
    if not tied and state == "equal":
        return [
            Finding(
                "tokens.tie_config_mismatch",
                Severity.INFO,
                "config unties the output head; the stored head equals the input embeddings",
                evidence={"config_tied": False, "weights": state},
            )
        ]
    return []


def tokenizer_file_findings(ckpt: Checkpoint, tok: TokenizerView) -> list[Finding]:
    """tokenizer.json against tokenizer_config.json, special_tokens_map.json, vocab files and
    the model config's special token ids."""
    out: list[Finding] = []
    cfg = ckpt.tokenizer_config()
    problems: list[str] = []
    lower = normalizer_lowercases(tok.raw.get("normalizer"))
    if "do_lower_case" in cfg and bool(cfg["do_lower_case"]) != lower:
        problems.append(
            f"tokenizer_config.json says do_lower_case={cfg['do_lower_case']} but the "
            f"tokenizer.json normalizer {'does' if lower else 'does not'} lowercase"
        )
    smap = ckpt.special_tokens_map()
    roles = tok.roles()
    for role, value in roles.items():
        mapped = smap.get(role)
        mapped = mapped.get("content") if isinstance(mapped, dict) else mapped
        if isinstance(mapped, str) and mapped != value:
            problems.append(f"{role} is {value!r} in tokenizer_config.json, {mapped!r} in map")
        if value not in tok.vocab:
            problems.append(f"{role} {value!r} is not in the vocabulary")
    if problems:
        out.append(
            Finding(
                "tokens.tokenizer_config_mismatch",
                Severity.WARN,
                "; ".join(problems),
                evidence={"problems": problems},
            )
        )
    out.extend(_vocab_file_findings(ckpt, tok))
    out.extend(_config_id_findings(ckpt, tok, roles))
    return out


def _vocab_file_findings(ckpt: Checkpoint, tok: TokenizerView) -> list[Finding]:
    model_vocab: dict[str, int] = (tok.raw.get("model") or {}).get("vocab") or {}
    if not isinstance(model_vocab, dict):
        return []  # Unigram stores a list of pieces; no side file to compare.
    file_vocab: dict[str, int] | None = None
    vocab_txt, vocab_json = ckpt.path / "vocab.txt", ckpt.path / "vocab.json"
    if tok.model_type == "WordPiece" and vocab_txt.is_file():
        lines = vocab_txt.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        file_vocab = {s: i for i, s in enumerate(lines)}
        name = vocab_txt.name
    elif tok.model_type == "BPE" and vocab_json.is_file():
        file_vocab = json.loads(vocab_json.read_text(encoding="utf-8"))
        name = vocab_json.name
    if file_vocab is None or file_vocab == model_vocab:
        return []
    differ = sorted(
        {i for s, i in model_vocab.items() if file_vocab.get(s) != i}
        | {i for s, i in file_vocab.items() if model_vocab.get(s) != i}
    )
    return [
        Finding(
            "tokens.tokenizer_files_disagree",
            Severity.WARN,
            f"{name} and tokenizer.json disagree on {len(differ)} token ids: a slow tokenizer "
            f"would encode differently from the fast one",
            token_ids=differ,
        )
    ]


def _config_id_findings(
    ckpt: Checkpoint, tok: TokenizerView, roles: dict[str, str]
) -> list[Finding]:
    sources = {"config.json": ckpt.config}
    gen = ckpt.path / "generation_config.json"
    if gen.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            sources["generation_config.json"] = json.loads(gen.read_text(encoding="utf-8"))
    problems, ids = [], set()
    for fname, cfg in sources.items():
        for key, role in CONFIG_SPECIAL_IDS.items():
            if cfg.get(key) is None or role not in roles or roles[role] not in tok.vocab:
                continue
            want = tok.vocab[roles[role]]
            have = cfg[key] if isinstance(cfg[key], list) else [cfg[key]]
            if want not in have:
                problems.append(f"{fname} {key}={cfg[key]} but the tokenizer's {role} is {want}")
                ids.add(want)
    if not problems:
        return []
    return [
        Finding(
            "tokens.config_special_token_mismatch",
            Severity.WARN,
            "; ".join(problems),
            token_ids=sorted(ids),
            evidence={"problems": problems},
        )
    ]
