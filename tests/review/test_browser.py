"""The review page in real headless Chromium, driven by real key presses: sign-in from the
link's fragment, keyboard shortcuts answering eval pairs and data records, progress, a review
closed halfway resuming where it stopped, and a model's hostile answer shown as highlighted
text that runs nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.review.test_server import serving
from tests.support.browser import chromium
from tests.support.cdp import Chromium
from tripwire.data import REASONS, AuditConfig, audit
from tripwire.evals import SamplesBackend, get_suite
from tripwire.review import DataPlan, EvalPlan, ReviewStore, create_data_review, create_eval_review

pytestmark = pytest.mark.slow

HOSTILE = "</pre><script>document.title='pwned'</script><img src=x onerror=\"document.title=1\">"


def _eval_review(tmp: Path) -> tuple[Path, str]:
    suite = get_suite("humaneval")
    problems = suite.problems  # type: ignore[attr-defined]
    tasks = sorted(problems)[:4]
    base, cand = tmp / "base.jsonl", tmp / "cand.jsonl"
    base.write_text(
        "".join(
            json.dumps({"task_id": t, "completion": problems[t]["canonical_solution"]}) + "\n"
            for t in tasks
        )
    )
    cand.write_text(
        "".join(
            json.dumps({"task_id": t, "completion": f"    return {HOSTILE!r}\n"}) + "\n"
            for t in tasks
        )
    )
    made = create_eval_review(
        tmp / "eval",
        suite,
        SamplesBackend(base),
        SamplesBackend(cand),
        reviewers=["ana"],
        plan=EvalPlan(items=0, overlap=0),
    )
    return made.directory, made.tokens["ana"]


def _data_review(tmp: Path) -> tuple[Path, str]:
    rows = [
        {"id": "a", "text": "def add(a, b):\n    return a + b\n", "language": "python"},
        {"id": "b", "text": f"def f():\n    return {HOSTILE!r}\n", "language": "python"},
        {"id": "c", "text": "function twice(x) {\n  return 2 * x;\n}\n", "language": "javascript"},
    ]
    data = tmp / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    audit(
        [data],
        config=AuditConfig(workers=1, run_tests=False),
        findings=tmp / "f.jsonl",
        workdir=tmp / "work",
    )
    made = create_data_review(
        tmp / "data", [data], tmp / "f.jsonl", reviewers=["ana"], plan=DataPlan(near_misses=False)
    )
    return made.directory, made.tokens["ana"]


def _signed_in(b: Chromium, url: str, token: str) -> None:
    b.goto(f"{url}/#token={token}")  # the login page posts the fragment's token itself
    deadline = time.monotonic() + 20
    while not str(b.evaluate("location.pathname")).startswith("/item/"):
        assert time.monotonic() < deadline, b.evaluate("document.body.innerText")
        time.sleep(0.1)
    b.evaluate("0")  # settle
    while b.evaluate("document.readyState") != "complete":
        time.sleep(0.05)


def _safe(b: Chromium) -> None:
    """Only the page's own script is there, nothing ran from a model's text."""
    assert b.evaluate("document.title").startswith("tripwire review")
    assert b.evaluate("[...document.scripts].map(s => s.src.split('/').pop()).join()") == (
        "review.js"
    )
    assert b.evaluate("document.images.length") == 0


def test_review_page_in_chromium_with_keys_progress_resume_and_escaping(tmp_path: Path) -> None:
    chromium()  # skips loudly when there is no browser
    eval_dir, eval_token = _eval_review(tmp_path)
    data_dir, data_token = _data_review(tmp_path)
    with (
        serving(eval_dir, tmp_path / "eval.log") as (eval_url, _),
        serving(data_dir, tmp_path / "data.log") as (data_url, _),
    ):
        b = Chromium()
        try:
            _signed_in(b, eval_url, eval_token)
            assert b.evaluate("location.hash") == ""  # the token left the address bar
            assert b.evaluate("document.getElementById('progress-text').textContent") == (
                "0 of 4 decided"
            )
            _safe(b)
            text = b.evaluate("document.body.innerText")
            assert "<script>document.title=" in text and "onerror=" in text  # shown, as text
            assert b.evaluate("document.querySelectorAll('.hl span').length") > 10  # highlighted
            png = b.screenshot()
            (tmp_path / "eval.png").write_bytes(png)
            assert len(png) > 20_000
            for n in (1, 2):
                for key in ("1", "5", "9"):  # correctness A, readability tie, idiomatic B
                    b.press(key)
                checked = "[...document.querySelectorAll('input:checked')].map(i => i.id).join()"
                assert b.evaluate(checked) == "correctness-A,readability-tie,idiomatic-B"
                b.press("Enter", navigates=True)
                assert b.evaluate("location.pathname") == f"/item/{n + 1}"
                assert b.evaluate("document.getElementById('progress').value") == n
                _safe(b)
        finally:
            b.close()
        # the browser is gone halfway; a new one resumes at the first unanswered pair
        b = Chromium()
        try:
            _signed_in(b, eval_url, eval_token)
            assert b.evaluate("location.pathname") == "/item/3"
            _signed_in(b, data_url, data_token)
            _safe(b)
            shown = [b.evaluate("document.body.innerText")]
            b.press("2")  # the second reason ...
            b.press("d", navigates=True)  # ... and drop
            assert b.evaluate("location.pathname") == "/item/2"
            shown.append(b.evaluate("document.body.innerText"))
            b.press("k", navigates=True)
            assert b.evaluate("location.pathname") == "/item/3"
            shown.append(b.evaluate("document.body.innerText"))
            assert any("<script>document.title=" in t for t in shown)  # the hostile record
            b.press("ArrowLeft", navigates=True)  # back to change nothing, then on
            assert b.evaluate("location.pathname") == "/item/2"
            _safe(b)
        finally:
            b.close()
    answers = sorted(
        (d.answer["correctness"], d.answer["readability"], d.answer["idiomatic"])
        for d in ReviewStore(eval_dir).latest().values()
    )
    assert answers == [("A", "tie", "B")] * 2
    data = ReviewStore(data_dir)
    first, second = data.queue("ana")[:2]
    got = {i: d.answer for (i, _), d in data.latest().items()}
    assert got[first] == {"decision": "drop", "reason": REASONS[1], "note": ""}
    assert got[second]["decision"] == "keep"
