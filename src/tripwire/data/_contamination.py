"""Find benchmark items inside records, however they were disguised.

Every part of an item (its prompt, its solution, both together) is cut into n-grams of three
token streams (``_views``): canonical code, code with its names, and the words of its prose. An
item part is found in a record when, on one stream, most of the part's distinctive n-grams occur
in the record *within one stretch* not much longer than the part (scattered hits across a long
file are chance). What each stream needs keeps short items countable without matching ordinary
code:

- ``code`` (10-grams, share ``threshold``, 0.7 by default): parts of at least 16 distinctive
  n-grams. Survives renaming, re-indenting, re-commenting and docstring removal; shorter
  canonical code is generic (``def I(I, I): return I + I``).
- ``names`` (6-grams, share ``threshold`` + 0.1): a whole item or a solution copied with its
  names, down to ten-token functions; a bare solution needs 15 n-grams (Euclid's gcd under the
  same names is everywhere).
- ``words`` (4-grams, share ``threshold`` - 0.2): the docstring, comments or prose prompt, at
  least 6 distinctive n-grams: every HumanEval prompt has 10 words or more, and a renamed copy
  or one cut short keeps most of them; 13 of its words in a row find it too (the GPT-3
  paper's 13-gram rule).

A part's code is indexed as written and, for Python, also as ``ast.unparse`` prints it with and
without type hints (formatters and model rewrites drop redundant parentheses and hints);
semicolons and a comma before a closing bracket are not compared (a minified copy, a
formatter's magic trailing comma). An item's test code (HumanEval's ``check``, MBPP's asserts)
is a part too: a record holding it holds the expected answers. A record whose wrapping hides
code from the lexer (a notebook's JSON, markdown fences, line numbers, JSON string escapes,
Cyrillic or Greek look-alike letters) is matched once more unwrapped (``_unwrapped``).

An n-gram found in more than two items is generic and left out. On 50k functions of the Python
packages installed here no part passes: the closest came to 0.83 of a code part too short to
be indexed, 0.55 on names and 0.36 on words (``benchmarks/decontamination.py`` measures recall
per disguise and false positives against 13-gram overlap).
"""

from __future__ import annotations

import ast
import dataclasses
import html
import json
import math
import re
import textwrap
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

from tripwire.data._benchmarks import BenchmarkItem, load_benchmark
from tripwire.data._lexer import (
    STRING_ID,
    ngram_hashes,
    ngram_hashes_many,
    token_ids,
    token_lines,
    tokenize,
)
from tripwire.data._views import (
    CHANNELS,
    Views,
    code_streams,
    item_views,
    many_code_streams,
    many_word_ids,
    record_word_lines,
    record_words,
)

THRESHOLD = 0.7
MAX_ITEMS_PER_NGRAM = 2


@dataclass(frozen=True)
class Channel:
    name: str
    n: int
    """Tokens (or words) per n-gram."""
    parts: dict[str, tuple[int, float]]
    """Per part looked for on this stream: (distinctive n-grams it needs, what is added to the
    audit's threshold to give the share a record must hold). A part not named is not looked
    for here: a solution's strings are data, not a description."""


_CHANNELS = {
    # a bare solution is often a textbook loop under other names: it must match more closely
    "code": Channel(
        "code",
        10,
        {"prompt": (16, 0.0), "solution": (16, 0.15), "full": (16, 0.0), "test": (16, 0.0)},
    ),
    "names": Channel("names", 6, {"solution": (15, 0.1), "full": (5, 0.1), "test": (15, 0.1)}),
    "words": Channel("words", 4, {"prompt": (6, -0.2), "full": (6, -0.2)}),
}
assert tuple(_CHANNELS) == CHANNELS


