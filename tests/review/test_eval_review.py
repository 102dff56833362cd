"""`tripwire eval review` on real models: the tiny reference and its narrow (Python-only)
fine-tune answer the completion suite's prompts; pairs are blinded; scripted judgements come
back through the CLI; win/tie/loss, per-slice results and kappa are reported; and the gate
takes the judgements as the `human` suite: it blocks the candidate people judged worse, and
refuses judgements of other models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from tests.gate.conftest import candidates  # noqa: F401 - session fixture
from tests.support.cli import tripwire
from tripwire.review import ReviewStore

pytestmark = pytest.mark.slow


def test_eval_review_judgements_and_the_gate(
    tiny_reference: Path,
    candidates: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    narrow = candidates["narrow"]
    review = tmp_path / "review"
    made = tripwire(
        "eval",
        "review",
        f"hf:{tiny_reference}",
        f"hf:{narrow}",
        "--suite",
        "completion",
        "--corpus",
        str(tiny_reference),
        "--items",
        "24",
        "--max-new-tokens",
        "12",
        "--out",
        str(review),
        "--reviewer",
        "ana",
        "--reviewer",
        "ben",
        "--overlap",
        "0.5",
        "--json",
        "-",
    )
    assert made.returncode == 0, made.stderr[-2000:]
    assert json.loads(made.stdout)["items"] == 24
    store = ReviewStore(review)
    items = store.items()
    sides = [i.hidden["candidate"] for i in items]
    assert 0 < sides.count("A") < len(sides)  # randomised
    exported = tmp_path / "items.jsonl"
    tripwire("eval", "review", "export", str(review), "--format", "jsonl", "--out", str(exported))
    assert "candidate" not in exported.read_text()  # nor any hint of the order

    # the scripted judges: the candidate forgot every language but Python (where it ties);
    # ben disagrees with ana once on the overlap
    rows, expected = [], {}
    overlap = set(store.queue("ana")) & set(store.queue("ben"))
    flip = sorted(overlap)[0]
    for i in items:
        python = i.hidden["slices"]["language"] == "python"
        cand = i.hidden["candidate"]
        base = "B" if cand == "A" else "A"
        pick = "tie" if python else base
        expected[i.item_id] = 0 if python else -1
        for r in ("ana", "ben"):
            if i.item_id not in store.queue(r):
                continue
            choice = cand if (r == "ben" and i.item_id == flip) else pick
            answer = {"correctness": choice, "readability": pick, "idiomatic": pick}
            rows.append({"item_id": i.item_id, "reviewer": r, "answer": answer})
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = tripwire(
        "eval",
        "review",
        "import",
        str(review),
        str(judgements),
        "--json",
        "-",
        "--report",
        str(tmp_path / "human.html"),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    res = json.loads(done.stdout)
    readability = res["questions"]["readability"]["slices"]
    losses = sum(1 for v in expected.values() if v < 0)
    assert readability["all"]["loss"]["count"] == losses
    assert readability["all"]["tie"]["count"] == len(items) - losses
    assert readability["language=python"]["win"]["count"] == 0
    # kappa on the overlap, as statsmodels computes it from the same labels
    ana, ben = [], []
    for i in items:
        if i.item_id in overlap:
            side = i.hidden["candidate"]
            for who, out in (("ana", ana), ("ben", ben)):
                row = next(r for r in rows if r["item_id"] == i.item_id and r["reviewer"] == who)
                c = row["answer"]["correctness"]
                out.append(0 if c == "tie" else (1 if c == side else -1))
    table = np.zeros((3, 3))
    for x, y in zip(ana, ben, strict=True):
        table[x + 1, y + 1] += 1
    ours = res["questions"]["correctness"]["agreement"]["cohen"][0]
    assert ours["items"] == len(overlap)
    assert ours["kappa"] == pytest.approx(cohens_kappa(table).kappa, abs=1e-9)

    policy = tmp_path / "gate.toml"
    policy.write_text(
        f'tokens_audit = "never"\ndata_audit = false\n\n[[suites]]\nname = "human"\n'
        f'review = "{review}"\nmargins = {{ readability = "0.1" }}\n'
    )
    gated = tripwire(
        "gate",
        "--baseline",
        str(tiny_reference),
        "--candidate",
        str(narrow),
        "--policy",
        str(policy),
        "--json",
        "-",
        "--no-cache",
    )
    assert gated.returncode == 1, gated.stderr[-2000:]
    g = json.loads(gated.stdout)
    assert g["verdict"] == "block" and "eval:human" in g["checks_run"]
    regressed = [f for f in g["findings"] if f["code"] == "eval.regression"]
    assert any(
        f["evidence"]["metric"] == "readability" and f["evidence"]["slice"] == "all"
        for f in regressed
    )
    swapped = tripwire(
        "gate",
        "--baseline",
        str(narrow),
        "--candidate",
        str(tiny_reference),
        "--policy",
        str(policy),
        "--json",
        "-",
        "--no-cache",
    )
    s = json.loads(swapped.stdout)
    assert s["verdict"] == "block"
    assert [f["code"] for f in s["findings"]] == ["eval.not_runnable"]
    assert "not the models gated" in s["findings"][0]["message"]
