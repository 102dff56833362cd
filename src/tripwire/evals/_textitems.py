"""Fixed-size text items with stable ids, cut from held-out code, for likelihood-based suites.

Items are cut at line boundaries once a chunk reaches the target size, so an item's id
(``language:path#offset``) names the same text on every machine that has the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.reference import corpus_of, load_reference_corpus

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp",
    ".java": "java", ".go": "go", ".rs": "rust", ".rb": "ruby", ".pl": "perl", ".pm": "perl",
    ".sh": "shell", ".bash": "shell", ".php": "php",
}  # fmt: skip


@dataclass(frozen=True)
class TextItem:
    """One scored unit: a chunk of one file."""

    item_id: str
    language: str
    text: str


def chunk_text(text: str, size: int) -> list[tuple[int, str]]:
    """``(offset, chunk)`` pairs covering ``text``, each ending at a line end near ``size``."""
    out, start, pos = [], 0, 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if pos - start >= size:
            out.append((start, text[start:pos]))
            start = pos
    if pos > start and text[start:pos].strip():
        out.append((start, text[start:pos]))
    return out


def source_files(source: Path) -> dict[str, list[tuple[str, str]]]:
    """``{language: [(path, text)]}`` from a reference model's held-out split or a folder."""
    if corpus_of(source) is not None:
        return {
            lang: [(f.path.as_posix(), f.text) for f in files]
            for lang, files in load_reference_corpus(source, "heldout").items()
        }
    if not source.is_dir():
        raise BadInputError(source, "not a folder of code files or a reference model")
    out: dict[str, list[tuple[str, str]]] = {}
    for p in sorted(source.rglob("*")):
        lang = EXTENSIONS.get(p.suffix)
        if lang is None or not p.is_file():
            continue
        text = _read_code(p)
        out.setdefault(lang, []).append((_shown(p.relative_to(source)), text))
    if not out:
        raise BadInputError(source, "holds no code files with a known extension")
    return out


def _shown(path: Path) -> str:
    """``path`` as text an id can hold: bytes of a name that are not UTF-8 come back from the
    file system as lone surrogates, which no JSON file or hash can encode; ``\\xff`` instead."""
    raw = path.as_posix().encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def _read_code(path: Path) -> str:
    """A corpus file's text; one that cannot be read is named rather than skipped, since a
    silently smaller corpus changes every score without a word."""
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM marks the encoding; it is no code
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"not UTF-8 text (byte {exc.start}); remove it from the "
                            "corpus or convert it") from exc  # fmt: skip
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror or exc}") from exc


def text_items(source: str | Path, chunk_chars: int, max_per_language: int) -> list[TextItem]:
    """Up to ``max_per_language`` chunks per language, taken evenly across the files."""
    items: list[TextItem] = []
    for lang, files in sorted(source_files(Path(source)).items()):
        chunks = [
            TextItem(f"{lang}:{path}#{off}", lang, chunk)
            for path, text in files
            for off, chunk in chunk_text(text, chunk_chars)
        ]
        step = max(1, len(chunks) // max_per_language)
        items += chunks[::step][:max_per_language]
    if not items:
        raise BadInputError(source, "its code files hold no text to score (all empty or blank)")
    return items


def items_sha256(items: list[TextItem]) -> str:
    return sha256_json([[i.item_id, i.text] for i in items])
