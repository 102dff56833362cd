"""A shard's records are checked together (one set of numpy calls for all their tokens and
n-grams, check by check instead of record by record); every result
must be what checking each record on its own gives."""

from __future__ import annotations

import random
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np

from tripwire.data import ContaminationIndex, load_benchmark
from tripwire.data._config import AuditConfig, FieldMap
from tripwire.data._contamination import Probe
from tripwire.data._lexer import (
    ngram_hashes,
    ngram_hashes_many,
    token_ids,
    token_ids_many,
    tokenize,
)
from tripwire.data._map import build_checks
from tripwire.data._records import parse_record
from tripwire.data.checks import CheckRunner
from tripwire.faults import ContaminatedSet

# Edge cases for the batch boundaries: empty, one token, a member access right at a record's
# start (after a record ending in "."), and records shorter than every n-gram width.
_EDGES = ["", "x", "a.", "b + c", ".method()", "obj->f(a).g", "   \n", "$x = 1;"]


def _snippets() -> list[tuple[str, str | None]]:
    rng = random.Random(3)
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    out: list[tuple[str, str | None]] = []
    for f in rng.sample(files, 40):
        text = f.read_text(encoding="utf-8", errors="replace")
        for _ in range(5):
            a = rng.randrange(len(text))
            out.append((text[a : a + rng.randrange(1, 3000)], rng.choice(["python", None, "c"])))
    out += [(t, lang) for t in _EDGES for lang in ("python", "javascript", None)]
    rng.shuffle(out)
    return out


def test_token_ids_and_ngrams_of_a_batch_equal_each_record_alone():
    snippets = _snippets()
    tokens = [tokenize(text, lang) for text, lang in snippets]
    many = token_ids_many(tokens, [lang for _, lang in snippets])
    for toks, (_, lang), (ids, canon) in zip(tokens, snippets, many, strict=True):
        alone = token_ids(toks, lang)
        assert np.array_equal(ids, alone[0]) and np.array_equal(canon, alone[1])
    for n in (1, 5, 10):
        grams = ngram_hashes_many([canon for _, canon in many], n)
        for (_, canon), g in zip(many, grams, strict=True):
            assert np.array_equal(g, ngram_hashes(canon, n))


def test_contamination_of_a_batch_equals_each_record_alone():
    index = ContaminationIndex(load_benchmark("humaneval"))
    texts = [text for text, _ in _snippets()[:150]]
    rng = random.Random(5)
    for item in rng.sample(index.items, 6):  # copies, one inside a larger file
        texts.insert(rng.randrange(len(texts)), item.text)
    texts.insert(7, texts[20] + "\n" + index.items[0].text)
    batch = index.match_many([Probe.of(t, "python") for t in texts])
    alone = [index.match(t, "python") for t in texts]
    assert batch == alone
    assert sum(bool(m) for m in batch) >= 7


def test_checks_of_a_batch_equal_each_record_checked_alone(contaminated: ContaminatedSet):
    fields = FieldMap()
    records = [
        parse_record(obj, k + 1, k + 1, fields) for k, obj in enumerate(contaminated.records)
    ]
    checks = build_checks(AuditConfig(allow_sources=contaminated.allow_sources))
    batch = CheckRunner(checks).run_batch(records)
    faults = 0
    for rec, ctx in zip(records, batch, strict=True):
        alone = CheckRunner(checks).run(rec)
        assert ctx.reasons == alone.reasons, rec.id
        assert ctx.language == alone.language, rec.id
        faults += bool(ctx.reasons)
    assert faults >= 100  # the planted faults were found, so the comparison covered them


def test_compiling_records_warns_nothing_and_leaves_other_warnings_alone():
    # A run of the audit compiles every Python record: their invalid escapes and `is` with
    # literals must not flood stderr, while the program's own warnings still show.
    code = (
        "from tripwire.data._parsing import analyse\n"
        "for _ in range(3):\n"
        "    assert analyse('x = \"\\\\d\"\\nif x is 1: pass\\n', 'python').ok\n"
        "compile('if y is 2: pass', '<mine>', 'exec')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "<record>" not in run.stderr
    assert run.stderr.count("SyntaxWarning") == 1 and "<mine>" in run.stderr