@dataclass(frozen=True)
class Match:
    item: BenchmarkItem
    containment: float
    """Share of the part's distinctive n-grams found in one stretch of the record."""
    first_line: int
    last_line: int
    """Lines of the record the matched n-grams span."""
    part: str = "full"
    """``prompt``, ``solution`` or ``full``: which part of the item was found."""
    channel: str = "code"
    """``code``, ``names`` or ``words``: the stream it was found on."""
    in_context: bool = False
    """Found in a chat's system or tool turns (``Record.context``): its lines count there."""


@dataclass(frozen=True)
class Probe:
    """What the index needs of one record (the check step has all of it already)."""

    text: str
    """What is compared: the record's prompt and code (``RecordContext.shingle_text``)."""
    language: str | None
    prompt: str
    tokens: list[str]
    ids: np.ndarray
    canon: np.ndarray
    """``token_ids(tokens, language)``."""

    @classmethod
    def of(cls, text: str, language: str | None = None, prompt: str = "") -> Probe:
        tokens = tokenize(text, language)
        ids, canon = token_ids(tokens, language)
        return cls(text, language, prompt, tokens, ids, canon)


@dataclass(frozen=True)
class _Entry:
    item: int
    part: str
    channel: str
    size: int
    """Distinctive n-grams."""
    length: int
    """Tokens (words) of the part's stream."""


