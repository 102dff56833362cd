"""`tripwire data audit` on sets as other tools ship them (Alpaca, ShareGPT, OpenAI chat, Hugging
Face exports), on unusual files, and on output paths that would lose data: each record keeps or
loses its place for the right reason, and bad paths are refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tripwire.cli import main
from tripwire.data import FieldMap, parse_record

FAST = ["--no-tests", "--workers", "1", "--out-of-domain-z", "0"]
ADD = "def add(a, b):\n    return a + b\n"
FENCED = "```python\n" + ADD + "```"


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _audit(tmp_path: Path, data: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    findings = tmp_path / "findings.jsonl"
    code = main(["data", "audit", str(data), "--findings", str(findings), *FAST, *extra])
    rows = [json.loads(x) for x in findings.read_text().splitlines()] if findings.exists() else []
    return code, rows


def _parse(obj: Any) -> Any:
    return parse_record(obj, 1, 1, FieldMap(other_shapes=True))


# --- outputs that would lose data ---------------------------------------------------------


def test_findings_onto_the_input_is_refused_and_the_input_survives(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    before = data.read_bytes()
    code = main(["data", "audit", str(data), "--findings", str(data), *FAST])
    assert code == 2
    assert data.read_bytes() == before


@pytest.mark.parametrize("option", ["--clean", "--report", "--json"])
def test_an_output_onto_an_input_is_refused(tmp_path, option):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    before = data.read_bytes()
    assert main(["data", "audit", str(tmp_path), option, str(data), *FAST]) == 2
    assert data.read_bytes() == before


def test_two_outputs_on_one_file_are_refused(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    out = tmp_path / "out.jsonl"
    code = main(["data", "audit", str(data), "--findings", str(out), "--clean", str(out), *FAST])
    assert code == 2
    assert not out.exists()


@pytest.mark.parametrize("option", ["--clean", "--report", "--json"])
def test_an_output_that_is_a_folder_is_refused_before_anything_is_written(tmp_path, option):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    folder = tmp_path / "out"
    folder.mkdir()
    findings = tmp_path / "findings.jsonl"
    code = main(
        ["data", "audit", str(data), "--findings", str(findings), option, str(folder), *FAST]
    )
    assert code == 2
    assert not findings.exists()
    assert list(folder.iterdir()) == []


def test_an_output_under_a_file_is_refused(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    assert main(["data", "audit", str(data), "--clean", str(blocker / "clean.jsonl"), *FAST]) == 2


def test_an_output_in_a_missing_folder_is_made(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    clean = tmp_path / "new" / "deeper" / "clean.jsonl"
    assert main(["data", "audit", str(data), "--clean", str(clean), *FAST]) == 0
    assert clean.read_text() == json.dumps({"text": ADD}) + "\n"


# --- sets with nothing in them --------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n   \n", "\ufeff\n"])
def test_a_set_without_records_is_bad_input(tmp_path, content):
    data = tmp_path / "train.jsonl"
    data.write_text(content, encoding="utf-8")
    clean = tmp_path / "clean.jsonl"
    assert main(["data", "audit", str(data), "--clean", str(clean), *FAST]) == 2
    assert not clean.exists()


# --- other tools' shapes ----------------------------------------------------------------------


def test_alpaca_records_are_instructions_with_their_input():
    rec = _parse({"instruction": "Add two numbers.", "input": "a=1, b=2", "output": FENCED})
    assert rec.kind == "instruction" and not rec.problems
    assert "Add two numbers." in rec.prompt and "a=1, b=2" in rec.prompt
    assert rec.code.strip() == ADD.strip()


def test_dolly_records_take_their_context():
    rec = _parse({"instruction": "Add.", "context": "in Python", "response": FENCED})
    assert rec.kind == "instruction" and not rec.problems and "in Python" in rec.prompt


def test_an_alpaca_field_of_the_wrong_type_is_named():
    rec = _parse({"instruction": "Add.", "input": "", "output": 3})
    assert rec.problems == ["field 'output' is a JSON number, expected a string"]


def test_sharegpt_conversations_are_chats():
    rec = _parse(
        {
            "conversations": [
                {"from": "system", "value": "You write Python."},
                {"from": "human", "value": "Add two numbers."},
                {"from": "gpt", "value": FENCED},
            ]
        }
    )
    assert rec.kind == "chat" and not rec.problems
    assert rec.prompt == "Add two numbers." and rec.code.strip() == ADD.strip()


def test_openai_content_parts_and_tool_calls_are_read():
    call = {"id": "c1", "type": "function", "function": {"name": "run", "arguments": "{}"}}
    rec = _parse(
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Add two numbers."}]},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
                {"role": "assistant", "content": [{"type": "text", "text": FENCED}]},
            ]
        }
    )
    assert rec.kind == "chat" and not rec.problems
    assert rec.prompt == "Add two numbers." and rec.code.strip() == ADD.strip()


def test_a_turn_of_parts_without_text_is_still_a_problem():
    image = {"type": "image_url", "image_url": {"url": "x"}}
    rec = _parse({"messages": [{"role": "user", "content": [image]}]})
    assert "turn 0 (user) has no text content" in rec.problems


def test_a_language_in_lang_is_read():
    rec = _parse({"text": ADD, "lang": "Python", "repo_name": "a/b"})
    assert rec.kind == "code" and rec.code == ADD and rec.language == "python"


def test_a_record_of_unknown_shape_names_its_fields_and_the_option():
    rec = _parse({"content": ADD, "lang": "Python", "repo_name": "a/b"})
    assert rec.kind == "invalid"
    assert "'content', 'lang', 'repo_name'" in rec.problems[0]


def test_tripwire_own_fields_win_and_training_reads_only_them():
    both = {"text": ADD, "conversations": [], "instruction": "nor this"}
    assert _parse(both).kind == "code" and _parse(both).code == ADD
    alpaca = {"instruction": "Add.", "output": FENCED}
    assert parse_record(alpaca, 1, 1, FieldMap()).kind == "invalid"


def test_field_option_cannot_name_the_shape_switch():
    from tripwire.errors import BadInputError

    with pytest.raises(BadInputError):
        FieldMap.parse(["other_shapes=x"])


def test_every_shape_of_clean_code_is_kept_end_to_end(tmp_path):
    call = {"id": "c1", "type": "function", "function": {"name": "run", "arguments": "{}"}}
    mul = "def mul(a, b):\n    return a * b\n"
    sub = "def sub(a, b):\n    return a - b\n"
    rows = [
        {"instruction": "Write a Python function that adds two numbers.", "input": "",
         "output": FENCED},
        {"conversations": [{"from": "human", "value": "Multiply two numbers in Python."},
                           {"from": "gpt", "value": "```python\n" + mul + "```"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Subtract."}]},
                      {"role": "assistant", "content": None, "tool_calls": [call]},
                      {"role": "tool", "tool_call_id": "c1", "content": "ok"},
                      {"role": "assistant",
                       "content": [{"type": "text", "text": "```python\n" + sub + "```"}]}]},
    ]  # fmt: skip
    code, found = _audit(tmp_path, _jsonl(tmp_path / "mixed.jsonl", rows))
    assert code == 0
    assert [(r["keep"], r["reasons"]) for r in found] == [(True, [])] * 3


def test_hugging_face_parquet_export_is_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"content": [ADD], "lang": ["Python"], "size": [len(ADD)]}), data)
    code, found = _audit(tmp_path, data, "--field", "text=content")
    assert code == 0 and found[0]["keep"], found


def test_a_set_in_a_shape_not_read_is_bad_input_naming_its_fields(tmp_path, capsys):
    rows = [{"content": ADD, "lang": "Python"}, {"content": "x = 1\n", "lang": "Python"}]
    findings = tmp_path / "findings.jsonl"
    data = _jsonl(tmp_path / "the-stack.jsonl", rows)
    assert main(["data", "audit", str(data), "--findings", str(findings), *FAST]) == 2
    err = capsys.readouterr().err
    assert "'content', 'lang'" in err and "--field" in err
    assert not findings.exists()


def test_a_pretty_printed_json_array_is_bad_input_with_the_way_out(tmp_path, capsys):
    data = tmp_path / "train.json"
    data.write_text(json.dumps([{"text": ADD}, {"text": "x = 1\n"}], indent=2))
    assert main(["data", "audit", str(data), *FAST]) == 2
    assert "jq -c" in capsys.readouterr().err


def test_a_set_with_some_unreadable_records_is_audited(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"text": ADD}) + "\nnot json\n")
    code, found = _audit(tmp_path, data)
    assert code == 0 and [r["keep"] for r in found] == [True, False]


# --- records of the wrong type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"), [(None, "null"), (True, "boolean"), ([1], "array"), ("x", "string")]
)
def test_a_record_that_is_not_an_object_is_named_in_json_terms(value, name):
    rec = parse_record(value, 1, 1, FieldMap())
    assert rec.problems[0].startswith(f"record is a JSON {name}, expected an object")


@pytest.mark.parametrize(
    ("value", "name"), [(5, "number"), ({"a": 1}, "object"), (True, "boolean"), (2.5, "number")]
)
def test_a_code_field_of_the_wrong_type_is_named_in_json_terms(value, name):
    rec = parse_record({"text": value}, 1, 1, FieldMap())
    assert rec.problems == [f"field 'text' is a JSON {name}, expected a string"]


# --- real code removed for a wrong reason ---------------------------------------------------

# /usr/bin/tzselect (tzdata): a usage message, one paragraph saying "Select", a later one
# "selection from", with a value interpolated
TZSELECT_USAGE = """#!/bin/sh
location_limit=10
usage="Usage: tzselect [--version] [--help] [-c COORD] [-n LIMIT]
Select a timezone interactively.

