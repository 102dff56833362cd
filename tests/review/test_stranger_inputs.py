"""A stranger's inputs to `tripwire eval review` / `data review`: files as other tools and other
versions write them, malformed ones, foreign ones, outputs that cannot be written, and a hostile
client of the review page. Bad input is one line naming the file/line/field, exit 2, nothing
applied; the page answers 4xx, never 500."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.review import ReviewStore

GOOD = {"correctness": "A", "readability": "tie", "idiomatic": "B"}


@pytest.fixture
def review(eval_review: Path, tmp_path: Path) -> Path:
    """A review of the shared review's two samples files with no decisions yet (other tests
    import into the shared one)."""
    from tripwire.evals import SamplesBackend, get_suite
    from tripwire.review import EvalPlan, create_eval_review

    base, cand = (SamplesBackend(eval_review.parent / f) for f in ("base.jsonl", "cand.jsonl"))
    plan = EvalPlan(items=0, overlap=0.5)
    suite = get_suite("humaneval")
    return create_eval_review(
        tmp_path / "review", suite, base, cand, reviewers=["ana", "ben"], plan=plan
    ).directory


def _ids(review: Path) -> list[str]:
    return [i.item_id for i in ReviewStore(review).items()]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _refused(review: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The command exits 2 with one line; nothing is recorded."""
    code = main(["eval", "review", *args])
    line = _one_line(capsys.readouterr().err)
    assert code == 2, line
    assert ReviewStore(review).history() == []
    return line


def _result(q: str, v: Any) -> dict[str, Any]:
    return {"from_name": q, "to_name": "answer_a", "type": "choices", "value": {"choices": [v]}}


def _task(item: str, **annotation: Any) -> dict[str, Any]:
    a = {
        "id": 1,
        "completed_by": 1,
        "result": [_result(q, v) for q, v in GOOD.items()],
        "was_cancelled": False,
        "created_at": "2024-01-01T00:00:00.000000Z",
        "updated_at": "2024-01-01T00:00:00.000000Z",
        "lead_time": 2.5,
    }
    return {"id": 1, "data": {"item_id": item}, "annotations": [{**a, **annotation}]}


def _line(item: str, **extra: Any) -> str:
    return json.dumps({"item_id": item, "reviewer": "ana", "answer": GOOD, **extra})