class ContaminationIndex:
    """Inverted indexes, one per stream, from n-grams to the item parts that contain them."""

    def __init__(self, items: list[BenchmarkItem], *, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.items: list[BenchmarkItem] = []
        self.skipped: list[str] = []
        self.entries: list[_Entry] = []
        grams: list[dict[tuple[str, str, int], np.ndarray]] = []
        lengths: list[dict[tuple[str, str, int], int]] = []
        df: dict[str, Counter[int]] = {c: Counter() for c in CHANNELS}
        self._numeric: set[int] = set()
        """Word n-grams of numbers only (``0 0 0 1``): they count towards a share but not
        towards a run of words, since tables of digits are everywhere."""
        for item in items:
            g: dict[tuple[str, str, int], np.ndarray] = {}
            n_of: dict[tuple[str, str, int], int] = {}
            for part, text, prose in item.parts():
                forms = _part_views(part, text, item.language, prose)
                for v, (views, channels) in enumerate(forms):
                    for c in channels:
                        ch, stream = _CHANNELS[c], views.get(c)
                        if part not in ch.parts or len(stream) < ch.n:
                            continue
                        windows = ngram_hashes(stream, ch.n)
                        g[part, c, v] = np.unique(windows)
                        n_of[part, c, v] = len(stream)
                        if c == "words" and views.numbers is not None:
                            self._numeric.update(windows[_all_true(views.numbers, ch.n)].tolist())
            for c in CHANNELS:
                found = [v for (_, cc, _), v in g.items() if cc == c]
                if found:
                    df[c].update(np.unique(np.concatenate(found)).tolist())
            grams.append(g)
            lengths.append(n_of)
        owners: dict[str, dict[int, list[int]]] = {c: defaultdict(list) for c in CHANNELS}
        self._every: dict[int, frozenset[int]] = {}
        """Per entry of a stream with runs: all its n-grams, generic ones too (a run of a
        description's words does not stop at a common phrase)."""
        for item, g, n_of in zip(items, grams, lengths, strict=True):
            kept = []
            seen: set[tuple[str, tuple[int, ...]]] = set()
            for (part, c, v), hashes in g.items():
                distinctive = [h for h in hashes.tolist() if df[c][h] <= MAX_ITEMS_PER_NGRAM]
                key = (c, tuple(distinctive))
                if len(distinctive) >= _CHANNELS[c].parts[part][0] and key not in seen:
                    seen.add(key)  # "full" adds nothing where one part holds all the words
                    kept.append((part, c, v, distinctive, n_of[part, c, v]))
            if not kept:
                self.skipped.append(f"{item.benchmark}/{item.item_id}")
                continue
            k = len(self.items)
            self.items.append(item)
            for part, c, v, distinctive, length in kept:
                e = len(self.entries)
                self.entries.append(_Entry(k, part, c, len(distinctive), length))
                for h in distinctive:
                    owners[c][h].append(e)
                if c in _RUN:
                    self._every[e] = frozenset(g[part, c, v].tolist())
        self._owners = {c: dict(o) for c, o in owners.items()}
        self._sorted = {c: np.array(sorted(o), dtype=np.uint64) for c, o in owners.items()}
        self._bitmap = {c: _bitmap(keys) for c, keys in self._sorted.items()}
        self._fewest: dict[str, int] = {}
        """Per stream, the fewest n-gram hits any part can be found with: a record with fewer
        (a generic n-gram or three) is not looked at."""
        for entry in self.entries:
            need = math.ceil(self.threshold_of(entry.channel, entry.part) * entry.size - 1e-9)
            self._fewest[entry.channel] = min(self._fewest.get(entry.channel, need), need)

    def __len__(self) -> int:
        return len(self.items)

    def threshold_of(self, channel: str, part: str) -> float:
        """The share of a part's n-grams a record must hold on a stream."""
        return min(1.0, self.threshold + _CHANNELS[channel].parts[part][1])

    def match(self, text: str, language: str | None = None, prompt: str = "") -> list[Match]:
        """Items found in ``text`` (with ``prompt``: a record's prompt and code), best first."""
        if not self.items or not text:
            return []
        return self.match_many([Probe.of(text, language, prompt)])[0]

    def match_many(self, probes: Sequence[Probe]) -> list[list[Match]]:
        """``match`` of each record of a batch: one membership test per stream over the whole
        batch's n-grams finds the few records that share any with an item; only those are
        matched one by one. A record whose wrapping hides its code from the lexer (see
        ``_unwrapped``) is matched unwrapped too."""
        out = self._match_batch(probes)
        unwrapped = {k: u for k, p in enumerate(probes) if (u := _unwrapped(p))}
        if unwrapped:
            again = self._match_batch(list(unwrapped.values()))
            for k, found in zip(unwrapped, again, strict=True):
                if found:
                    out[k] = merged(out[k], found)
        return out

    def _match_batch(self, probes: Sequence[Probe]) -> list[list[Match]]:
        out: list[list[Match]] = [[] for _ in probes]
        if not self.items or not probes:
            return out
        kept = _kept_many([p.canon for p in probes])
        codes, names = many_code_streams(
            [(p.ids[k], p.canon[k]) for p, k in zip(probes, kept, strict=True)]
        )
        said = [record_words(p.text, p.prompt, p.tokens, p.canon, p.language) for p in probes]
        streams = {"code": list(codes), "names": list(names), "words": many_word_ids(said)}
        grams = {c: ngram_hashes_many(streams[c], _CHANNELS[c].n) for c in CHANNELS}
        candidates: set[int] = set()
        for c in CHANNELS:
            candidates.update(self._sharing(c, grams[c]))
        for k in sorted(candidates):
            out[k] = self._match_one(probes[k], {c: grams[c][k] for c in CHANNELS})
        return out

    def _sharing(self, channel: str, grams: list[np.ndarray]) -> list[int]:
        """Records with enough n-grams in this stream's index for some part to be found."""
        keys = self._sorted[channel]
        if not len(keys) or not grams:
            return []
        counts = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
        flat = np.concatenate(grams)
        if not len(flat):
            return []
        # One bit per value of the hashes' low bits rules out nearly every n-gram with a
        # gather; the few left are looked up exactly.
        maybe = np.flatnonzero(self._bitmap[channel][flat & _LOW_BITS])
        at = np.minimum(np.searchsorted(keys, flat[maybe]), len(keys) - 1)
        hit = np.zeros(len(flat) + 1, dtype=np.intp)
        hit[maybe + 1] = keys[at] == flat[maybe]
        found = np.cumsum(hit)
        ends = np.cumsum(counts)
        hits = found[ends] - found[ends - counts]
        enough: list[int] = np.flatnonzero(hits >= self._fewest[channel]).tolist()
        return enough

    def _longest_run(self, grams: list[int], e: int) -> tuple[int, int, int]:
        """(words-like n-grams, first and last position) of the longest run of consecutive
        record n-grams that all belong to entry ``e``'s part."""
        every, numeric = self._every[e], self._numeric
        best = (0, 0, 0)
        count, start = 0, 0
        for pos, h in enumerate(grams):
            if h not in every:
                count = 0
                continue
            if count == 0:
                start = pos
            count += h not in numeric
            if count > best[0]:
                best = (count, start, pos)
        return best

    def _match_one(self, probe: Probe, grams: dict[str, np.ndarray]) -> list[Match]:
        best: dict[int, tuple[float, _Entry, int, int, str]] = {}
        for c in CHANNELS:
            owners = self._owners[c]
            hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for pos, h in enumerate(grams[c].tolist()):
                for e in owners.get(h, ()):
                    hits[e].append((pos, h))
            run = _RUN.get(c)
            glist = grams[c].tolist()
            for e, found in hits.items():
                entry = self.entries[e]
                need = self.threshold_of(c, entry.part)
                distinct = len({h for _, h in found})
                longest = self._longest_run(glist, e) if run else (0, 0, 0)
                if distinct < need * entry.size and longest[0] < (run or 0):
                    continue
                share, lo, hi = _best_stretch(found, entry, _CHANNELS[c].n)
                if share < need:
                    if not run or longest[0] < run:
                        continue
                    lo, hi = longest[1], longest[2]  # found by its run, whatever its share
                if share > best.get(entry.item, (-1.0,))[0]:
                    best[entry.item] = (share, entry, lo, hi, c)
        if not best:
            return []
        lines: dict[str, list[int]] = {}
        out = []
        for share, entry, lo, hi, c in best.values():
            if c not in lines:
                lines[c] = _stream_lines(probe, c)
            ln = lines[c]
            end = min(hi + _CHANNELS[c].n - 1, len(ln) - 1)
            first = ln[min(lo, len(ln) - 1)] if ln else 1
            out.append(
                Match(
                    self.items[entry.item],
                    round(share, 3),
                    first,
                    ln[end] if ln else first,
                    entry.part,
                    c,
                )
            )
        out.sort(key=lambda m: (-m.containment, m.item.benchmark, m.item.item_id))
        return out


def merged(first: list[Match], second: list[Match]) -> list[Match]:
    """The better match of each item of two lists, best first."""
    best: dict[tuple[str, str], Match] = {}
    for m in first + second:
        key = (m.item.benchmark, m.item.item_id)
        if key not in best or m.containment > best[key].containment:
            best[key] = m
    return sorted(best.values(), key=lambda m: (-m.containment, m.item.benchmark, m.item.item_id))


# Wrappings that hide code from the lexer, undone before a second look. Each keeps the
# record's lines where it can, so a match still names the lines of the copy.
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[^\n`]*$", re.MULTILINE)
"""A markdown fence line: the lexer reads backticks as a quote, so a fenced block of a chat
answer would be one string literal."""
_NUMBERED = re.compile(r"^([ \t]*)(\d{1,5})(?:[:|.)]\s?| )", re.MULTILINE)
"""A line number a code viewer or forum post puts before each line (``12: ``, ``12 | ``)."""
_ESCAPED_NEWLINES = 3
_CONFUSABLES = str.maketrans(
    # Cyrillic and Greek letters drawn like Latin ones: a name spelled with them is a
    # different token to the lexer, and is split where a non-ASCII letter starts it
    "аеорсхуіјѕԁһԛԝАВЕКМНОРСТХІЈЅαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcxyijsdhqwABEKMHOPCTXIJSabeikvoptuxABEZHIKMNOPTYX",
    # invisible characters inside a name make it another string, and split it for the lexer
    "\u200b\u200c\u200d\u2060\ufeff\u00ad",
)


def _unwrapped(probe: Probe) -> Probe | None:
    """The record with the wrapping around its code undone (a notebook's cells, markdown
    fences, line numbers, JSON string escapes, HTML entities, look-alike letters, invisible
    characters), or None when it has none."""
    text = probe.text
    new = _notebook_source(text) if text[:256].lstrip()[:1] == "{" else None
    new = new if new is not None else text
    if "```" in new or "~~~" in new:
        new = _FENCE.sub("", new)
    if new[:8].lstrip()[:1].isdigit() or "\n1" in new:
        new = _without_line_numbers(new)
    escaped = new.count("\\n")
    if escaped >= _ESCAPED_NEWLINES and escaped > new.count("\n"):
        new = _unescaped(new)
    if "&lt;" in new or "&gt;" in new or "&quot;" in new or "&#" in new:
        new = html.unescape(new)  # a scraped page's text: its code as HTML entities
    if not new.isascii():
        new = unicodedata.normalize("NFKC", new.translate(_CONFUSABLES))
    if new == text:
        return None
    return Probe.of(new, probe.language, probe.prompt)


def _notebook_source(text: str) -> str | None:
    """The cells of a Jupyter notebook, one after another, or None when ``text`` is not one."""
    if '"cells"' not in text:
        return None
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):
        return None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return None
    out = []
    for cell in cells:
        source = cell.get("source") if isinstance(cell, dict) else None
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            out.append(source)
    return "\n\n".join(out)


def _without_line_numbers(text: str) -> str:
    """``text`` without the numbers before its lines when most lines carry them, counting up
    (a line of code that starts with a number is data; a run of them counting up is not)."""
    lines = text.splitlines(keepends=True)
    found = [_NUMBERED.match(line) for line in lines]
    numbers = [int(m.group(2)) for m in found if m]
    filled = sum(1 for line in lines if line.strip())
    ups = sum(1 for a, b in pairwise(numbers) if b == a + 1)
    if len(numbers) < 3 or len(numbers) < 0.8 * filled or ups < 0.8 * (len(numbers) - 1):
        return text
    return "".join(
        m.group(1) + line[m.end() :] if m else line for m, line in zip(found, lines, strict=True)
    )


def _unescaped(text: str) -> str:
    """Code held as a JSON or Python string literal: its escapes undone."""
    return (
        text.replace("\\\\", "\0")
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace('\\"', '"')
        .replace("\\'", "'")
        .replace("\0", "\\")
    )


_RUN = {"words": 10}
"""Consecutive n-grams that find a part whatever its share: ten word 4-grams in a row are 13
words of its description, the GPT-3 paper's 13-gram rule (a copy cut short keeps them)."""


def _all_true(mask: np.ndarray, n: int) -> np.ndarray:
    """For each window of ``n`` (as ``ngram_hashes`` cuts them), whether all of it is True."""
    if len(mask) < n:
        return np.zeros(min(1, len(mask)), dtype=bool)
    sums = np.concatenate(([0], np.cumsum(mask)))
    return (sums[n:] - sums[:-n]) == n


_LOW_BITS = np.uint64((1 << 24) - 1)


def _bitmap(keys: np.ndarray) -> np.ndarray:
    """Which values of the low 24 bits some key has (16 MB of bools would be slower to build
    than this 2 MB table is to read)."""
    table = np.zeros(1 << 24, dtype=bool)
    table[keys & _LOW_BITS] = True
    return table


def _best_stretch(found: list[tuple[int, int]], entry: _Entry, n: int) -> tuple[float, int, int]:
    """(share of the part's n-grams, first and last position) in the record window of at most
    twice the part's length (plus slack) holding the most of its distinct n-grams."""
    width = 2 * entry.length + n
    found.sort()
    inside: Counter[int] = Counter()
    best = (0, 0, 0)
    lo = 0
    for pos, h in found:
        inside[h] += 1
        while pos - found[lo][0] > width:
            old = found[lo][1]
            inside[old] -= 1
            if not inside[old]:
                del inside[old]
            lo += 1
        if len(inside) > best[0]:
            best = (len(inside), found[lo][0], pos)
    return best[0] / entry.size, best[1], best[2]


def _stream_lines(probe: Probe, channel: str) -> list[int]:
    if channel == "words":
        p = probe
        return record_word_lines(p.text, p.prompt, p.tokens, p.canon, p.language)
    lines = token_lines(probe.text, probe.language)
    kept = (_kept(probe.canon) & (probe.canon != STRING_ID)).tolist()
    return [line for line, keep in zip(lines, kept, strict=True) if keep]


_IDS = token_ids([";", ",", ")", "]", "}"])[0]
_SEMICOLON, _COMMA, _CLOSERS = _IDS[0], _IDS[1], _IDS[2:]


def _kept(code: np.ndarray) -> np.ndarray:
    """Which tokens of a text (by canonical id) its code and names streams compare: not a
    semicolon, which says no more than the line break it replaces (``a = 1; b = 2`` is the
    two lines of a minified copy), nor a comma that closes a bracket (the magic trailing
    comma a formatter adds when it wraps a call one argument a line)."""
    keep = code != _SEMICOLON
    if len(code) > 1:
        closes = (code[1:] == _CLOSERS[0]) | (code[1:] == _CLOSERS[1]) | (code[1:] == _CLOSERS[2])
        keep[:-1] &= ~((code[:-1] == _COMMA) & closes)
    return keep


def _kept_many(codes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``_kept`` of each text of a batch, computed over them all at once (per record, numpy's
    call overhead cost more than the work)."""
    if not codes:
        return []
    flat = _kept(np.concatenate(codes))
    ends = np.cumsum([len(c) for c in codes])
    # a comma ending one text is not closed by the next text's first token
    last = ends[ends > 0] - 1
    flat[last] |= np.concatenate(codes)[last] == _COMMA
    return np.split(flat, ends[:-1])


_ALL = tuple(CHANNELS)
_CODE = ("code", "names")


def _part_views(
    part: str, text: str, language: str | None, prose: bool
) -> list[tuple[Views, tuple[str, ...]]]:
    """(streams, channels to index from them) of one item part: as written, and for Python
    code also as ``ast.unparse`` prints it, with and without type hints (a formatter or a
    model's rewrite drops redundant parentheses and hints; its words are the original's, so
    code only). A test is looked for as written: its variants would only make the
    assertions of other items' tests look generic."""
    out = [(_views_of(text, language, prose), _ALL)]
    if prose or language != "python" or part == "test":
        return out
    try:
        with warnings.catch_warnings():  # a user's item may hold "\/": not the user's problem
            warnings.simplefilter("ignore")
            tree = ast.parse(textwrap.dedent(text))  # a solution is an indented body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return out
    seen = {text.strip()}
    for form in (ast.unparse(tree), ast.unparse(_Unannotated().visit(tree))):
        if form.strip() not in seen:
            seen.add(form.strip())
            out.append((_views_of(form, language, False), _CODE))
    return out


def _views_of(text: str, language: str | None, prose: bool) -> Views:
    """``item_views`` with the code and names streams a record's are compared with."""
    views = item_views(text, language, prose=prose)
    if prose:
        return views
    ids, canon = token_ids(tokenize(text, language), language)
    keep = _kept(canon)
    code, names = code_streams(ids[keep], canon[keep])
    return dataclasses.replace(views, code=code, names=names)


class _Unannotated(ast.NodeTransformer):
    """Type hints of arguments and returns dropped (a rewrite for old Pythons, or a
    model's, leaves them out)."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        self.generic_visit(node)
        return node


@lru_cache(maxsize=2)
def contamination_index(benchmarks: tuple[str, ...], threshold: float) -> ContaminationIndex:
    """The index of these benchmarks' items, built once per process (workers reuse it)."""
    items = [item for spec in benchmarks for item in load_benchmark(spec)]
    return ContaminationIndex(items, threshold=threshold)
