"""Input files -> shards -> records, streaming: JSONL (split at line boundaries) and Parquet
(split at row groups). Each record keeps its original bytes so ``--clean`` can copy it exactly.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tripwire.data._records import FieldMap, Record, parse_record
from tripwire.data._secrets import suspect_strings
from tripwire.errors import BadInputError

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSED_SUFFIXES = (".gz", ".xz", ".bz2", ".zst", ".zstd")
_COUNT_CHUNK = 1 << 20
BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
"""Byte-order marks of encodings JSON Lines is not read in (UTF-32's first: it starts like
UTF-16's)."""
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A ``\\uD800``-``\\uDFFF`` escape: the only way a lone surrogate reaches a decoded line (strict
UTF-8 refuses encoded ones). Cheap to look for in every line; the full check of the decoded
strings runs only where it matches (a pair, as ensure_ascii writes an emoji, matches too)."""
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnreadableInput(BadInputError):
    """Bad input found in a worker process: it comes back to the parent pickled, which
    ``BadInputError``'s two-argument constructor does not survive by itself (the pool would
    report a broken worker instead of the problem)."""

    def __reduce__(self) -> tuple[type[UnreadableInput], tuple[str, str]]:
        return type(self), (self.where, self.problem)


@dataclass(frozen=True)
class Shard:
    """A contiguous slice of one input file, processed as one unit (and resumed as one)."""

    number: int
    path: str
    format: str
    """``jsonl`` or ``parquet``."""
    start: int
    """Byte offset (JSONL) or first row group (Parquet)."""
    stop: int
    first_line: int
    """1-based line (JSONL) or row (Parquet) number of the shard's first record."""
    prefix_ids: bool
    """Records without an id are named ``file:line`` (several inputs) instead of ``line``."""
    fingerprint: str
    """Changes when the file changes, so a stale completion marker is never trusted."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def input_files(paths: list[Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into JSONL and Parquet files."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and f.suffix in JSONL_SUFFIXES + PARQUET_SUFFIXES
            )
            if not found:
                raise BadInputError(p, "folder holds no .jsonl or .parquet files")
            files += found
        elif p.is_file():
            if p.suffix in COMPRESSED_SUFFIXES:
                # shards are byte ranges of the file, which a compressed stream does not have
                raise BadInputError(
                    p, "compressed input is not read: decompress it (gunzip -k) and audit that"
                )
            if p.suffix not in JSONL_SUFFIXES + PARQUET_SUFFIXES:
                raise BadInputError(p, "expected a .jsonl or .parquet file (or a folder of them)")
            files.append(p)
        elif p.exists():
            raise BadInputError(p, "not a regular file or folder (a pipe or a device)")
        else:
            raise BadInputError(p, "no such file or folder")
    if not files:
        raise BadInputError("INPUT", "no input files given")
    return files


def has_records(path: Path) -> bool:
    """Whether an input file holds at least one record (a row, or a line that is not blank)."""
    if path.suffix in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows > 0
        except Exception:  # unreadable: _parquet_shards names the problem
            return True
    with open(path, "rb") as f:
        chunk = f.read(_COUNT_CHUNK).removeprefix(BOM)
        while chunk:
            if chunk.strip():
                return True
            chunk = f.read(_COUNT_CHUNK)
    return False


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def _count_lines(f: Any, start: int, stop: int) -> int:
    f.seek(start)
    left, n = stop - start, 0
    while left > 0:
        chunk = f.read(min(_COUNT_CHUNK, left))
        if not chunk:
            break
        n += chunk.count(b"\n")
        left -= len(chunk)
    return n


def _jsonl_shards(path: Path, target_bytes: int, prefix: bool, first: int) -> list[Shard]:
    size = path.stat().st_size
    fp = _fingerprint(path)
    shards: list[Shard] = []
    with open(path, "rb") as f:
        head = f.read(4)
        for mark, encoding in _WIDE_BOMS:
            # one error for the file, not a bad_format finding for each of its lines
            if head.startswith(mark):
                raise BadInputError(
                    path,
                    f"encoded as {encoding} (its byte-order mark says so); JSON Lines is read as "
                    f"UTF-8: iconv -f {encoding} -t UTF-8 {path.name} > {path.stem}.utf8.jsonl",
                )
        start, line = 0, 1
        while start < size or not shards:
            f.seek(min(size, start + target_bytes))
            if start + target_bytes < size:
                f.readline()
            stop = min(size, max(f.tell(), start + 1)) if size else 0
            shards.append(
                Shard(
                    first + len(shards),
                    str(path),
                    "jsonl",
                    start,
                    stop,
                    line,
                    prefix,
                    f"{fp}:{start}-{stop}",
                )
            )
            line += _count_lines(f, start, stop)
            start = stop
            if size == 0:
                break
    return shards


def _parquet_shards(path: Path, target_bytes: int, prefix: bool, first: int) -> list[Shard]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        meta, names = pf.metadata, pf.schema_arrow.names
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise BadInputError(path, f"not a readable Parquet file: {_one_line(exc)}") from exc
    seen: set[str] = set()
    for name in names:
        # a row read as a dict keeps only one of them: the other column would vanish unnoticed
        if name in seen:
            raise BadInputError(path, f"duplicate column {name!r}")
        seen.add(name)
    fp = _fingerprint(path)
    shards: list[Shard] = []
    group, row = 0, 1
    while group < meta.num_row_groups or not shards:
        stop, size, rows = group, 0, 0
        while stop < meta.num_row_groups and (stop == group or size < target_bytes):
            size += meta.row_group(stop).total_byte_size
            rows += meta.row_group(stop).num_rows
            stop += 1
        shards.append(
            Shard(
                first + len(shards),
                str(path),
                "parquet",
                group,
                stop,
                row,
                prefix,
                f"{fp}:{group}-{stop}",
            )
        )
        row += rows
        group = stop
        if meta.num_row_groups == 0:
            break
    return shards


def plan_shards(files: list[Path], target_bytes: int = 4 << 20) -> list[Shard]:
    """Cut the inputs into shards of about ``target_bytes`` each, in input order."""
    prefix = len(files) > 1
    shards: list[Shard] = []
    for path in files:
        plan = _parquet_shards if path.suffix in PARQUET_SUFFIXES else _jsonl_shards
        shards += plan(path, target_bytes, prefix, len(shards))
    return shards


def _default_id(shard: Shard, line: int) -> Any:
    return f"{Path(shard.path).name}:{line}" if shard.prefix_ids else line


def _jsonl_lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the newline) of every non-blank line of a JSONL shard."""
    with open(shard.path, "rb") as f:
        f.seek(shard.start)
        pos, line = shard.start, shard.first_line
        while pos < shard.stop:
            raw = f.readline()
            if not raw:
                break
            if pos == 0 and raw.startswith(BOM):
                # the file's mark, not the record's: copied, it would sit mid-file in a clean
                # copy of several inputs, where JSON readers reject it
                raw = raw[len(BOM) :]
                pos += len(BOM)
            pos += len(raw)
            raw = raw[:-1] if raw.endswith(b"\n") else raw
            if raw.strip():
                yield line, raw
            line += 1


