"""`tripwire data audit` on inputs and options a stranger's probe found crashing it or writing
wrong output: each gives a finding for the one record, or a one-line error (exit 2) naming the
file, line or option, never a traceback."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.data.test_stranger_inputs import FAST, _audit
from tripwire.cli import main
from tripwire.data import AuditConfig, RulePolicy, audit
from tripwire.data._ruff import ruff_check
from tripwire.errors import BadInputError, UnavailableError

GOOD = [{"id": f"g{i}", "text": f"def f{i}(x):\n    return x + {i}\n"} for i in range(3)]
BIG = "9" * 5000


def _lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[Any], *extra: str) -> Path:
    return _lines(path, [json.dumps(r) for r in rows] + list(extra))


def _strict(line: str) -> Any:
    """JSON as a strict reader takes it: no NaN or Infinity."""

    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    return json.loads(line, parse_constant=refuse)


# --- D1: an integer past Python's 4,300-digit limit ---------------------------------------


def test_a_huge_integer_in_a_record_is_bad_format_and_the_rest_is_kept(tmp_path):
    data = _jsonl(
        tmp_path / "train.jsonl", GOOD, '{"id": "big", "text": "x = 1\\n", "n": ' + BIG + "}"
    )
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(tmp_path, data, "--clean", str(clean))
    assert code == 0
    assert [r["reasons"] for r in found] == [[], [], [], ["bad_format"]]
    assert "number too long" in found[-1]["details"]["bad_format"]["problems"][0]
    assert len(clean.read_text().splitlines()) == 3


def test_a_huge_integer_in_a_benchmark_file_is_bad_input_naming_its_line(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    bench = _lines(
        tmp_path / "bench.jsonl", ['{"text": "def g(a):\\n    return a\\n", "n": ' + BIG + "}"]
    )
    assert main(["data", "audit", str(data), "--benchmark", str(bench), *FAST]) == 2
    err = capsys.readouterr().err
    assert "bench.jsonl:1:" in err and "number too long" in err and "Traceback" not in err


# --- D2: a lone surrogate escape ------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "s1", "text": "x = \\"\\ud800\\"\\n", "language": "python"}',
        '{"id": "\\udc00bad", "text": "x = 1\\n"}',
        '{"id": "s2", "text": "x = 1\\n", "meta": {"\\uDBFF": 1}}',
    ],
    ids=["text", "id", "key"],
)
def test_a_lone_surrogate_makes_its_record_bad_format(tmp_path, line):
    data = _jsonl(tmp_path / "train.jsonl", GOOD, line)
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(
        tmp_path, data, "--clean", str(clean), "--report", str(tmp_path / "r.html")
    )
    assert code == 0
    assert found[-1]["id"] == 4  # its line: the id itself cannot be written
    assert found[-1]["reasons"] == ["bad_format"]
    assert "lone surrogate" in found[-1]["details"]["bad_format"]["problems"][0]
    assert len(clean.read_text().splitlines()) == 3


def test_a_surrogate_pair_is_a_character_not_a_problem(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"id": "e", "text": "s = '\U0001f600'\n"}])
    assert "\\ud83d" in data.read_text()  # json.dumps writes the emoji as an escaped pair
    code, found = _audit(tmp_path, data)
    assert code == 0
    assert found[0]["reasons"] == []


def test_a_lone_surrogate_in_a_benchmark_file_is_bad_input_naming_its_line(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    bench = _lines(
        tmp_path / "bench.jsonl", ['{"text": "def g(a):\\n    return \\"\\ud800\\"\\n"}']
    )
    assert main(["data", "audit", str(data), "--benchmark", str(bench), *FAST]) == 2
    err = capsys.readouterr().err
    assert "bench.jsonl:1:" in err and "lone surrogate" in err


# --- D3: record ids in the terminal table ---------------------------------------------------


def test_ids_in_the_terminal_table_are_shown_literally(tmp_path, capsys):
    rows = [
        {"id": "[/bold]", "text": "def f(:\n    pass\n", "language": "python"},
        {"id": "\x1b[31mR", "text": "class P(:\n    x: int = 0\n", "language": "python"},
    ]
    data = _jsonl(tmp_path / "train.jsonl", GOOD + rows)
    code, _ = _audit(tmp_path, data)
    assert code == 0
    out = capsys.readouterr().out
    assert "[/bold]" in out
    assert "\x1b" not in out and "\\x1b[31mR" in out


# --- D4: a Parquet file whose pages are corrupt (its footer intact) -------------------------


def _corrupt_parquet(path: Path, row_group_size: int = 6) -> Path:
    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(6)]
    table = pa.table({"id": [f"p{i}" for i in range(6)], "text": texts})
    pq.write_table(table, path, row_group_size=row_group_size)
    data = bytearray(path.read_bytes())
    for k in range(8, 200):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def test_a_parquet_file_with_corrupt_pages_is_bad_input(tmp_path, capsys):
    data = _corrupt_parquet(tmp_path / "train.parquet")
    code, found = _audit(tmp_path, data, "--clean", str(tmp_path / "clean.jsonl"))
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "train.parquet: not a readable Parquet file" in err and "\n" not in err
    assert found == [] and not (tmp_path / "clean.jsonl").exists()


def test_a_corrupt_parquet_page_read_in_a_worker_process_is_bad_input(tmp_path):
    data = _corrupt_parquet(tmp_path / "train.parquet", row_group_size=2)
    config = AuditConfig(workers=2, shard_bytes=1, run_tests=False, out_of_domain_z=0)
    with pytest.raises(BadInputError, match="not a readable Parquet file"):
        audit([data], config=config, findings=tmp_path / "findings.jsonl")
    from tripwire.data._readers import UnreadableInput

    err = pickle.loads(pickle.dumps(UnreadableInput("x.parquet", "not readable")))
    assert (err.where, err.problem) == ("x.parquet", "not readable")


# --- D5: an unknown --rule id ---------------------------------------------------------------


@pytest.mark.parametrize("rule", ["BOGUS", "PER", "js/no-such-rule", "s608"])
def test_an_unknown_rule_is_refused_before_any_work(tmp_path, capsys, rule):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    code, found = _audit(tmp_path, data, "--rule", f"{rule}=drop")
    assert code == 2
    assert f"--rule: unknown rule '{rule}'" in capsys.readouterr().err
    assert found == []


def test_a_rule_ruff_removed_is_refused_with_ruff_s_reason(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    code, _ = _audit(tmp_path, data, "--rule", "ANN101=flag")  # removed in ruff 0.8
    assert code == 2
    err = capsys.readouterr().err
    assert "--rule: " in err and "ANN101" in err and "Traceback" not in err


def test_rule_ids_and_prefixes_of_ruff_and_tripwire_are_accepted(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    rules = ["S608=flag", "S60=drop", "PERF=drop", "js/=flag", "go/G402=ignore"]
    code, _ = _audit(tmp_path, data, *(a for r in rules for a in ("--rule", r)))
    assert code == 0


def test_a_ruff_that_cannot_run_is_not_blamed_on_a_record():
    # a policy made without the audit's check: ruff refuses its selection on every file
    policy = RulePolicy((("BOGUS", "drop"),))
    with pytest.raises(UnavailableError, match="ruff"):
        ruff_check(["x = 1\n", "y = 2\n"], [False, False], policy)


# --- D6: --out-of-domain-z that is not a number >= 0 ----------------------------------------


@pytest.mark.parametrize("z", ["nan", "inf", "-1"])
def test_an_out_of_domain_z_that_is_not_a_finite_number_is_refused(tmp_path, capsys, z):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    summary = tmp_path / "s.json"
    code = main(["data", "audit", str(data), "--json", str(summary), *FAST[:3],
                 "--out-of-domain-z", z])  # fmt: skip
    assert code == 2
    assert "--out-of-domain-z" in capsys.readouterr().err
    assert not summary.exists()


# --- D7: the clean copy of a Parquet file ---------------------------------------------------


def test_the_clean_copy_of_parquet_is_json_with_nan_as_null_and_bytes_kept(tmp_path):
    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(3)]
    table = pa.table(
        {
            "id": ["p0", "p1", "p2"],
            "text": texts,
            "score": [float("nan"), 1.0, float("inf")],
            "blob": [b"\x00\xff", "h\u00e9".encode(), None],
            "parts": [[{"v": float("nan")}], [], [{"v": 2.0}]],
        }
    )
    data = tmp_path / "train.parquet"
    pq.write_table(table, data)
    clean = tmp_path / "clean.jsonl"
    code, _ = _audit(tmp_path, data, "--clean", str(clean))
    assert code == 0
    rows = [_strict(line) for line in clean.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["p0", "p1", "p2"]
    assert [r["score"] for r in rows] == [None, 1.0, None]
    assert [r["blob"] for r in rows] == [{"base64": "AP8="}, "h\u00e9", None]
    assert rows[0]["parts"] == [{"v": None}]


# --- D8: two columns of one name ------------------------------------------------------------


def test_a_parquet_file_with_two_columns_of_one_name_is_bad_input(tmp_path, capsys):
    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(3)]
    table = pa.Table.from_arrays(
        [pa.array(["a", "b", "c"]), pa.array(texts), pa.array(["x"] * 3)],
        names=["id", "text", "text"],
    )
    data = tmp_path / "train.parquet"
    pq.write_table(table, data)
    code, found = _audit(tmp_path, data)
    assert code == 2
    assert "train.parquet: duplicate column 'text'" in capsys.readouterr().err
    assert found == []


# --- D9: lines in UTF-16 --------------------------------------------------------------------


def test_a_utf16_line_is_bad_format_and_not_copied(tmp_path):
    data = tmp_path / "train.jsonl"
    good = "".join(json.dumps(r) + "\n" for r in GOOD).encode()
    odd = json.dumps({"id": "u16", "text": "def u(x):\n    return x * 3\n"}).encode("utf-16-le")
    data.write_bytes(good + odd + b"\n")
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(tmp_path, data, "--clean", str(clean))
    assert code == 0
    assert found[-1]["reasons"] == ["bad_format"]
    assert "not valid UTF-8" in found[-1]["details"]["bad_format"]["problems"][0]
    assert clean.read_bytes() == good


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_file_with_a_utf16_or_utf32_byte_order_mark_is_bad_input(tmp_path, capsys, encoding):
    data = tmp_path / "train.jsonl"
    data.write_bytes("".join(json.dumps(r) + "\n" for r in GOOD).encode(encoding))
    code, found = _audit(tmp_path, data)
    assert code == 2
    assert f"encoded as {encoding.upper()}" in capsys.readouterr().err
    assert found == []


# --- D10: '-' as an output other than --json ------------------------------------------------


@pytest.mark.parametrize("options", [["--findings", "-"], ["--findings", "-", "--clean", "-"],
                                     ["--report", "-"]])  # fmt: skip
def test_dash_is_refused_for_outputs_that_are_files(tmp_path, monkeypatch, capsys, options):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    monkeypatch.chdir(tmp_path)
    assert main(["data", "audit", str(data), *options, *FAST]) == 2
    assert "'-' (standard output) is for --json only" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_dash_still_means_stdout_for_json(tmp_path, monkeypatch, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    monkeypatch.chdir(tmp_path)
    assert main(["data", "audit", str(data), "--json", "-", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"
    assert not (tmp_path / "-").exists()


# --- D15: an allowlist regex past what re supports ------------------------------------------


def test_an_allowlist_regex_with_a_huge_repetition_is_bad_input(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    allow = tmp_path / "allow.json"
    allow.write_text('{"rules": [{"line": "a{99999999999}"}]}')
    assert main(["data", "audit", str(data), "--allow-secrets", str(allow), *FAST]) == 2
    assert "rules[0].line: bad regular expression" in capsys.readouterr().err


def test_an_allowlist_with_a_huge_integer_is_bad_input(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.jsonl", GOOD)
    allow = tmp_path / "allow.json"
    allow.write_text('{"rules": [], "note": ' + BIG + "}")
    assert main(["data", "audit", str(data), "--allow-secrets", str(allow), *FAST]) == 2
    assert "allow.json: the allowlist is not JSON" in capsys.readouterr().err
