"""Outputs of `tripwire data review` / `eval review` that would destroy something: the review's
database (and SQLite's files beside it), the audited data and findings the review reads again,
or another output of the same command. Each is refused before any work with one line naming the
option and the path (exit 2), and nothing is written."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.review.conftest import Audited
from tripwire.cli import main
from tripwire.review import ReviewStore

CREATE = (
    "data review train.jsonl --findings findings.jsonl --out rev2 --reviewer ana --no-near-misses"
)


@dataclass
class Review:
    directory: Path
    dataset: Path
    findings: Path
    work: Path


def _digest(path: Path) -> str:
    if path.suffix == ".db":  # what the database holds: opening it may checkpoint its WAL
        with contextlib.closing(sqlite3.connect(path)) as db:
            return hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def review(audited: Audited, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Review:
    """A data review of a private copy of the shared audit (a test that fails writes over its
    inputs), made in the working directory, as in the defect report."""
    from tripwire.review import DataPlan, create_data_review

    dataset = shutil.copy(audited.dataset, tmp_path / "train.jsonl")
    findings = shutil.copy(audited.findings, tmp_path / "findings.jsonl")
    plan = DataPlan(near_misses=False, borderline=3, per_reason=2)
    made = create_data_review(
        tmp_path / "rev", [Path(dataset)], Path(findings), reviewers=["ana"], plan=plan
    )
    monkeypatch.chdir(tmp_path)
    return Review(made.directory, Path(dataset), Path(findings), tmp_path)


@pytest.fixture
def eval_copy(eval_review: Path, tmp_path: Path) -> Path:
    """A private copy of the shared eval review (other tests import into the shared one)."""
    return Path(shutil.copytree(eval_review, tmp_path / "eval-rev"))


def _refused(capsys: pytest.CaptureFixture[str], command: str, *needles: str) -> str:
    """``command`` (its words split on spaces) exits 2 with one line holding ``needles``."""
    code = main(command.split())
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err
    return lines[0]


def _intact(r: Review, before: dict[Path, str]) -> None:
    """The review still opens, nothing was imported, and the sources are unchanged."""
    store = ReviewStore(r.directory)
    assert store.meta()["kind"] == "data" and store.history() == []
    for path, digest in before.items():
        assert _digest(path) == digest, path


def _sources(r: Review) -> dict[Path, str]:
    return {p: _digest(p) for p in (r.dataset, r.findings)}


# (command, what the one-line error names, paths the refused command must not have made)
REFUSED = {
    "import --clean onto the database": (
        "data review import rev --clean rev/review.db",
        ("error: --clean:", "rev/review.db", "the review's database"),
        (),
    ),
    "report onto the database": (
        "data review report rev --report rev/review.db",
        ("--report", "rev/review.db"),
        (),
    ),
    "export onto the database": (
        "data review export rev --format jsonl --out rev/review.db",
        ("--out", "rev/review.db"),
        (),
    ),
    "import --json onto the database": (
        "data review import rev --json rev/review.db",
        ("--json",),
        ("rev/clean.jsonl",),  # refused before the clean copy is written
    ),
    "import --clean and --report onto one file": (
        "data review import rev --clean c.jsonl --report c.jsonl",
        ("--report", "c.jsonl", "--clean"),
        ("c.jsonl",),
    ),
    "import --report onto the default clean copy": (
        "data review import rev --report rev/clean.jsonl",
        ("--report", "rev/clean.jsonl"),
        ("rev/clean.jsonl",),
    ),
    "export --out and --json onto one file": (
        "data review export rev --format jsonl --out x.jsonl --json x.jsonl",
        ("--json", "x.jsonl"),
        ("x.jsonl",),
    ),
    "export --json onto the labeling configuration": (
        "data review export rev --format labelstudio --out tasks.json --json tasks.xml",
        ("--json", "tasks.xml"),
        ("tasks.json", "tasks.xml"),
    ),
    "export onto the audited input": (
        "data review export rev --format jsonl --out train.jsonl",
        ("--out", "train.jsonl", "made from"),
        (),
    ),
    "export onto the audit findings": (
        "data review export rev --format jsonl --out findings.jsonl",
        ("--out", "findings.jsonl"),
        (),
    ),
    "create with --clean onto the audited input": (
        f"{CREATE} --clean train.jsonl",
        ("--clean", "train.jsonl"),
        ("rev2",),
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_output_onto_the_reviews_own_files_or_another_output_is_refused(
    review: Review, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    command, needles, absent = REFUSED[case]
    before = _sources(review)
    line = _refused(capsys, command, *needles)
    assert line.startswith("error: "), line
    _intact(review, before)
    for path in absent:
        assert not Path(path).exists(), path


@pytest.mark.parametrize("side", ["-wal", "-shm"])
def test_report_onto_the_databases_wal_or_shm_file_is_refused(
    review: Review, capsys: pytest.CaptureFixture[str], side: str
) -> None:
    """SQLite keeps committed decisions in the -wal file until a checkpoint."""
    before = _sources(review)
    target = f"rev/review.db{side}"
    _refused(capsys, f"data review report rev --json {target}", "--json", target)
    _intact(review, before)


def test_argilla_export_onto_a_folder_holding_the_review_is_refused(
    review: Review, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Argilla dataset replaces its folder whole: the review directory, or one holding the
    audited data, would be deleted."""
    before = _sources(review)
    for folder in ("rev", "."):
        _refused(
            capsys,
            f"data review export rev --format argilla --out {folder}",
            "--out",
            "holds",
        )
        _intact(review, before)


def test_create_json_onto_the_new_review_database_is_refused(
    review: Review, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused(
        capsys,
        f"{CREATE} --json rev2/review.db",
        "--json",
        "rev2/review.db",
    )
    assert not Path("rev2").exists()


@pytest.mark.parametrize(
    "args",
    [
        "report {r} --report {r}/review.db",
        "import {r} --json {r}/review.db",
        "export {r} --format jsonl --out {r}/review.db",
        "export {r} --format jsonl --out {t}/x.jsonl --json {t}/x.jsonl",
    ],
    ids=["report-db", "import-json-db", "export-db", "export-out-json"],
)
def test_eval_review_outputs_onto_the_database_or_each_other_are_refused(
    eval_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: str
) -> None:
    db = eval_copy / "review.db"
    before = _digest(db)
    command = args.format(r=eval_copy, t=tmp_path)
    _refused(capsys, f"eval review {command}", str(tmp_path))
    assert _digest(db) == before
    assert not (tmp_path / "x.jsonl").exists()
