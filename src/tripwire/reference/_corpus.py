"""The reference code corpus: real source files found on this machine, never downloaded.

Each file is labelled with its language and assigned to train or held-out by a hash of its path,
so the split is deterministic and stable as files come and go.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sysconfig
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tripwire.artifacts import sha256_json

MAX_FILE_BYTES = 64_000
_MAX_LINE = 400  # longer lines mean minified or generated code, not what a code model should learn


@dataclass(frozen=True)
class SourceFile:
    """One file of the corpus."""

    language: str
    path: Path
    text: str

    @property
    def key(self) -> str:
        """Stable split key: language and path."""
        return f"{self.language}:{self.path.as_posix()}"


@dataclass(frozen=True)
class LanguageSource:
    """Where one language's files are found on a machine."""

    language: str
    roots: Callable[[], list[Path]]
    accept: Callable[[Path], bool]


def _python_roots() -> list[Path]:
    return [Path(sysconfig.get_paths()["stdlib"])]


def javascript_roots() -> list[Path]:
    """Where this machine keeps JavaScript sources: npm's own modules and Debian's."""
    roots = []
    npm = shutil.which("npm")
    if npm:
        roots.append(Path(os.path.realpath(npm)).parent.parent / "node_modules")
    roots += [Path("/usr/lib/node_modules"), Path("/usr/share/nodejs")]
    return roots


def _perl_roots() -> list[Path]:
    return [Path("/usr/share/perl5"), Path("/usr/share/perl"), *Path("/usr/lib").glob("*/perl*")]


def _shell_roots() -> list[Path]:
    return [Path("/usr/bin"), Path("/usr/sbin"), Path("/etc"), Path("/usr/share")]


def _is_shell_script(p: Path) -> bool:
    if p.suffix in (".sh", ".bash"):
        return True
    if p.suffix or p.parent.name not in ("bin", "sbin"):
        return False
    try:
        with open(p, "rb") as f:
            first = f.readline(80)
    except OSError:
        return False
    return first.startswith(b"#!") and (
        first.rstrip().endswith((b"/sh", b"/bash", b" sh", b" bash"))
    )


SOURCES: tuple[LanguageSource, ...] = (
    LanguageSource(
        "python",
        _python_roots,
        lambda p: p.suffix == ".py" and "site-packages" not in p.parts and "test" not in p.parts,
    ),
    LanguageSource(
        "javascript",
        javascript_roots,
        lambda p: p.suffix in (".js", ".mjs", ".cjs") and not p.name.endswith(".min.js"),
    ),
    LanguageSource("c", lambda: [Path("/usr/include")], lambda p: p.suffix == ".h"),
    LanguageSource("perl", _perl_roots, lambda p: p.suffix in (".pm", ".pl")),
    LanguageSource("shell", _shell_roots, _is_shell_script),
)
LANGUAGES: tuple[str, ...] = tuple(s.language for s in SOURCES)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _read_code(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if len(text) < 200 or "\0" in text or max(map(len, text.splitlines()), default=0) > _MAX_LINE:
        return None
    return text


def _split_score(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


@dataclass(frozen=True)
class Corpus:
    """Train and held-out files per language, chosen deterministically within a byte budget."""

    train: dict[str, list[SourceFile]]
    heldout: dict[str, list[SourceFile]]
    skipped: dict[str, str]
    """Languages not found on this machine, with the reason."""

    @property
    def languages(self) -> list[str]:
        return list(self.train)

    def content_hash(self) -> str:
        """Identity of the corpus: every file's key and bytes, in split order."""
        return sha256_json(
            {
                split: {
                    lang: [[f.key, hashlib.sha256(f.text.encode()).hexdigest()] for f in files]
                    for lang, files in part.items()
                }
                for split, part in (("train", self.train), ("heldout", self.heldout))
            }
        )


def collect_corpus(
    train_bytes: int, heldout_bytes: int, *, heldout_fraction: float = 0.15
) -> Corpus:
    """Find each language's files and fill train / held-out up to the byte budgets.

    Files are visited in order of a hash of their path, so the sample is spread over the whole
    tree and the same machine always yields the same corpus.
    """
    train: dict[str, list[SourceFile]] = {}
    heldout: dict[str, list[SourceFile]] = {}
    skipped: dict[str, str] = {}
    for source in SOURCES:
        candidates = sorted(
            {
                p
                for root in source.roots()
                if root.is_dir()
                for p in _walk(root)
                if source.accept(p)
            },
            key=lambda p: _split_score(f"{source.language}:{p.as_posix()}"),
        )
        tr: list[SourceFile] = []
        ho: list[SourceFile] = []
        tr_size = ho_size = 0
        for path in candidates:
            if tr_size >= train_bytes and ho_size >= heldout_bytes:
                break
            key = f"{source.language}:{path.as_posix()}"
            to_heldout = _split_score("split:" + key) < heldout_fraction
            if (to_heldout and ho_size >= heldout_bytes) or (
                not to_heldout and tr_size >= train_bytes
            ):
                continue
            text = _read_code(path)
            if text is None:
                continue
            f = SourceFile(source.language, path, text)
            if to_heldout:
                ho.append(f)
                ho_size += len(text.encode())
            else:
                tr.append(f)
                tr_size += len(text.encode())
        if not tr or not ho:
            skipped[source.language] = (
                f"too few source files found ({len(tr)} train, {len(ho)} held-out)"
            )
            continue
        train[source.language] = tr
        heldout[source.language] = ho
    return Corpus(train=train, heldout=heldout, skipped=skipped)
