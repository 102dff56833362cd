"""Structural checks of one checkpoint: do config, tokenizer files and weight tables agree?"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from tripwire.artifacts import Checkpoint
from tripwire.documents import Fields
from tripwire.errors import BadInputError
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


def check_config(ckpt: Checkpoint) -> None:
    """The config.json fields the audit and the repair read, as the types transformers needs
    (``"vocab_size": "lots"`` is the stranger's mistake to hear about, not a crash)."""
    fields = Fields(ckpt.config, "", str(ckpt.path / "config.json"))
    fields.optional_whole("vocab_size")
    tie = ckpt.config.get("tie_word_embeddings")
    if tie is not None and not isinstance(tie, bool):
        # transformers reads any non-empty string as true: "false" would tie silently
        raise fields.bad("tie_word_embeddings", f"must be true or false, got {tie!r}")


# Config keys that give the embedding width where it is not the hidden size: ALBERT and ELECTRA
# factorise their embeddings, OPT projects them.
_EMBEDDING_WIDTH_KEYS = ("embedding_size", "word_embed_proj_dim")
# The hidden size's key in the configs of model types transformers does not know.
_HIDDEN_SIZE_KEYS = ("hidden_size", "n_embd", "d_model", "dim")


def _width_key(ckpt: Checkpoint) -> str | None:
    """The config.json key that gives the embedding tables' width, None when it has none."""
    for key in _EMBEDDING_WIDTH_KEYS:
        if key in ckpt.config:
            return key
    try:
        from transformers import CONFIG_MAPPING

        # the model type's own name for hidden_size: n_embd (GPT-2), d_model (T5), dim (...)
        key = CONFIG_MAPPING[ckpt.model_type].attribute_map.get("hidden_size", "hidden_size")
        return key if key in ckpt.config else None
    except (ImportError, KeyError):
        return next((k for k in _HIDDEN_SIZE_KEYS if k in ckpt.config), None)


def check_width(ckpt: Checkpoint, tables: EmbeddingTables) -> None:
    """config.json's hidden (embedding) size must be the weights' width: transformers builds
    the model from the config and refuses weights of another width, so a repair written from
    such a checkpoint would not load (and an audit of it would judge a model nobody can run)."""
    key = _width_key(ckpt)
    if key is None:
        return
    fields = Fields(ckpt.config, "", str(ckpt.path / "config.json"))
    value = fields.optional_whole(key)
    if value is not None and value != tables.width:
        raise fields.bad(
            key,
            f"is {value}, but the embedding weights ({tables.input_name}) are {tables.width} wide",
        )


def config_ties(ckpt: Checkpoint) -> bool:
    """Whether transformers ties the output head to the input embeddings on load: the config's
    tie_word_embeddings, else its model class's default, which is not always true (Llama,
    Mistral and Qwen2 default to an untied head)."""
    value = ckpt.config.get("tie_word_embeddings")
    if value is not None:
        return bool(value)
    return _class_ties(ckpt.model_type)


@functools.cache
def _class_ties(model_type: str) -> bool:
    try:
        from transformers import AutoConfig

        return bool(AutoConfig.for_model(model_type).tie_word_embeddings)
    except (ImportError, ValueError, KeyError, TypeError):
        return True  # a model type transformers does not know: the base class's default


def read_json_object(path: Path) -> dict[str, Any] | None:
    """An optional side file (``generation_config.json``, ``vocab.json``) as a JSON object, or
    None when absent; one that does not parse or is not an object is bad input."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(path, f"unreadable JSON: {exc}") from exc
    return Fields(value, "", str(path)).data


def generation_config(ckpt: Checkpoint) -> dict[str, Any] | None:
    return read_json_object(ckpt.path / "generation_config.json")


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
    out.extend(_nonfinite_findings(tok, tables))
    return out


def _nonfinite_findings(tok: TokenizerView, tables: EmbeddingTables) -> list[Finding]:
    out = []
    for prefix, what, name, ids in (
        ("", "input embedding", tables.input_name, tables.nonfinite_input),
        ("output_", "output head", tables.head_name, tables.nonfinite_head),
    ):
        if not len(ids):
            continue
        shown = ", ".join(repr(tok.text_of(int(i))) for i in ids[:6])
        out.append(
            Finding(
                f"tokens.{prefix}rows_not_finite",
                Severity.BLOCK,
                f"{len(ids)} {what} rows of {name} hold NaN or infinite values: {shown}",
                token_ids=ids.tolist(),
                evidence={"tensor": name, "rows": len(ids)},
            )
        )
    return out


def _tie_findings(ckpt: Checkpoint, tables: EmbeddingTables) -> list[Finding]:
    state = tables.tie_state
    if state == "shared" and not ckpt.is_causal_lm:
        return []  # nothing to tie or to miss (and no transformers import to ask)
    tied = config_ties(ckpt)
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
    cfg = tok.config
    problems: list[str] = []
    lower = normalizer_lowercases(tok.raw.get("normalizer"))
    if "do_lower_case" in cfg and bool(cfg["do_lower_case"]) != lower:
        problems.append(
            f"tokenizer_config.json says do_lower_case={cfg['do_lower_case']} but the "
            f"tokenizer.json normalizer {'does' if lower else 'does not'} lowercase"
        )
    smap = tok.special_map
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
        try:
            lines = vocab_txt.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInputError(vocab_txt, f"unreadable vocabulary: {exc}") from exc
        if lines and lines[-1] == "":
            lines.pop()
        file_vocab = {s: i for i, s in enumerate(lines)}
        name = vocab_txt.name
    elif tok.model_type == "BPE" and vocab_json.is_file():
        file_vocab = read_json_object(vocab_json)
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


def _config_id_problems(
    ckpt: Checkpoint, tok: TokenizerView, roles: dict[str, str]
) -> dict[tuple[str, str], tuple[str, int]]:
    """(file, key) -> (problem, the id the tokenizer gives that role), for every special token
    id in config.json / generation_config.json the tokenizer contradicts."""
    sources = {"config.json": ckpt.config}
    gen = generation_config(ckpt)
    if gen is not None:
        sources["generation_config.json"] = gen
    out = {}
    for fname, cfg in sources.items():
        for key, role in CONFIG_SPECIAL_IDS.items():
            if cfg.get(key) is None or role not in roles or roles[role] not in tok.vocab:
                continue
            want = tok.vocab[roles[role]]
            have = cfg[key] if isinstance(cfg[key], list) else [cfg[key]]
            if want not in have:
                problem = f"{fname} {key}={cfg[key]} but the tokenizer's {role} is {want}"
                out[(fname, key)] = (problem, want)
    return out


def _config_id_finding(
    code: str, severity: Severity, lead: str, problems: dict[tuple[str, str], tuple[str, int]]
) -> list[Finding]:
    """One finding for the config files' special-token ids that contradict the tokenizer."""
    if not problems:
        return []
    texts = [p for p, _ in problems.values()]
    return [
        Finding(
            code,
            severity,
            lead + "; ".join(texts),
            token_ids=sorted({i for _, i in problems.values()}),
            evidence={"problems": texts},
        )
    ]


def _config_id_findings(
    ckpt: Checkpoint, tok: TokenizerView, roles: dict[str, str]
) -> list[Finding]:
    problems = _config_id_problems(ckpt, tok, roles)
    return _config_id_finding("tokens.config_special_token_mismatch", Severity.WARN, "", problems)


def config_id_change_findings(
    base_ckpt: Checkpoint, base_tok: TokenizerView, ckpt: Checkpoint, tok: TokenizerView
) -> list[Finding]:
    """Special token ids the candidate's config files contradict its tokenizer on where the
    baseline's agreed: an eos_token_id edited in generation_config.json alone stops generation
    at the wrong token (a mismatch the baseline already shipped is only the warning above)."""
    before = _config_id_problems(base_ckpt, base_tok, base_tok.roles())
    new = {k: v for k, v in _config_id_problems(ckpt, tok, tok.roles()).items() if k not in before}
    return _config_id_finding(
        "tokens.config_special_token_changed",
        Severity.BLOCK,
        "special token ids in the config files no longer match the tokenizer (they did in the "
        "baseline): ",
        new,
    )