Options:

  -c COORD
    Instead of asking for continent and then country and then city,
    ask for selection from time zones whose largest cities
    are closest to the location with geographical coordinates COORD.

  -n LIMIT
    Display at most LIMIT locations when -c is used (default $location_limit)."
echo "$usage"
"""


def test_a_usage_message_that_says_select_and_from_is_not_sql():
    from tripwire.data._hazards import tree_hazards

    assert tree_hazards(TZSELECT_USAGE, "shell") == []


@pytest.mark.parametrize(
    "sql",
    [
        'q="SELECT name FROM users WHERE id = $1"\nsqlite3 app.db "$q"\n',
        'sqlite3 app.db "select t.name, u.id\n  from users u where u.id = $1"\n',
        "sqlite3 app.db \"SELECT * FROM logs WHERE msg = 'done. $1'\"\n",
    ],
)
def test_sql_built_from_values_is_still_found(sql):
    from tripwire.data._hazards import tree_hazards

    assert [f.rule for f in tree_hazards(sql, "shell")] == ["sh/sql-injection"]


# numpy/_core/__init__.py: a package's __init__ reads the __path__ the import system gives it
NUMPY_INIT = """import os

try:
    from . import multiarray
except ImportError as exc:
    candidates = []
    for path in __path__:
        candidates.extend(f for f in os.listdir(path) if f.startswith("_multiarray_umath"))
    raise ImportError(str(candidates)) from exc
