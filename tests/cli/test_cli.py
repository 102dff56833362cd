"""The real console script, in a subprocess: exit codes, one-line errors, JSON contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.cli import tripwire as run


def test_help_has_examples() -> None:
    commands = [["reference", "build"], ["registry", "list"], ["registry", "show"],
                ["registry", "add"], ["demo"], []]  # fmt: skip
    for args in ([*c, "--help"] for c in commands):
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert "Example" in r.stdout, args


def test_help_paragraphs_wrap_to_the_terminal() -> None:
    # docstrings are wrapped in the source; the terminal must get each paragraph as one line
    r = run("demo", "--help", env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    assert "stages 1-3 each inject one of the incident's bugs, show the release gate" in r.stdout
    narrow = run("demo", "--help", env={"COLUMNS": "80"}).stdout
    description = narrow[narrow.index("Reproduce") : narrow.index("╭")]
    for paragraph in description.split("\n \n"):
        lines = [ln.strip() for ln in paragraph.splitlines() if ln.strip()]
        assert all(len(ln) > 60 for ln in lines[:-1]), lines  # no ragged half-empty lines


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("tripwire ")


def test_build_registers_and_lists(tiny_reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "ref"
    r = run(
        "reference",
        "build",
        "--profile",
        "tiny",
        "--out",
        str(out),
        "--json",
        str(tmp_path / "b.json"),
    )
    assert r.returncode == 0, r.stderr
    assert "python" in r.stdout and "bits/B" in r.stdout
    built = json.loads((tmp_path / "b.json").read_text())
    assert built["cached"] is True and built["path"] == str(out)
    assert {row["language"] for row in built["languages"]} >= {"python"}
    listed = run("registry", "list", "--json", "-")
    assert listed.returncode == 0, listed.stderr
    arts = json.loads(listed.stdout)["artifacts"]
    assert [a["id"] for a in arts] == [built["id"]]
    shown = run("registry", "show", built["id"][:8], "--json", "-")
    assert json.loads(shown.stdout)["name"] == "reference-tiny"


def test_add_records_parent(tiny_reference: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(tiny_reference, base)
    assert run("registry", "add", str(base)).returncode == 0
    child = tmp_path / "child"
    shutil.copytree(base, child)
    (child / "tripwire.json").unlink()
    (child / "notes.txt").write_text("fine-tuned")
    r = run("registry", "add", str(child), "--parent", "reference-tiny", "--json", "-")
    assert r.returncode == 0, r.stderr
    child_id = json.loads(r.stdout)["id"]
    shown = json.loads(run("registry", "show", child_id, "--json", "-").stdout)
    assert shown["ancestors"] == [
        json.loads(run("registry", "show", "reference-tiny", "--json", "-").stdout)["id"]
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["registry", "show", "no-such-model"], "no-such-model: not in the registry"),
        (["--registry", "nosuchdialect://x", "registry", "list"], "cannot open registry"),
        (["reference", "build", "--profile", "huge"], "unknown profile"),
        # a traceback once the model had been built (or found in the cache)
        (["reference", "build", "--out", "/proc/ref"], "--out: /proc/ref: cannot write in /proc"),
        (["reference", "import", "smollm2", "--json", "/proc/x.json"], "--json: /proc/x.json"),
        (["registry", "add", "/nonexistent/model"], "/nonexistent/model: no such file"),
        (["registry", "frobnicate"], "No such command 'frobnicate'. (see: tripwire registry"),
        (["eval", "run", "--timeout", "nan"], "Invalid value for '--timeout'"),
        (["eval", "run", "--no-such-flag"], "No such option: --no-such-flag"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    # usage errors too (typer drew them in a box of several lines)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_debug_shows_traceback() -> None:
    r = run("--debug", "registry", "show", "no-such-model")
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_bad_json_target_leaves_no_partial_output(tiny_reference: Path, tmp_path: Path) -> None:
    target = tmp_path / "ref"
    r = run(
        "reference",
        "build",
        "--profile",
        "nope",
        "--out",
        str(target),
        "--json",
        str(tmp_path / "x.json"),
    )
    assert r.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_every_json_document_says_what_made_it(tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "py-add", "completion": "    return a + b\\n"}\n')
    r = run("eval", "run", f"samples:{samples}", "--suite", "canaries", "--json", "-")
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["tripwire_version"]
    assert doc["command"].startswith("tripwire eval run samples:") and doc["created_at"]


def test_models_and_runs_given_plainly(tiny_reference: Path, tmp_path: Path) -> None:
    # a bare checkpoint folder is hf:FOLDER; a missing run folder is named as such
    out = tmp_path / "run"
    r = run("eval", "run", str(tiny_reference), "--suite", "canaries", "--out", str(out),
            "--max-new-tokens", "4", "--json", "-")  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    assert json.loads(r.stdout)["run"]["samples"] > 0
    r = run("eval", "compare", str(out), str(tmp_path / "missing"))
    assert r.returncode == 2 and "missing: no such run directory" in r.stderr, r.stderr
    r = run("eval", "run", str(tmp_path), "--suite", "canaries")
    assert r.returncode == 2 and "needs a config.json" in r.stderr, r.stderr


def test_progress_lines_when_not_on_a_terminal(tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    rows = [{"task_id": "HumanEval/0", "completion": "    return False\n"}] * 3
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = run("eval", "run", f"samples:{samples}", "--suite", "humaneval", "--workers", "0",
            "--out", str(tmp_path / "run"), env={"TRIPWIRE_PROGRESS_EVERY": "0"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "[progress] execute 3/3 (100%)" in r.stderr and "/s," in r.stderr


def test_baseline_and_candidate_positional_or_as_options(
    tiny_reference: Path, tmp_path: Path
) -> None:
    samples = tmp_path / "s.jsonl"
    ids = ["py-add", "py-is-even", "py-max", "py-join", "js-add", "js-even"]
    samples.write_text("".join(json.dumps({"task_id": i, "completion": "  return 1\n"}) + "\n"
                               for i in ids))  # fmt: skip
    runs = []
    for name in ("a", "b"):
        r = run("eval", "run", f"samples:{samples}", "--suite", "canaries", "--out",
                str(tmp_path / name))  # fmt: skip
        assert r.returncode == 0, r.stderr
        runs.append(str(tmp_path / name))
    a, b = runs
    spellings = [[a, b], ["--baseline", a, "--candidate", b], ["--candidate", b, a]]
    docs = []
    for args in spellings:
        r = run("eval", "compare", *args, "--json", "-")
        assert r.returncode in (0, 1), r.stderr
        docs.append(json.loads(r.stdout))
    assert docs[0]["baseline"] == docs[1]["baseline"] == docs[2]["baseline"]
    assert docs[0]["candidate"] == docs[1]["candidate"] == docs[2]["candidate"]
    # tokens audit and gate take the same spellings
    ref = str(tiny_reference)
    r = run("tokens", "audit", "--baseline", ref, "--candidate", ref, "--json", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["verdict"] == "pass", r.stderr
    for args, needle in [
        (["gate", ref], "--candidate: missing: give CANDIDATE"),
        (["gate", "--candidate", ref], "--baseline: missing: give BASELINE"),
        (["gate", ref, ref, "--baseline", ref], "too many models or runs"),
        (["eval", "compare", a, "--candidate", b, "--baseline", a], "too many models or runs"),
    ]:
        r = run(*args)
        assert r.returncode == 2 and needle in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_retention_without_a_corpus_uses_the_pinned_held_out_split(
    tiny_reference: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"  # a user's own checkpoint: no reference corpus inside
    shutil.copytree(tiny_reference, mine, ignore=shutil.ignore_patterns("reference_corpus"))
    r = run("eval", "run", str(mine), "--suite", "retention", "--max-per-language", "2",
            "--out", str(tmp_path / "run"), "--json", "-")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "retention corpus: the machine's pinned reference corpus, held-out split" in r.stderr
    assert json.loads(r.stdout)["run"]["samples"] > 0
    # a bare reference model folder scores its own held-out split, as hf:FOLDER does
    r = run("eval", "run", str(tiny_reference), "--suite", "retention", "--max-per-language",
            "2", "--out", str(tmp_path / "own"), "--json", "-")  # fmt: skip
    assert r.returncode == 0 and "pinned reference corpus" not in r.stderr, r.stderr


def test_names_with_markup_are_shown_as_text(tmp_path: Path) -> None:
    """A directory named like rich markup crashed `registry list` and `show` (MarkupError)."""
    from tripwire.artifacts import ArtifactKind, Manifest

    model = tmp_path / "evil[red]model"  # a folder name cannot hold the "/" of a closing tag
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\0" * 16)
    Manifest.build(model, ArtifactKind.MODEL, name="evil[/]model").write(model)
    added = run("registry", "add", str(model), "--kind", "model", "--json", "-")
    assert added.returncode == 0, added.stderr
    for args in (("registry", "list"), ("registry", "show", json.loads(added.stdout)["id"])):
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert "evil[/]model" in r.stdout, r.stdout


def test_an_output_the_system_refuses_is_one_line(tmp_path: Path) -> None:
    """/dev/full as an output was a traceback (No space left on device) after the work."""
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "def f(x):\n    return x + 1\n"}) + "\n")
    r = run("data", "audit", str(data), "--findings", "/dev/full")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "error: /dev/full: No space left on device"
    assert "Traceback" not in r.stderr


def test_a_tripwire_bug_is_its_own_exit_code(monkeypatch, capsys, tmp_path: Path) -> None:
    """An unexpected exception exited 1, which CI reads as "block": a crash is not a verdict."""
    from tripwire.artifacts import Registry
    from tripwire.cli import INTERNAL_ERROR, main

    def broken(self, *args, **kwargs):  # a fault injected into a real registry
        raise RuntimeError("injected fault")

    monkeypatch.setattr(Registry, "list", broken)
    code = main(["--registry", f"sqlite:///{tmp_path / 'r.db'}", "registry", "list"])
    err = capsys.readouterr().err
    assert code == INTERNAL_ERROR == 4
    assert "RuntimeError: injected fault" in err and "internal error: tripwire" in err


@pytest.mark.parametrize("stream", ["/dev/fd/1", "/dev/stdout"])
def test_json_to_the_standard_output_path_goes_through_the_redirection(
    stream: str, tmp_path: Path
) -> None:
    """`--json /dev/stdout > file` replaced the /dev/stdout link with a file (as root) and
    left the redirected file empty; /dev/fd/1 was a traceback. The table stays out of it."""
    import os
    import subprocess

    from tests.support.cli import TRIPWIRE

    before = os.readlink("/dev/stdout") if os.path.islink("/dev/stdout") else None
    target = tmp_path / "doc.json"
    try:
        with target.open("w") as fh:
            r = subprocess.run([TRIPWIRE, "registry", "list", "--json", stream], stdout=fh,
                               stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "artifacts" in json.loads(target.read_text())
    finally:
        if before is not None and not os.path.islink("/dev/stdout"):  # put the machine right
            os.remove("/dev/stdout")
            os.symlink(before, "/dev/stdout")
    assert before is None or os.readlink("/dev/stdout") == before


def test_no_scratch_folder_beside_a_device_output(tmp_path: Path) -> None:
    """`data audit --findings /dev/null` left /dev/null.tripwire-work behind, in /dev."""
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "def f(x):\n    return x + 1\n"}) + "\n")
    r = run("data", "audit", str(data), "--findings", "/dev/null", "--clean", "/dev/null")
    assert r.returncode == 0, r.stderr
    assert not Path("/dev/null.tripwire-work").exists()
