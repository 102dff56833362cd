"""HumanEval is found verbatim, inside larger files, restyled, renamed, re-indented, without
its docstring and in part, short items included; a ``--benchmark`` file gets the same
treatment; ordinary code is not contaminated."""

from __future__ import annotations

import json
import random
import sysconfig
from collections import Counter
from pathlib import Path

import pytest

from tripwire.data import AuditConfig, ContaminationIndex, audit, load_benchmark
from tripwire.faults import disguise, rename_identifiers, restyle

INDEX = ContaminationIndex(load_benchmark("humaneval"))
ITEMS = INDEX.items
SITE = Path(sysconfig.get_paths()["purelib"])
HOST = (SITE / "packaging" / "version.py").read_text(encoding="utf-8")
CUT = min(HOST.find(k, len(HOST) // 3) % (len(HOST) + 1) for k in ("\ndef ", "\nclass "))
"""A place between two top-level definitions of the host file."""


def _found(text: str, item_id: str, prompt: str = "") -> bool:
    return any(m.item.item_id == item_id for m in INDEX.match(text, "python", prompt))


def test_disguised_copies_are_found_and_named():
    rng = random.Random(0)
    host = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()
    half = host.index("\ndef ", len(host) // 2)  # between two top-level functions
    for item in rng.sample(ITEMS, 25):
        assert _found(item.text, item.item_id)
        assert _found(host[:half] + "\n" + item.text + "\n" + host[half:], item.item_id)
        assert _found(restyle(item.text, rng), item.item_id)
        renamed = rename_identifiers(item.text, rng)
        assert renamed != item.text
        assert _found(renamed, item.item_id)


def test_every_item_is_indexed_and_the_shortest_are_found():
    assert INDEX.skipped == [] and len(ITEMS) == 164
    rng = random.Random(1)
    by_id = {i.item_id: i for i in ITEMS}
    # the short items the issue names (add, triangle_area) and the other one-liners
    for tid in ("HumanEval/53", "HumanEval/45", "HumanEval/2", "HumanEval/23", "HumanEval/41"):
        item = by_id[tid]
        renamed = disguise.ast_rename(item.text, rng)  # the docstring still names the original
        assert _found(item.text, tid) and _found(renamed, tid), tid
        assert _found(disguise.reindent(disguise.drop_docstrings(item.text), 2), tid), tid


# Disguises of every item and the share that must be found: built with the standard library's
# ast and tokenize (not with the lexer the matcher uses), hosted in a file of an installed
# package. Renamed and stripped of its docstring, a short item is ordinary code: not counted.
_RECALL = {
    "verbatim": 1.0,
    "ast renamed, docstring kept": 0.99,
    "2-space indent, no docstring": 1.0,
    "docstring as comments": 1.0,
    "prompt only": 1.0,
    "first 60% of lines": 0.97,
    "chat: prompt asked, solution answered": 1.0,
    "inside a package's file": 1.0,
}


def _variants(item, rng: random.Random) -> dict[str, tuple[str, str]]:
    cut = CUT
    return {
        "verbatim": (item.text, ""),
        "ast renamed, docstring kept": (disguise.ast_rename(item.text, rng), ""),
        "2-space indent, no docstring": (
            disguise.reindent(disguise.drop_docstrings(item.text), 2),
            "",
        ),
        "docstring as comments": (disguise.docstring_as_comments(item.text), ""),
        "prompt only": (item.prompt + "    raise NotImplementedError\n", ""),
        "first 60% of lines": (disguise.head(item.text, 0.6), ""),
        "chat: prompt asked, solution answered": (item.solution, item.prompt),
        "inside a package's file": (HOST[:cut] + "\n\n" + item.text + HOST[cut:], ""),
    }


def test_recall_per_disguise_over_all_items():
    rng = random.Random(7)
    found, missed = Counter(), {}
    for item in ITEMS:
        for name, (code, prompt) in _variants(item, rng).items():
            text = f"{prompt}\n{code}" if prompt else code
            if _found(text, item.item_id, prompt):
                found[name] += 1
            else:
                missed.setdefault(name, []).append(item.item_id)
    for name, share in _RECALL.items():
        assert found[name] >= share * len(ITEMS), (name, found[name], missed.get(name))


def test_match_names_the_part_the_stream_and_the_lines():
    item = next(i for i in ITEMS if i.item_id == "HumanEval/53")
    cut = CUT
    text = HOST[:cut] + "\n\n" + disguise.ast_rename(item.text, random.Random(2)) + HOST[cut:]
    first = HOST[:cut].count("\n") + 3  # the copy's def line
    (m,) = [m for m in INDEX.match(text, "python") if m.item.item_id == "HumanEval/53"]
    assert (m.part, m.channel) == ("prompt", "words")  # renamed: the docstring gives it away
    lines = text.splitlines()[m.first_line - 1 : m.last_line]
    assert first <= m.first_line <= m.last_line <= first + 10
    assert "Add two numbers x and y" in "\n".join(lines)


def test_installed_code_is_not_contaminated():
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    files += sorted(SITE.glob("[a-h]*/*.py"))[:400]
    hits = [
        (f.name, m[0].item.item_id, m[0].channel)
        for f in files
        if (m := INDEX.match(f.read_text(errors="replace"), "python"))
    ]
    assert hits == []


def _package_functions(n: int) -> list[str]:
    """Top-level functions (with docstrings) of an installed package: a benchmark no one here
    wrote."""
    import ast

    out = []
    for path in sorted((SITE / "packaging").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
                segment = ast.get_source_segment(source, node)
                if segment and segment.count("\n") >= 4:
                    out.append(segment + "\n")
    return out[:n]


def test_a_benchmark_file_gets_the_same_treatment(tmp_path):
    funcs = _package_functions(12)
    assert len(funcs) >= 10
    # MBPP's shape: a prose description ("text") and a solution ("code")
    bench = tmp_path / "mybench.jsonl"
    bench.write_text(
        "".join(
            json.dumps({"task_id": k, "text": disguise.description(f), "code": f}) + "\n"
            for k, f in enumerate(funcs)
        )
    )
    rng = random.Random(3)
    records = []
    for k, f in enumerate(funcs):
        if k % 3 == 0:
            text = disguise.reindent(disguise.drop_docstrings(f), 2)
            records.append({"id": f"copy-{k}", "text": text, "language": "python"})
        elif k % 3 == 1:
            renamed = disguise.drop_docstrings(disguise.ast_rename(f, rng))
            records.append(
                {"id": f"copy-{k}", "prompt": disguise.description(f), "response": renamed}
            )
        else:
            records.append({"id": f"copy-{k}", "text": disguise.ast_rename(f, rng)})
    records.append({"id": "clean", "text": HOST, "language": "python"})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = AuditConfig(benchmarks=(str(bench),), workers=1, run_tests=False)
    audit([data], config=config, findings=tmp_path / "f.jsonl")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "f.jsonl").read_text().splitlines())}
    for k in range(len(funcs)):
        ev = rows[f"copy-{k}"]["details"].get("benchmark_contamination")
        assert ev, (k, rows[f"copy-{k}"])
        assert ev["matches"][0]["benchmark"] == "mybench"
        assert ev["matches"][0]["item"] == str(k)
    assert "benchmark_contamination" not in rows["clean"]["reasons"]


@pytest.mark.parametrize("line", ['{"task_id": 1}', "[1, 2]"])
def test_a_benchmark_file_without_items_is_bad_input(tmp_path, line):
    from tripwire.errors import BadInputError

    bench = tmp_path / "b.jsonl"
    bench.write_text(line + "\n")
    with pytest.raises(BadInputError, match=r"b\.jsonl:1"):
        load_benchmark(str(bench))


def test_an_item_in_a_chats_system_or_tool_turn_is_found(tmp_path):
    # the turns a model trains on beside the prompt: a benchmark item hidden there was kept
    item = next(i for i in ITEMS if i.item_id == "HumanEval/0")
    ask = {"role": "user", "content": "Write a function that greets a person by name."}
    answer = {"role": "assistant", "content": "def greet(name):\n    return f'Hi {name}'\n"}
    records = [
        {"id": "system", "messages": [{"role": "system", "content": item.text}, ask, answer]},
        {"id": "tool", "messages": [ask, {"role": "tool", "content": item.text}, answer]},
        {"id": "clean", "messages": [{"role": "system", "content": "Be brief."}, ask, answer]},
    ]
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    audit([data], config=AuditConfig(workers=1, run_tests=False), findings=tmp_path / "f.jsonl")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "f.jsonl").read_text().splitlines())}
    for rid in ("system", "tool"):
        (match, *_) = rows[rid]["details"]["benchmark_contamination"]["matches"]
        assert (match["item"], match["in"]) == ("HumanEval/0", "system/tool turns")
        assert not rows[rid]["keep"]
    assert "benchmark_contamination" not in rows["clean"]["reasons"]