def _jsonl_records(shard: Shard, fm: FieldMap) -> Iterator[tuple[bytes, Record]]:
    for line, raw in _jsonl_lines(shard):
        yield raw, _decode(raw, line, _default_id(shard, line), fm)


def _decode(raw: bytes, line: int, default_id: Any, fm: FieldMap) -> Record:
    try:
        # decoded here, strictly: json.loads(bytes) would also take UTF-16 and UTF-32 lines
        # (and UTF-8-encoded surrogates), whose bytes the clean copy then holds as they are
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problem = "line is not valid UTF-8"
    except json.JSONDecodeError as exc:
        problem = f"malformed JSON: {exc.msg} at column {exc.colno}{_pretty(raw)}"
        if raw.count(0) * 3 >= len(raw):
            # UTF-16/32 text of ASCII characters is valid UTF-8, with a NUL byte beside each
            problem = "line is not valid UTF-8 (its NUL bytes suggest UTF-16 or UTF-32)"
    except ValueError as exc:  # an integer past Python's digit limit (sys.set_int_max_str_digits)
        problem = f"JSON number too long to read: {str(exc).split(';')[0]}"
    except RecursionError:  # Python's parser recurses per level: an adversary's bracket run
        problem = "JSON nested too deeply to read"
    else:
        surrogate = lone_surrogate(obj) if _SURROGATE_ESCAPE.search(raw) else None
        if surrogate is None:
            return parse_record(obj, line, default_id, fm, raw)
        # no UTF-8 text holds it: every later step that encodes the record would fail on it
        problem = f"invalid Unicode: lone surrogate {surrogate} (half of a UTF-16 pair)"
    bad = Record(default_id, line, "invalid")
    bad.problems.append(problem)
    # a line that is not JSON is scanned as the text it is
    bad.suspects = suspect_strings(raw, raw.decode("utf-8", "replace"))
    return bad


