"""Secrets are looked for in every string of a record and never leave the audit: not in the
findings (whatever check wrote the message), the clean copy, the report, the summary or the
terminal. An allowlist accepts reviewed false positives and is part of the audit's identity."""

from __future__ import annotations

import json
import random
import sysconfig
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.data._secrets import hashed_secret, secrets_in, suspect_strings
from tripwire.faults.secret_corpus import KINDS, installed_python_functions, plant

SITE = Path(sysconfig.get_paths()["purelib"])
GITHUB = "ghp_" + "Rk2u9XbQ7pLmN4vT8sW1yZ3aC6dF0gH5jK7e"
AWS = "AKIA" + "T4XQ7ZL2M4PX9RW3"
SLACK = "xoxb-" + "20417535612-31027739468-" + "q8Zs1nR4tUv7WxY0aB3cD6eF"
DB_PASSWORD = "k7Qx" + "-Vr29mZpL4"


def _functions(n: int) -> list[str]:
    return installed_python_functions(n, random.Random(11))


def _records(code: list[str]) -> list[dict]:
    tests_leak = (
        f'TOKEN = "{GITHUB}"\n'
        "assert add(2, 2) == 5, f'add failed with {TOKEN}'\n"  # the failure message quotes it
    )
    return [
        {  # only in the system turn
            "id": "system-turn",
            "messages": [
                {"role": "system", "content": f"You are the release bot. Use token {GITHUB}."},
                {"role": "user", "content": "What does this do?"},
                {"role": "assistant", "content": f"```python\n{code[0]}```\nIt formats."},
            ],
        },
        {  # only in a metadata field nobody maps
            "id": "metadata",
            "text": code[1],
            "language": "python",
            "meta": {"crawler": {"aws_access_key_id": AWS, "region": "us-east-1"}},
        },
        {"id": f"run-{SLACK}", "text": code[2], "language": "python"},  # in the id
        {  # in the source URL
            "id": "source",
            "text": code[3],
            "language": "python",
            "source": f"https://ci:{DB_PASSWORD}@git.internal/mirror.git",
        },
        {  # in a chat role that is no role at all
            "id": "bad-role",
            "messages": [
                {"role": f"system AWS_ACCESS_KEY_ID={AWS}", "content": "hi"},
                {"role": "assistant", "content": f"```python\n{code[4]}```"},
            ],
        },
        {  # in the tests, whose failure message quotes it (failing_tests writes it later)
            "id": "tests",
            "prompt": "Write add.",
            "response": "```python\ndef add(a, b):\n    return a + b\n```\n",
            "tests": tests_leak,
        },
        {"id": "clean", "text": code[5], "language": "python", "source": "pypi:installed"},
    ]


def test_a_secret_anywhere_blocks_the_record_and_is_redacted_in_every_output(tmp_path, capsys):
    records = _records(_functions(6))
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = {k: tmp_path / f"{k}" for k in ("f.jsonl", "c.jsonl", "r.html", "s.json")}
    args = ["data", "audit", str(data), "--workers", "1"]
    args += ["--findings", str(out["f.jsonl"]), "--clean", str(out["c.jsonl"])]
    args += ["--report", str(out["r.html"]), "--json", str(out["s.json"])]
    assert main(args) == 1
    terminal = capsys.readouterr()
    rows = [json.loads(x) for x in out["f.jsonl"].read_text().splitlines()]
    assert [("secret" in r["reasons"]) for r in rows] == [True] * 6 + [False]
    fails = rows[5]["details"].get("failing_tests")
    assert fails is not None and "[REDACTED:github_token]" in fails["message"]
    assert [json.loads(x)["id"] for x in out["c.jsonl"].read_text().splitlines()] == ["clean"]
    everything = [p.read_text() for p in out.values()] + [terminal.out, terminal.err]
    for text in everything:
        for secret in (GITHUB, AWS, SLACK, DB_PASSWORD):
            assert secret not in text
    ids = [r["id"] for r in rows]
    assert ids[2].startswith("run-[REDACTED:slack_token]")
    wheres = {s["where"] for r in rows[:6] for s in r["details"]["secret"]["secrets"]}
    assert {"messages[0].content", "meta.crawler.aws_access_key_id", "id", "source"} <= wheres
    assert "messages[0].role" in wheres and "tests" in wheres


def _sqlalchemy_example() -> str:
    """A real docstring example with a password in its URL (a reviewed false positive)."""
    text = (SITE / "sqlalchemy" / "dialects" / "mssql" / "base.py").read_text(encoding="utf-8")
    start = text.index("    from sqlalchemy import create_engine\n    from sqlalchemy import event")
    return textwrap.dedent(text[start : text.index("\n\n\n", start) + 1])


