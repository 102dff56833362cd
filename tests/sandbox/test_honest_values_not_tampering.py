"""Honest wrong answers the judge cannot receive (an int past Python's digit limit, a value
nested past the codec's depth, a message over its frame limit) fail as wrong answers naming
why, never as ``tampering``; a program's built-in exception that cannot be rebuilt from a
message (``UnicodeDecodeError``) is named as itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tripwire.sandbox import ExecResult, Judged, Limits, Sandbox

# room for a 65 MB answer and its encoding in the program's process
ROOMY = Limits(wall_s=10.0, cpu_s=5.0, memory_bytes=1024**3, nprocs=16)
TESTS = "assert f() == 1\n"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=ROOMY) as sandbox:
        sandbox.start()
        yield sandbox


def _judge(box: Sandbox, body: str, tests: str = TESTS) -> ExecResult:
    (result,) = box.run_many([Judged(f"def f():\n{body}", tests, ("f",))])
    return result


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("    return 2 ** 20000\n", "an int of more than 4300 digits"),
        ("    return -(10 ** 4300)\n", "an int of more than 4300 digits"),
        ("    x = []\n    for _ in range(200):\n        x = [x]\n    return x\n",
         "nested more than 100 levels"),
        ("    x = []\n    x.append(x)\n    return x\n", "nested more than 100 levels"),
        ("    return 'x' * (65 * 1024 * 1024)\n", "a value over 64 MB"),
    ],
    ids=["big_int", "big_negative_int", "nested_200", "holds_itself", "over_64_mb"],
)  # fmt: skip
def test_an_unreceivable_answer_is_a_wrong_answer_not_tampering(
    box: Sandbox, body: str, why: str
) -> None:
    result = _judge(box, body)
    assert result.verdict == "failed", result
    assert result.tampering == (), result
    assert why in result.message and "tampering" not in result.message, result.message


def test_the_limit_is_the_judges_own_to_the_digit(box: Sandbox) -> None:
    longest = _judge(box, "    return 10 ** 4300 - 1\n", "assert f() == 10 ** 4300 - 1\n")
    assert longest.verdict == "passed", longest
    over = _judge(box, "    return 10 ** 4300\n", "assert f() == 10 ** 4300\n")
    assert over.verdict == "failed" and over.tampering == (), over


def test_a_test_that_catches_exceptions_cannot_turn_an_unreceivable_answer_into_a_pass(
    box: Sandbox,
) -> None:
    tests = "try:\n    f()\nexcept Exception:\n    pass\n"
    result = _judge(box, "    return 2 ** 20000\n", tests)
    assert result.verdict == "failed", result
    assert result.tampering == () and "4300 digits" in result.message, result


def test_a_unicode_decode_error_is_named_as_itself(box: Sandbox) -> None:
    result = _judge(box, "    raise UnicodeDecodeError('utf-8', b'x', 0, 1, 'bad')\n")
    assert result.verdict == "failed" and result.tampering == (), result
    assert "UnicodeDecodeError" in result.message, result.message
    assert "arguments" not in result.message, result.message


def test_a_rebuilt_unicode_error_is_still_caught_as_one(box: Sandbox) -> None:
    tests = "try:\n    f()\nexcept UnicodeError as e:\n    assert 'bad' in str(e)\n"
    result = _judge(box, "    raise UnicodeDecodeError('utf-8', b'x', 0, 1, 'bad')\n", tests)
    assert result.verdict == "passed", result


def test_a_lone_surrogate_in_the_source_names_the_programs_error(box: Sandbox) -> None:
    result = _judge(box, "    return '\ud800'.encode()\n")
    assert result.verdict == "failed" and result.tampering == (), result
    assert "UnicodeEncodeError" in result.message, result.message
    assert "arguments" not in result.message, result.message