"""


def test_a_package_init_reading_its_path_is_kept(tmp_path):
    data = _jsonl(tmp_path / "init.jsonl", [{"language": "python", "text": NUMPY_INIT}])
    code, found = _audit(tmp_path, data)
    assert code == 0 and found[0]["keep"], found


# --- bytes that are not text ----------------------------------------------------------------


@pytest.mark.parametrize("language", [None, "python", "javascript", "c"])
def test_code_with_a_nul_character_is_removed_as_bad_format(tmp_path, language):
    row = {"text": "def h(y):\x00\n    return y * 3\n"}
    if language:
        row["language"] = language
    code, found = _audit(tmp_path, _jsonl(tmp_path / "nul.jsonl", [row]))
    assert code == 0 and not found[0]["keep"]
    assert "bad_format" in found[0]["reasons"]
    assert "NUL" in " ".join(found[0]["details"]["bad_format"]["problems"])


def test_bom_crlf_and_a_raw_nul_line_keep_the_other_records(tmp_path):
    good = json.dumps({"id": "b", "text": "def g(y):\r\n    return y * 2\r\n"})
    data = tmp_path / "odd.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\r\n" + b'{"id": "a"}\x00\r\n')
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(tmp_path, data, "--clean", str(clean))
    assert code == 0
    assert [(r["id"], r["keep"]) for r in found] == [("b", True), (2, False)]
    assert found[1]["reasons"] == ["bad_format"]
    assert clean.read_bytes() == good.encode() + b"\r\n"


def test_clean_copy_of_several_files_with_a_bom_has_none_inside(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": ADD}).encode() + b"\n")
    second.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "x = 2\n"}).encode() + b"\n")
    clean = tmp_path / "clean.jsonl"
    cmd = ["data", "audit", str(first), str(second), "--clean", str(clean), *FAST]
    assert main(cmd) == 0
    assert [json.loads(x) for x in clean.read_text(encoding="utf-8").splitlines()] == [
        {"text": ADD},
        {"text": "x = 2\n"},
    ]


# /usr/bin/gunzip (gzip): a shell script that is mostly its help text
GUNZIP = """#!/bin/sh
# Uncompress files.  This is the inverse of gzip.