def _audit_cli(tmp_path: Path, data: Path, *extra: str) -> tuple[int, list[dict], dict]:
    f, s = tmp_path / "f.jsonl", tmp_path / "s.json"
    code = main(["data", "audit", str(data), "--findings", str(f), "--json", str(s), *extra])
    rows = [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []
    return code, rows, json.loads(s.read_text()) if s.exists() else {}


def test_an_allowlist_accepts_reviewed_secrets_and_is_part_of_the_identity(tmp_path):
    example = _sqlalchemy_example()
    assert "scott:tiger" in example
    records = [
        {"id": "docs", "text": example, "language": "python", "source": "pypi:sqlalchemy"},
        {"id": "leak", "text": f'KEY = "{AWS}"\n', "language": "python", "source": "crawl"},
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    flags = ["--workers", "1", "--no-tests"]
    code, rows, _ = _audit_cli(tmp_path, data, *flags)
    assert code == 1 and rows[0]["reasons"] == ["secret"]
    (shown,) = rows[0]["details"]["secret"]["secrets"]
    assert shown["kind"] == "password_in_url" and shown["sha1"] == hashed_secret("tiger^5HHH")

    by_hash = tmp_path / "allow.json"
    by_hash.write_text(json.dumps({"secrets": [{"sha1": shown["sha1"], "note": "docs"}]}))
    by_rule = tmp_path / "rules.json"
    by_rule.write_text(json.dumps({"rules": [{"kind": "password_in_url", "source": "pypi:*"}]}))
    for allow in (by_hash, by_rule):
        code, rows, summary = _audit_cli(tmp_path, data, *flags, "--allow-secrets", str(allow))
        assert code == 1  # the other record's key is still a secret
        assert rows[0]["keep"] and rows[1]["reasons"] == ["secret"]
        assert summary["config"]["allow_secrets"] == str(allow)
        assert summary["config"]["allow_secrets_sha256"]
        assert summary["shards"]["resumed"] == 0  # another allowlist, another audit


def test_a_detect_secrets_baseline_is_an_allowlist(tmp_path):
    detect_secrets = pytest.importorskip("detect_secrets")
    from detect_secrets.settings import default_settings

    example = _sqlalchemy_example()
    source = tmp_path / "example.py"
    source.write_text(example)
    with default_settings():
        found = detect_secrets.SecretsCollection()
        found.scan_file(str(source))
        baseline = {"version": "1.5.0", "filters_used": [], "results": found.json()}
    path = tmp_path / ".secrets.baseline"
    path.write_text(json.dumps(baseline))
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "docs", "text": example, "language": "python"}) + "\n")
    code, rows, _ = _audit_cli(tmp_path, data, "--workers", "1", "--no-tests")
    assert code == 1
    code, rows, _ = _audit_cli(
        tmp_path, data, "--workers", "1", "--no-tests", "--allow-secrets", str(path)
    )
    assert code == 0 and rows[0]["keep"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not JSON"),
        ('{"hashes": []}', "expected 'secrets' and/or 'rules'"),
        ('{"secrets": ["abc"]}', "40-digit hex SHA-1"),
        ('{"rules": [{"secret": "("}]}', "bad regular expression"),
        ('{"rules": [{"path": "x"}]}', "unknown rule keys"),
    ],
)
def test_a_bad_allowlist_is_bad_input_and_writes_nothing(tmp_path, capsys, content, problem):
    allow = tmp_path / "allow.json"
    allow.write_text(content)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x = 1\n", "language": "python"}) + "\n")
    code, _, _ = _audit_cli(tmp_path, data, "--allow-secrets", str(allow))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "allow.json" in err[0] and problem in err[0]
    assert not (tmp_path / "f.jsonl").exists() and not (tmp_path / "s.json").exists()


def _found(record: dict, secret: str) -> bool:
    raw = json.dumps(record).encode()
    values = [
        t[h.start : h.end] for _, t, k in suspect_strings(raw, record) for h in secrets_in(t, k)
    ]
    probe = secret.split("\n")[0] if secret.startswith("-----BEGIN") else secret[:24]
    return any(probe in v or (len(v) >= 8 and v in secret) for v in values)


def test_planted_secrets_are_found_in_every_place_and_clean_code_is_left_alone():
    rng = random.Random(5)
    code = installed_python_functions(3 * len(KINDS) + 400, rng)
    planted = [
        plant(kind, code[k * len(KINDS) + j], rng, k * len(KINDS) + j)
        for k in range(3)
        for j, kind in enumerate(KINDS)
    ]
    missed = [(p.kind, p.where) for p in planted if not _found(p.record, p.secret)]
    assert missed == []
    assert len({p.where for p in planted}) == 8
    clean = code[3 * len(KINDS) :]
    flagged = [
        c
        for c in clean
        if any(secrets_in(t, k) for _, t, k in suspect_strings(c.encode(), {"text": c}))
    ]
    assert flagged == []


def test_detect_secrets_finds_no_planted_kind_more_often():
    pytest.importorskip("detect_secrets")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "secrets_bench", Path(__file__).parents[2] / "benchmarks" / "data_secrets.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    planted, _ = bench.corpora(per_kind=2, clean=0, seed=3)
    ds, _ = bench.detect_secrets_lines([p.record for p in planted])
    ours, theirs = Counter(), Counter()
    for p, lines in zip(planted, ds, strict=True):
        ours[p.kind] += _found(p.record, p.secret)
        theirs[p.kind] += any(bench._holds(line, p.secret) for line in lines)
    for kind in bench.DETECT_SECRETS_TYPE:
        assert ours[kind] >= theirs[kind], (kind, ours[kind], theirs[kind])


def test_a_type_annotation_is_not_a_password():
    """cryptography's own DSA backend (/usr/lib/python3/dist-packages/cryptography/hazmat/
    backends/openssl/dsa.py) was removed as a `password_assignment`: a parameter annotated with
    a forward reference. The same name with a credential after it is still found."""
    from tripwire.data._secrets import find_secrets

    code = (
        "def _dsa_sig_sign(\n"
        '    backend: "Backend", private_key: "_DSAPrivateKey", data: bytes\n'
        ") -> bytes:\n"
        'def load(private_key: "serialization.PrivateKey" = None): ...\n'
    )
    assert find_secrets(code) == []
    for leaked in ('private_key: "hJ8s_Kq2zP4x"\n', 'db:\n  password: "Summer2024!x"\n',
                   'config = {"private_key": "Zx9_Qw8e7R6t", "user": 1}',
                   'const c = {apiKey: "Abcdefgh12345678", user: 1}'):  # fmt: skip
        assert [h.kind for h in find_secrets(leaked)] == ["password_assignment"], leaked