BAD_FILES: dict[str, tuple[Any, str]] = {
    # name: (content, or a callable of the item ids; what the error line says)
    "result-null.json": (lambda ids: [_task(ids[0], result=None)], "result"),
    "from-name-list.json": (
        lambda ids: [_task(ids[0], result=[{"from_name": ["x"], "value": {}}])],
        "from_name",
    ),
    "when-number.jsonl": (lambda ids: _line(ids[0], decided_at=5), "decided_at"),
    "when-object.jsonl": (lambda ids: _line(ids[0], decided_at={}), "decided_at"),
    "when-year-9999.jsonl": (
        lambda ids: _line(ids[0], decided_at="9999-12-31T23:59:59-05:00"),
        "decided_at",
    ),
    "when-future.jsonl": (
        lambda ids: _line(ids[0], decided_at="2999-01-01T00:00:00Z"),
        "in the future",
    ),
    "deep.jsonl": (
        lambda ids: '{"item_id": "x", "reviewer": "ana", "answer": ' + "[" * 100_000,
        "deep.jsonl:1",
    ),
    "bad-utf8-line-2.jsonl": (
        lambda ids: (_line(ids[0]) + "\n" + _line(ids[1])[:-2]).encode() + b"\xff\xfe}\n",
        "bad-utf8-line-2.jsonl:2",
    ),
    "data-kind.jsonl": (
        lambda ids: (
            json.dumps({"format": "tripwire-review-decisions", "kind": "data"})
            + "\n"
            + json.dumps({"item_id": ids[0], "reviewer": "ana", "answer": {"decision": "keep"}})
        ),
        "data review",
    ),
    "empty.json": (lambda ids: "", "is empty"),
    "nul.jsonl": (lambda ids: "\0" + _line(ids[0]), "NUL"),
    "labelstudio.csv": (
        lambda ids: f"item_id,prompt,correctness,annotator\n{ids[0]},p,A,1\n",
        "CSV",
    ),
    "json-min.json": (
        lambda ids: [{"id": 1, "item_id": ids[0], "correctness": "X", "annotator": 1}],
        "correctness",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_import_file_is_one_line_and_nothing_is_applied(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    make, needle = BAD_FILES[name]
    content = make(_ids(review))
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    line = _refused(review, capsys, "import", str(review), str(path), "--user", "1=ana")
    assert str(path) in line and needle in line


def test_a_missing_file_or_a_folder_without_records_is_named(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")
    for path in (tmp_path / "folder", tmp_path / "dangling.json"):
        assert str(path) in _refused(review, capsys, "import", str(review), str(path))


def test_files_with_a_bom_crlf_or_a_long_first_line_are_read(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _ids(review)
    ls = tmp_path / "bom.json"
    ls.write_bytes(b"\xef\xbb\xbf" + json.dumps([_task(ids[0])]).encode())
    native = tmp_path / "bom.jsonl"
    native.write_bytes(b"\xef\xbb\xbf" + f"{_line(ids[1])}\r\n{_line(ids[2])}\r\n".encode())
    long = tmp_path / "long.jsonl"  # a first line longer than what is sniffed
    long.write_text(_line(ids[3], comment="x" * 100_000) + "\n")
    single = tmp_path / "one-task.json"  # one task on its own, indented
    single.write_text(json.dumps(_task(ids[4]), indent=2))
    args = ["eval", "review", "import", str(review), str(ls), str(native), str(long), str(single)]
    assert main([*args, "--user", "1=ana"]) == 0, capsys.readouterr().err
    assert {d.item_id for d in ReviewStore(review).history()} == set(ids[:5])


def test_label_studio_json_min_export_is_read(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON-MIN, as label_studio_converter writes it from a project's JSON export."""
    from label_studio_converter import Converter

    from tripwire.review import export_review

    ids = _ids(review)
    tasks = tmp_path / "tasks.json"
    export_review(ReviewStore(review), "labelstudio", tasks)
    full = tmp_path / "full.json"
    note = {"from_name": "note", "to_name": "answer_a", "type": "textarea"}
    full.write_text(
        json.dumps(
            [
                _task(ids[0], result=[*_task(ids[0])["annotations"][0]["result"]]),
                _task(
                    ids[1],
                    completed_by={"id": 7, "email": "ana@example.com"},
                    result=[
                        *_task(ids[1])["annotations"][0]["result"],
                        {**note, "value": {"text": ["fine"]}},
                    ],
                ),
            ]
        )
    )
    Converter(tasks.with_suffix(".xml").read_text(), str(tmp_path)).convert_to_json_min(
        str(full), str(tmp_path / "min"), is_dir=False
    )
    exported = tmp_path / "min" / "result.json"
    args = ["eval", "review", "import", str(review), str(exported)]
    assert main([*args, "--user", "1=ana", "--user", "ana@example.com=ben"]) == 0
    got = ReviewStore(review).latest()
    assert got[(ids[0], "ana")].answer == {**GOOD, "note": ""}
    assert got[(ids[1], "ben")].answer == {**GOOD, "note": "fine"}
    assert got[(ids[0], "ana")].decided_at == "2024-01-01T00:00:00+00:00"


def test_a_file_from_another_review_is_refused(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two reviews of the same suite share item ids and reviewer names: only the review id
    carried by the export tells one's decisions from the other's."""
    from tripwire.review import export_review

    other = Path(shutil.copytree(review, tmp_path / "other"))
    ReviewStore(other).set_meta({"review_id": "0123456789abcdef"})
    ids = _ids(review)
    tasks, items = tmp_path / "tasks.json", tmp_path / "items.jsonl"
    export_review(ReviewStore(other), "labelstudio", tasks)
    export_review(ReviewStore(other), "jsonl", items)
    argilla = tmp_path / "argilla"
    export_review(ReviewStore(other), "argilla", argilla)
    exported = json.loads(tasks.read_text())
    exported[0]["annotations"] = _task(ids[0])["annotations"]
    tasks.write_text(json.dumps(exported))
    with items.open("a") as f:
        f.write(_line(exported[0]["data"]["item_id"]) + "\n")
    for path in (tasks, items, argilla):
        line = _refused(review, capsys, "import", str(review), str(path), "--user", "1=ana")
        assert "another review" in line and str(path) in line


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["export", "{r}", "--format", "jsonl", "--out", "/proc/x.jsonl"], "--out"),
        (["export", "{r}", "--format", "jsonl", "--out", "{t}/file/x.jsonl"], "--out"),
        (["export", "{r}", "--format", "jsonl", "--out", "{t}"], "--out"),
        (["export", "{r}", "--format", "argilla", "--out", "{t}/file"], "--out"),
        (["export", "{r}", "--format", "labelstudio", "--out", "{t}/tasks.xml"], "--out"),
        (["report", "{r}", "--report", "/proc/r.html"], "--report"),
        (["report", "{r}", "--report", "{t}"], "--report"),
        (["import", "{r}", "{t}/good.jsonl", "--report", "/proc/r.html"], "--report"),
        (["serve", "{r}", "--port", "99999"], "--port"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused_before_anything_is_applied(
    review: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    problem: str,
) -> None:
    (tmp_path / "file").write_text("")
    (tmp_path / "good.jsonl").write_text(_line(_ids(review)[0]) + "\n")
    argv = [a.format(r=review, t=tmp_path) for a in args]
    code = main(["eval", "review", *argv])
    err = capsys.readouterr().err
    assert code == 2 and problem in err and "Traceback" not in err, err
    assert ReviewStore(review).history() == []


def test_resuming_with_a_reviewer_the_review_does_not_have_is_refused(
    eval_review: Path, review: Path
) -> None:
    from tripwire.evals import SamplesBackend, get_suite
    from tripwire.review import EvalPlan, create_eval_review

    base, cand = eval_review.parent / "base.jsonl", eval_review.parent / "cand.jsonl"
    args = (get_suite("humaneval"), SamplesBackend(base), SamplesBackend(cand))
    plan = EvalPlan(items=0, overlap=0.5)
    made = create_eval_review(review, *args, reviewers=["ana"], plan=plan)
    assert made.resumed
    with pytest.raises(BadInputError, match="cy"):
        create_eval_review(review, *args, reviewers=["ana", "cy"], plan=plan)


def test_a_review_of_the_other_kind_or_a_foreign_database_is_named(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    assert main(["data", "review", "report", str(review)]) == 2
    assert "is not a data review" in _one_line(capsys.readouterr().err)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    with sqlite3.connect(foreign / "review.db") as c:
        c.execute("CREATE TABLE notes (x TEXT)")
    for command in ("report", "serve", "export"):
        extra = ["--format", "jsonl", "--out", str(tmp_path / "x.jsonl")] * (command == "export")
        assert main(["eval", "review", command, str(foreign), *extra]) == 2
        assert "holds no review" in _one_line(capsys.readouterr().err)
    with sqlite3.connect(foreign / "review.db") as c:  # and it is left as it was
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["notes"]


def test_names_that_look_like_markup_are_printed_as_they_are(
    eval_review: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reviewer called ``[/]`` gets their token (shown once) and appears in the results."""
    base, cand = (f"samples:{eval_review.parent / f}" for f in ("base.jsonl", "cand.jsonl"))
    out = tmp_path / "r"
    names = ["[/]", "[bold]x"]
    args = ["eval", "review", base, cand, "--suite", "humaneval", "--items", "0", "--out", str(out)]
    assert main([*args, "--reviewer", names[0], "--reviewer", names[1]]) == 0
    printed = capsys.readouterr().out
    assert "[/]: " in printed and "[bold]x: " in printed
    decisions = tmp_path / "d.jsonl"
    decisions.write_text(
        "".join(
            json.dumps({"item_id": i, "reviewer": r, "answer": GOOD}) + "\n"
            for i in _ids(out)
            for r in names
        )
    )
    assert main(["eval", "review", "import", str(out), str(decisions)]) == 0
    assert "[/]/[bold]x" in capsys.readouterr().out


def test_a_create_racing_another_into_one_directory_is_named(review: Path) -> None:
    with pytest.raises(BadInputError, match="meanwhile"):
        ReviewStore(review).populate({"kind": "eval"}, [], ["zed"], {})


@pytest.mark.parametrize(
    ("plan", "option"),
    [({"overlap": 7.0}, "--overlap"), ({"overlap": -0.5}, "--overlap"), ({"items": -3}, "--items")],
)
def test_a_plan_with_an_impossible_share_or_count_is_refused(
    eval_review: Path, tmp_path: Path, plan: dict[str, Any], option: str
) -> None:
    from tripwire.evals import SamplesBackend, get_suite
    from tripwire.review import EvalPlan, create_eval_review

    base = SamplesBackend(eval_review.parent / "base.jsonl")
    with pytest.raises(BadInputError, match=option):
        create_eval_review(
            tmp_path / "r",
            get_suite("humaneval"),
            base,
            base,
            reviewers=["a"],
            plan=EvalPlan(**plan),
        )
    assert not (tmp_path / "r").exists()


def test_data_review_resumed_or_imported_with_a_clean_copy_it_cannot_write(
    audited: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The clean copy's path is checked before any decision is recorded; a resumed review
    does not silently drop a --clean it was not made with."""
    from tripwire.review import DataPlan, create_data_review

    review = tmp_path / "review"
    plan = DataPlan(per_reason=1, borderline=1, near_misses=False)
    args = ([audited.dataset], audited.findings)
    made = create_data_review(review, *args, reviewers=["ana"], plan=plan)
    with pytest.raises(BadInputError, match="--clean"):
        create_data_review(review, *args, reviewers=["ana"], plan=plan, clean=tmp_path / "c.jsonl")
    item = ReviewStore(review).queue("ana")[0]
    decisions = tmp_path / "d.jsonl"
    decisions.write_text(
        json.dumps(
            {"item_id": item, "reviewer": "ana", "answer": {"decision": "drop", "reason": "other"}}
        )
        + "\n"
    )
    for clean in ("/proc/clean.jsonl", str(tmp_path), str(audited.dataset)):
        code = main(
            ["data", "review", "import", str(made.directory), str(decisions), "--clean", clean]
        )
        assert code == 2 and "--clean" in _one_line(capsys.readouterr().err)
    assert ReviewStore(review).history() == []


# --- the review page -------------------------------------------------------------------------


@pytest.fixture
def page(review: Path) -> tuple[TestClient, str]:
    from tripwire.review._server import create_app

    token = ReviewStore(review).new_token("ana")
    client = TestClient(create_app(review), base_url="http://127.0.0.1")
    return client, token


def test_a_body_past_the_limit_is_413_even_without_a_length(page: tuple[TestClient, str]) -> None:
    client, token = page

    def chunks() -> Any:
        yield b"token=" + token.encode() + b"&x="
        for _ in range(100):
            yield b"a" * 65536

    r = client.post(
        "/login",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 413


def test_hostile_requests_get_4xx_with_the_page_headers(page: tuple[TestClient, str]) -> None:
    client, token = page
    form = {"content-type": "application/x-www-form-urlencoded"}
    bad_length = client.post(
        "/login", content=b"token=x", headers={**form, "content-length": "abc"}
    )
    assert bad_length.status_code == 400
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    for r in (
        client.put("/item/1"),
        client.delete("/"),
        client.get("/item/abc"),
        client.get("/nothing-here"),
        client.post("/item/1", json={"correctness": "A"}),
        client.post("/item/999", data=GOOD),
        client.post("/item/1", data={**GOOD, "correctness": "<script>"}),
    ):
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code)
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "<script>" not in r.text