version="gunzip (gzip) 1.12
Copyright (C) 2007, 2011-2018 Free Software Foundation, Inc.
This is free software.  You may redistribute copies of it under the terms of
the GNU General Public License <https://www.gnu.org/licenses/gpl.html>.
There is NO WARRANTY, to the extent permitted by law.

Written by Paul Eggert."

usage="Usage: $0 [OPTION]... [FILE]...
Uncompress FILEs (by default, in-place).

Mandatory arguments to long options are mandatory for short options too.

  -c, --stdout      write on standard output, keep original files unchanged
  -f, --force       force overwrite of output file and compress links
  -k, --keep        keep (don't delete) input files
  -n, --no-name     do not save or restore the original name and timestamp
  -N, --name        save or restore the original name and timestamp
  -r, --recursive   operate recursively on directories
      --synchronous synchronous output (safer if system crashes, but slower)

With no FILE, or when FILE is -, read standard input.

Report bugs to <bug-gzip@gnu.org>."

case $1 in
--help)    printf '%s\\n' "$usage"   || exit 1; exit;;
--version) printf '%s\\n' "$version" || exit 1; exit;;
esac

exec gzip -d "$@"
"""

# /usr/share/perl/5.36.0/ExtUtils/MM_MacOS.pm: a stub module, most of it POD
MM_MACOS = """package ExtUtils::MM_MacOS;

use strict;
use warnings;
our $VERSION = '7.64';
$VERSION =~ tr/_//d;

sub new {
    die 'MacOS Classic (MacPerl) is no longer supported by MakeMaker';
}

=head1 NAME

ExtUtils::MM_MacOS - once produced Makefiles for MacOS Classic

=head1 SYNOPSIS

  # MM_MacOS no longer contains any code.  This is just a stub.

=head1 DESCRIPTION

Once upon a time, MakeMaker could produce an approximation of a correct
Makefile on MacOS Classic (MacPerl).  Due to a lack of maintainers, this
fell out of sync with the rest of MakeMaker and hadn't worked in years.

Since there's little chance of it being repaired, MacOS Classic is fading
away, and the code was icky to begin with, the code has been deleted to
make maintenance easier.

Anyone interested in resurrecting this file should pull the old version
from the MakeMaker CVS repository and contact makemaker@perl.org.

=cut

