"""The review page's server as a user runs it (`tripwire data review serve`, a subprocess on a
loopback port): two reviewers answering at the same time while a third reviewer's file is
imported lose nothing and touch nothing of each other's; a server killed mid-review resumes
each reviewer at their first unanswered item; tokens, origins and hosts are checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.review.conftest import Audited, truth_decision
from tests.support.cli import TRIPWIRE
from tripwire.review import DataPlan, ReviewStore, create_data_review, import_decisions

pytestmark = pytest.mark.slow


@contextmanager
def serving(review: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    proc = subprocess.Popen(
        [TRIPWIRE, "data", "review", "serve", str(review), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        deadline, url = time.monotonic() + 60, None
        while url is None and time.monotonic() < deadline:
            text = log.read_text()
            if "review page: " in text:
                url = text.split("review page: ", 1)[1].split("/", 3)[:3]
                url = "/".join(url)
            elif proc.poll() is not None:
                raise RuntimeError(text)
            else:
                time.sleep(0.1)
        assert url, log.read_text()
        while httpx.get(url + "/healthz").status_code != 200:
            time.sleep(0.1)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)


def _login(url: str, token: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    r = c.post("/login", data={"token": token})
    assert r.status_code == 303 and r.headers["location"] == "/next"
    return c


def test_concurrent_reviewers_and_an_import_never_corrupt_each_other(
    audited: Audited, tmp_path: Path
) -> None:
    made = create_data_review(
        tmp_path / "review",
        [audited.dataset],
        audited.findings,
        reviewers=["ana", "ben", "cy"],
        plan=DataPlan(per_reason=3, borderline=3, near_misses=False, overlap=0.0),
    )
    store = ReviewStore(made.directory)
    items = {i.item_id: i for i in store.items()}
    queues = {r: store.queue(r) for r in ("ana", "ben", "cy")}

    def answer(item_id: str) -> dict[str, str]:
        return truth_decision(audited, items[item_id].hidden["position"])

    cy_file = tmp_path / "cy.jsonl"
    cy_file.write_text(
        "".join(
            json.dumps({"item_id": i, "reviewer": "cy", "answer": answer(i)}) + "\n"
            for i in queues["cy"]
        )
    )
    with serving(made.directory, tmp_path / "log") as (url, proc):
        errors: list[BaseException] = []

        def review(name: str, upto: int) -> None:
            try:
                c = _login(url, made.tokens[name])
                for n, item_id in enumerate(queues[name][:upto], 1):
                    r = c.post(f"/item/{n}", data=answer(item_id))
                    assert r.status_code == 303, r.text[:300]
            except BaseException as exc:  # reported below
                errors.append(exc)

        half = {r: len(q) // 2 for r, q in queues.items()}
        threads = [threading.Thread(target=review, args=(r, half[r])) for r in ("ana", "ben")]
        for t in threads:
            t.start()
        import_decisions(ReviewStore(made.directory), [cy_file])  # meanwhile, a file comes in
        for t in threads:
            t.join(120)
        assert not errors, errors
        # a reviewer cannot answer for another: their queue positions are their own
        c = _login(url, made.tokens["ana"])
        assert c.get("/next").headers["location"] == f"/item/{half['ana'] + 1}"
        # the server dies mid-review ...
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    got = ReviewStore(made.directory).latest()
    want = {(i, "ana") for i in queues["ana"][: half["ana"]]}
    want |= {(i, "ben") for i in queues["ben"][: half["ben"]]}
    want |= {(i, "cy") for i in queues["cy"]}
    assert set(got) == want
    assert all(d.answer == {**answer(i), "note": ""} for (i, _), d in got.items())
    # ... and comes back: each reviewer resumes at their first unanswered item
    with serving(made.directory, tmp_path / "log2") as (url, _):
        for name in ("ana", "ben"):
            c = _login(url, made.tokens[name])
            assert c.get("/next").headers["location"] == f"/item/{half[name] + 1}"
        assert httpx.post(url + "/login", data={"token": "nope"}).status_code == 403
        c = _login(url, made.tokens["ben"])
        hostile = c.post("/item/1", data={"decision": "keep"}, headers={"origin": "http://x.test"})
        assert hostile.status_code == 403
        assert c.get("/", headers={"host": "attacker.test"}).status_code == 421
        page = c.get("/item/1")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert made.tokens["ben"] not in page.text