def lone_surrogate(obj: Any) -> str | None:
    """The ``\\uXXXX`` escape of the first lone surrogate in any string (key or value) of a
    decoded JSON value, or None. Iterative: the value may be nested as deep as json.loads
    goes."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                return f"\\u{ord(found.group()):04x}"
        elif isinstance(value, dict):
            stack += value.keys()
            stack += value.values()
        elif isinstance(value, list):
            stack += value
    return None


def _pretty(raw: bytes) -> str:
    """A hint when the line is the first of a pretty-printed JSON document."""
    if raw.strip() in (b"[", b"{"):
        return " (pretty-printed JSON? JSON Lines holds one record per line: jq -c '.[]')"
    return ""


def _text(value: Any) -> Any:
    """A binary cell holding UTF-8 text (columns some exports store source in) as that text,
    so its checks read it; other binary stays bytes, which the checks name as such."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _cell(value: Any) -> Any:
    """A Parquet cell as JSON, as the clean copy (and every output quoting the record) holds
    it; the checks read the cell as ``_text`` leaves it:

    - binary holding UTF-8 text (where some exports store source) is that text;
    - other binary is ``{"base64": "<its bytes, base64>"}``: lossless, and never mistaken for
      text (a ``b'...'`` repr would be);
    - NaN and infinite floats are ``null``: JSON has no such numbers, and a strict reader
      rejects the whole line that holds one;
    - lists and structs are converted cell by cell; other values (dates, decimals) are written
      as their text.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    return value


def _one_line(exc: Exception) -> str:
    """pyarrow's messages span lines, and quote the file's bytes (control characters among
    them); an error is told in one line of text."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(exc)).split())


def _unreadable(path: str, exc: Exception) -> UnreadableInput:
    return UnreadableInput(path, f"not a readable Parquet file: {_one_line(exc)}")


def _parquet_records(shard: Shard, fm: FieldMap) -> Iterator[tuple[bytes, Record]]:
    import pyarrow.parquet as pq

    groups = list(range(shard.start, shard.stop))
    if not groups:
        return
    line = shard.first_line
    try:
        batches = pq.ParquetFile(shard.path).iter_batches(row_groups=groups, batch_size=1024)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise _unreadable(shard.path, exc) from exc
    while True:
        try:
            # the footer was read when the shards were planned; a corrupt page shows only here
            batch = next(batches, None)
            rows = batch.to_pylist() if batch is not None else []
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise _unreadable(shard.path, exc) from exc
        if batch is None:
            return
        for row in rows:
            row = {k: _text(v) for k, v in row.items()}
            cells = {k: _cell(v) for k, v in row.items()}
            raw = json.dumps(cells, ensure_ascii=False, allow_nan=False, default=str).encode()
            yield raw, parse_record(row, line, _default_id(shard, line), fm, raw)
            line += 1


def read_shard(shard: Shard, fields: FieldMap) -> Iterator[tuple[bytes, Record]]:
    """Every record of ``shard`` in order, with its original bytes (JSON text for Parquet)."""
    reader = _parquet_records if shard.format == "parquet" else _jsonl_records
    yield from reader(shard, fields)


def read_raw(shard: Shard, fields: FieldMap) -> Iterator[bytes]:
    """The original bytes of ``read_shard``'s records, without decoding JSONL lines."""
    if shard.format == "parquet":
        yield from (raw for raw, _ in _parquet_records(shard, fields))
    else:
        yield from (raw for _, raw in _jsonl_lines(shard))