1;
"""


def test_real_files_without_a_declared_language_are_not_called_prose(tmp_path):
    rows = [{"id": "gunzip", "text": GUNZIP}, {"id": "MM_MacOS.pm", "text": MM_MACOS}]
    code, found = _audit(tmp_path, _jsonl(tmp_path / "undeclared.jsonl", rows))
    assert code == 0
    assert [(r["id"], r["reasons"]) for r in found] == [("gunzip", []), ("MM_MacOS.pm", [])]


def test_prose_without_a_declared_language_is_still_not_code(tmp_path):
    prose = (
        "I cannot help with that request. The function you are asking for would need access\n"
        "to the file system, and it is not something that I am able to provide here for you.\n"
    )
    _, found = _audit(tmp_path, _jsonl(tmp_path / "prose.jsonl", [{"text": prose}]))
    assert found[0]["reasons"] == ["not_code"]


# pip/_vendor/msgpack/ext.py and dbus/exceptions.py: Python 2 names behind a version switch
MSGPACK_EXT = """import sys

PY2 = sys.version_info[0] == 2

if PY2:
    int_types = (int, long)
else:
    int_types = int


def is_int(x):
    return isinstance(x, int_types)
"""
DBUS_EXCEPTIONS = """from dbus._compat import is_py3


class DBusException(Exception):
    def __unicode__(self):
        if len(self.args) > 1:
            return unicode(self.args)
        return ''.join(self.args)

    if is_py3:
        __str__ = __unicode__
