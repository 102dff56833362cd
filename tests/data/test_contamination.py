"""HumanEval is found verbatim, inside larger files, restyled and renamed, and not elsewhere."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

from tripwire.data import ContaminationIndex, load_benchmark
from tripwire.data._plant import rename_identifiers, restyle

INDEX = ContaminationIndex(load_benchmark("humaneval"))
ITEMS = INDEX.items


def _found(text: str, item_id: str) -> bool:
    return any(m.item.item_id == item_id for m in INDEX.match(text, "python"))


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


def test_only_one_line_items_are_too_generic_to_index():
    assert 0 < len(INDEX.skipped) <= 8
    assert len(ITEMS) + len(INDEX.skipped) == 164


def test_standard_library_is_not_contaminated():
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    hits = [
        (f.name, m[0].item.item_id)
        for f in files
        if (m := INDEX.match(f.read_text(errors="replace"), "python"))
    ]
    assert hits == []
