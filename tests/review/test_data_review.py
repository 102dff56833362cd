"""`tripwire data review` end to end through the CLI: a review set from a real audit, resumed;
bad imports refused whole with one line naming the item (exit 2, nothing applied); decisions
from a scripted expert who knows the planted faults brought back; the clean copy and its
manifest honour them; the estimated defect rate of the kept data covers the true one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.review.conftest import Audited, truth_decision
from tests.support.cli import tripwire
from tripwire.artifacts import Manifest
from tripwire.errors import BadInputError
from tripwire.review import ReviewStore, import_decisions

pytestmark = pytest.mark.slow


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _refused(review: Path, clean: Path, file: Path, needle: str, cli: bool = False) -> None:
    """The import is refused with one line naming the problem; nothing is applied."""
    before = clean.read_bytes()
    if cli:
        r = tripwire("data", "review", "import", str(review), str(file))
        assert r.returncode == 2, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], r.stderr
    else:
        with pytest.raises(BadInputError) as caught:
            import_decisions(ReviewStore(review), [file])
        assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert ReviewStore(review).history() == []  # nothing half-applied
    assert clean.read_bytes() == before


def test_data_review_from_audit_to_clean_copy(audited: Audited, tmp_path: Path) -> None:
    review, clean = tmp_path / "review", tmp_path / "clean.jsonl"
    clean.write_bytes(audited.clean.read_bytes())
    args = [
        "data",
        "review",
        str(audited.dataset),
        "--findings",
        str(audited.findings),
        "--clean",
        str(clean),
        "--audit",
        str(audited.summary),
        "--out",
        str(review),
        "--reviewer",
        "ana",
        "--reviewer",
        "ben",
        "--margin",
        "0.1",
        "--expected-rate",
        "0.2",
        "--per-reason",
        "3",
        "--borderline",
        "6",
        "--overlap",
        "0.3",
    ]
    made = tripwire(*args, "--json", "-")
    assert made.returncode == 0, made.stderr
    first = json.loads(made.stdout)
    assert set(first["tokens"]) == {"ana", "ben"} and not first["resumed"]
    assert 0 < first["borderline"] <= 6 and first["removed_sample"] > 0 and first["kept_sample"] > 0
    again = json.loads(tripwire(*args, "--json", "-").stdout)
    assert again["resumed"] and again["tokens"] == {} and again["items"] == first["items"]

    store = ReviewStore(review)
    items = {i.item_id: i for i in store.items()}
    # what reviewers see carries no verdict; what they may not see stays in the database
    exported = tmp_path / "items.jsonl"
    assert (
        tripwire(
            "data", "review", "export", str(review), "--format", "jsonl", "--out", str(exported)
        ).returncode
        == 0
    )
    text = exported.read_text()
    assert '"keep"' not in text and '"reasons"' not in text and "near_miss" not in text

    queue = {r: store.queue(r) for r in ("ana", "ben")}
    decisions = [
        {
            "item_id": i,
            "reviewer": r,
            "answer": truth_decision(audited, items[i].hidden["position"]),
            "decided_at": "2026-03-01T10:00:00Z",
        }
        for r, ids in queue.items()
        for i in ids
    ]
    # a reviewer who overrules the audit once each way (a removed duplicate is kept; a kept
    # record dropped), so the clean copy must change both ways
    restore = next(
        i
        for i, it in items.items()
        if not it.hidden["keep"] and it.hidden["reasons"] == ["exact_duplicate"]
    )
    drop = next(i for i, it in items.items() if it.hidden["keep"])
    for d in decisions:
        if d["item_id"] == restore:
            d["answer"] = {"decision": "keep", "reason": "", "note": "fine as a second example"}
        if d["item_id"] == drop:
            d["answer"] = {"decision": "drop", "reason": "low_quality", "note": "<b>meh</b>"}
    some = decisions[0]
    bad = {
        "unknown item 'rec-nope'": [{**some, "item_id": "rec-nope"}],
        "unknown reviewer 'zed'": [some, {**some, "reviewer": "zed"}],
        "not JSON": None,
        "a drop needs a reason": [{**some, "answer": {"decision": "drop"}}],
        "not a Label Studio JSON export": [],
    }
    for needle, rows in bad.items():
        f = tmp_path / f"bad-{len(needle)}.jsonl"
        if rows is None:
            f.write_text(json.dumps(some) + "\n{oops\n")
        elif not rows:
            f.write_text(json.dumps([{"foo": 1}]))  # a foreign file
        else:
            _write(f, rows)
        _refused(review, clean, f, needle, cli=needle.startswith("unknown item"))
    secret = next((i for i, it in items.items() if "secret" in it.hidden["reasons"]), None)
    if secret is not None:
        f = _write(
            tmp_path / "secret.jsonl", [{**some, "item_id": secret, "answer": {"decision": "keep"}}]
        )
        _refused(review, clean, f, "removed this record for a secret")

    good = _write(tmp_path / "decisions.jsonl", decisions)
    done = tripwire(
        "data",
        "review",
        "import",
        str(review),
        str(good),
        "--json",
        "-",
        "--report",
        str(tmp_path / "review.html"),
    )
    assert done.returncode == 0, done.stderr
    res = json.loads(done.stdout)
    assert res["decided"] == len(items)
    assert restore in res["clean"]["restored"] and drop in res["clean"]["dropped"]

    # the clean copy: the audit's kept records, less the dropped, plus the restored, in order
    override = {items[restore].hidden["position"]: True, items[drop].hidden["position"]: False}
    for i, it in items.items():
        truth = truth_decision(audited, it.hidden["position"])["decision"] == "keep"
        if (
            i not in (restore, drop)
            and truth != it.hidden["keep"]
            and "secret" not in it.hidden["reasons"]
        ):
            override[it.hidden["position"]] = truth
    raw = audited.dataset.read_bytes().splitlines()
    want = [line for p, line in enumerate(raw) if override.get(p, audited.rows[p]["keep"])]
    assert clean.read_bytes().splitlines() == want
    notes = Manifest.read(clean).notes["review"]
    mine = [d for d in notes["decisions"] if d["item_id"] == drop]
    assert mine and mine[0]["reviewer"] in ("ana", "ben") and mine[0]["reason"] == "low_quality"
    assert mine[0]["decided_at"] == "2026-03-01T10:00:00+00:00"
    assert mine[0]["source"] == "import:decisions.jsonl"
    assert Manifest.read(clean).parents  # the audited input

    # the kept data's true defect rate (planted faults the audit kept, and the record the
    # reviewer dropped) is inside the interval
    kept = [p for p, row in enumerate(audited.rows) if row["keep"]]
    forced = audited.planted.items[items[drop].hidden["position"]].fault is None
    true = (sum(audited.planted.items[p].fault is not None for p in kept) + forced) / len(kept)
    d = res["kept_defect_rate"]
    assert d["low"] <= true <= d["high"], (true, d)
    assert res["agreement"]["overlap_items"] > 0
    html = (tmp_path / "review.html").read_text()
    assert "&lt;b&gt;meh&lt;/b&gt;" in html and "<b>meh</b>" not in html

    again = tripwire("data", "review", "import", str(review), str(good), "--json", "-")
    assert json.loads(again.stdout)["imported"]["files"][0]["skipped"]