"""


def test_python2_names_behind_a_version_switch_are_kept(tmp_path):
    rows = [{"language": "python", "text": t} for t in (MSGPACK_EXT, DBUS_EXCEPTIONS)]
    code, found = _audit(tmp_path, _jsonl(tmp_path / "compat.jsonl", rows))
    assert code == 0
    assert [r["keep"] for r in found] == [True, True], found


def test_a_python2_name_in_python3_code_is_still_a_bug(tmp_path):
    module = "import sys\n\n\ndef squares(n):\n    return [i * i for i in xrange(n)]\n"
    row = {"language": "python", "text": module}
    _, found = _audit(tmp_path, _jsonl(tmp_path / "py2.jsonl", [row]))
    assert found[0]["reasons"] == ["code_bug"]


# --- inputs that are not data files ---------------------------------------------------------


def test_a_gzipped_set_is_refused_with_the_way_out(tmp_path, capsys):
    import gzip

    data = tmp_path / "train.jsonl.gz"
    data.write_bytes(gzip.compress(json.dumps({"text": ADD}).encode() + b"\n"))
    assert main(["data", "audit", str(data), *FAST]) == 2
    assert "decompress" in capsys.readouterr().err


def test_a_pipe_is_not_called_missing(tmp_path, capsys):
    import os

    fifo = tmp_path / "train.jsonl"
    os.mkfifo(fifo)
    assert main(["data", "audit", str(fifo), *FAST]) == 2
    err = capsys.readouterr().err
    assert "no such file" not in err and "not a regular file" in err


# --- JSON nested deeper than Python's parser goes -------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_record_nested_too_deeply_is_bad_format_and_the_rest_is_kept(tmp_path):
    data = tmp_path / "deep.jsonl"
    good = json.dumps({"text": ADD})
    data.write_text(f'{DEEP}\n{{"text": "x", "meta": {DEEP}}}\n{good}\n')
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(
        tmp_path, data, "--clean", str(clean), "--report", str(tmp_path / "r.html")
    )
    assert code == 0
    assert [r["reasons"] for r in found] == [["bad_format"], ["bad_format"], []]
    assert "nested" in found[0]["details"]["bad_format"]["problems"][0]
    assert clean.read_text() == good + "\n"


def test_a_benchmark_file_nested_too_deeply_is_bad_input(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    bench = tmp_path / "bench.jsonl"
    bench.write_text(DEEP + "\n")
    assert main(["data", "audit", str(data), "--benchmark", str(bench), *FAST]) == 2


def test_an_allowlist_nested_too_deeply_is_bad_input(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    allow = tmp_path / "allow.json"
    allow.write_text(DEEP)
    assert main(["data", "audit", str(data), "--allow-secrets", str(allow), *FAST]) == 2


def test_a_benchmark_file_with_a_bom_is_read_like_the_input(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": "def triple(x):\n    return 3 * x\n"}])
    bench = tmp_path / "bench.jsonl"
    item = {"prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n"}
    bench.write_bytes(b"\xef\xbb\xbf" + json.dumps(item).encode() + b"\r\n")
    assert main(["data", "audit", str(data), "--benchmark", str(bench), *FAST]) == 0


def test_an_alpaca_input_of_the_wrong_type_is_named():
    rec = _parse({"instruction": "Add.", "input": 5, "output": FENCED})
    assert rec.problems == ["field 'input' is a JSON number, expected a string"]


@pytest.mark.parametrize(("value", "name"), [(1.5, "number"), ([1], "array"), ({}, "object")])
def test_an_id_of_the_wrong_type_is_named_in_json_terms(value, name):
    rec = parse_record({"id": value, "text": ADD}, 3, 3, FieldMap())
    assert rec.problems == [f"field 'id' is a JSON {name}, expected a string or an integer"]
    assert rec.id == 3


# numpy/f2py/tests/src/array_from_pyobj/wrapmodule.c, cut after a line inside a function whose
# signature runs over two lines: the body's indentation is the signature's, not the `{` line's
WRAP_CALL = """static PyObject *f2py_rout_wrap_call(PyObject *capi_self,
                                     PyObject *capi_args) {
  PyObject * volatile capi_buildvalue = NULL;
  int type_num = 0;
  int elsize = 0;
"""
SECOND = """static int second(int a,
                  int b) {
  return a + b;
}
"""


def test_a_function_with_a_wrapped_signature_cut_inside_is_truncated():
    from tripwire.data._parsing import analyse
    from tripwire.data._unfinished import ends_unfinished

    assert ends_unfinished(WRAP_CALL, "c", analyse(WRAP_CALL, "c"))


def test_a_missing_brace_before_the_next_function_is_still_a_syntax_error():
    from tripwire.data._parsing import analyse
    from tripwire.data._unfinished import ends_unfinished

    broken = WRAP_CALL + "  return NULL;\n\n" + SECOND
    assert not ends_unfinished(broken, "c", analyse(broken, "c"))


def test_an_output_that_links_to_an_input_is_refused(tmp_path):
    data = _jsonl(tmp_path / "train.jsonl", [{"text": ADD}])
    before = data.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(data)
    (tmp_path / "hard.jsonl").hardlink_to(data)
    for name in ("link.jsonl", "hard.jsonl", "./train.jsonl"):
        out = str(tmp_path / name)
        assert main(["data", "audit", str(data), "--clean", out, *FAST]) == 2, name
    assert data.read_bytes() == before


def test_a_parquet_binary_column_of_utf8_text_is_read_and_copied_as_text(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = tmp_path / "train.parquet"
    column = pa.array([ADD.encode(), b"\xff\xfe not text"], pa.binary())
    pq.write_table(pa.table({"text": column}), data)
    clean = tmp_path / "clean.jsonl"
    code, found = _audit(tmp_path, data, "--clean", str(clean))
    assert code == 0 and found[0]["keep"]
    assert found[1]["details"]["bad_format"]["problems"] == [
        "field 'text' is binary data, not UTF-8 text"
    ]
    assert json.loads(clean.read_text()) == {"text": ADD}


def test_a_script_that_crashes_bash_does_not_parse():
    """bash -n segfaults on 50,000 nested `$(`; the empty error output read as "parses"."""
    from tripwire.data._parsing import _shell

    crashed = _shell("echo " + "$(" * 50_000 + ")" * 50_000)
    assert crashed.problems and "bash -n crashed" in crashed.problems[0]["message"]
    assert _shell("echo $(date)\n").problems == []


@pytest.mark.parametrize("role", [["user"], {"name": "user"}])
def test_a_role_that_is_not_a_string_is_a_format_problem(role: Any) -> None:
    """A list or object as a chat role was a TypeError (unhashable) in the audit and training."""
    answer = {"role": "assistant", "content": "def f():\n    pass\n"}
    obj = {"messages": [{"role": role, "content": "a"}, answer]}
    rec = parse_record(obj, 1, 0, FieldMap(other_shapes=True))
    assert any("unknown role" in p for p in rec.problems), rec.problems
