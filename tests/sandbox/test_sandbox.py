"""Verdicts, limits, ordering, caching and the isolation report of the sandbox pool."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest

from tests.sandbox.conftest import FAST
from tripwire.errors import BadInputError
from tripwire.sandbox import ExecResult, Limits, Sandbox

ADD = "def add(a, b):\n    return a + b\n"


def test_verdicts_and_messages(box):
    cases = [
        (ADD, "assert add(1, 2) == 3\n", "passed", "all tests passed"),
        (ADD, "assert add(1, 2) == 4\n", "failed", "AssertionError [tests line 1]"),
        ("def add(a, b)\n    return a\n", "", "failed", "SyntaxError"),
        (ADD, "assert add(1, 2) ==\n", "failed", "[tests line 1]"),
        ("def f():\n    return 1 / 0\n", "f()\n", "failed", "ZeroDivisionError: division by zero"),
        ("x = input()\n", "", "failed", "EOFError"),  # stdin is empty
        ("def f():\n    return f()\n", "f()\n", "failed", "RecursionError"),
        ("raise KeyboardInterrupt\n", "", "failed", "KeyboardInterrupt"),
    ]
    results = box.run_many([(p, t) for p, t, _, _ in cases])
    for (_, _, verdict, message), r in zip(cases, results, strict=True):
        assert r.verdict == verdict, r
        assert message in r.message, r


def test_program_is_not_main_and_sees_its_tests_namespace(box):
    r = box.run("NAME = __name__\nif __name__ == '__main__':\n    raise SystemExit(3)\n",
                "assert NAME != '__main__'\n")  # fmt: skip
    assert r.verdict == "passed", r


def test_order_is_preserved_and_duplicates_run_once(box):
    jobs = [(f"X = {i % 5}\n", f"assert X == {i % 5}\nassert {i % 3} != 1\n") for i in range(30)]
    seen = []
    results = box.run_many(jobs, progress=lambda task, done, total: seen.append((done, total)))
    for i, r in enumerate(results):
        assert r.verdict == ("failed" if i % 3 == 1 else "passed"), (i, r)
    assert seen[-1] == (30, 30)
    assert sum(not r.cached for r in results) == 15  # 15 distinct (program, tests) pairs


def test_modules_outside_the_preload_import_normally(box):
    # the program's uid must be able to read the interpreter's whole library
    program = "import unittest, hashlib, decimal, json, sqlite3\n"
    r = box.run(program, "assert hashlib.md5(b'x').hexdigest().startswith('9dd4')\n")
    assert r.verdict == "passed", r


def test_output_time_and_memory_are_reported(box):
    program = (
        "x = bytearray(200 * 1024**2)\n"
        "for i in range(0, len(x), 4096):\n"
        "    x[i] = 1\n"
        "print('hi')\n"
    )
    r = box.run(program)
    assert r.verdict == "passed", r
    assert r.output == "hi\n" and r.output_bytes == 3
    assert r.peak_rss_bytes >= 200 * 1024**2
    assert 0 < r.cpu_s < r.wall_s + 1


def test_file_size_and_open_files_limits(box):
    big = box.run("open('f', 'wb').write(b'x' * (64 * 1024**2))\n")
    assert big.verdict == "failed" and "File too large" in big.message, big
    many = box.run("fs = [open('f%d' % i, 'w') for i in range(200)]\n")
    assert many.verdict == "failed" and "Too many open files" in many.message, many


def test_result_cache_across_sandboxes(tmp_path):
    jobs = [(ADD, "assert add(1, 1) == 2\n"), (ADD, "assert add(1, 1) == 3\n")]
    with Sandbox(workers=1, limits=FAST, cache_dir=tmp_path) as first:
        fresh = first.run_many(jobs)
    with Sandbox(workers=1, limits=FAST, cache_dir=tmp_path) as second:
        again = second.run_many(jobs)
        assert [r.cached for r in again] == [True, True]
        assert [r.verdict for r in again] == [r.verdict for r in fresh] == ["passed", "failed"]
        forced = second.run_many(jobs, use_cache=False)
        assert [r.cached for r in forced] == [False, False]
    other_limits = Limits(wall_s=FAST.wall_s + 1, cpu_s=FAST.cpu_s)
    with Sandbox(workers=1, limits=other_limits, cache_dir=tmp_path) as third:
        assert [r.cached for r in third.run_many(jobs)] == [False, False]


def test_isolation_report(box):
    iso = box.isolation
    assert iso.network in ("netns", "seccomp")
    assert iso.to_dict().keys() == {"network", "user", "filesystem", "signals", "nprocs",
                                    "processes", "reads", "disk", "sockets"}  # fmt: skip
    if os.geteuid() == 0:  # what root gets on a kernel with namespaces, Landlock and seccomp
        assert iso.processes == "own PID and IPC namespaces per program"
        assert iso.disk.startswith("tmpfs quota")
    if "landlock" in iso.filesystem:
        assert iso.reads.startswith("landlock")
    assert iso.sockets == "seccomp: socket(2) for AF_UNIX only"
    # another pool (another process: its uids start elsewhere) applies the same protections:
    # what a kept self-test and a Ray node are compared on
    moved = dataclasses.replace(
        iso, user=re.sub(r"\d+", lambda m: str(int(m.group()) + 7), iso.user)
    )
    assert moved.protections() == iso.protections()
    assert dataclasses.replace(iso, network="none").protections() != iso.protections()


def test_limits_validation():
    with pytest.raises(BadInputError):
        Limits(wall_s=0)
    with pytest.raises(BadInputError):
        Limits(open_files=3)
    assert Limits.from_dict(Limits().to_dict()) == Limits()
    r = ExecResult("passed", "ok", 0.1, 0.1, 1)
    assert ExecResult.from_dict(r.to_dict()) == r and r.passed


def test_cpu_limit_is_kept_below_a_second(box):
    # RLIMIT_CPU counts whole seconds; the CPU timer stops the program at its own limit
    loop = ("def f():\n    while True:\n        pass\n", "f()\n")
    r = box.run_many([(*loop, Limits(wall_s=5, cpu_s=0.2))])[0]
    assert r.verdict == "timeout" and "CPU limit of 0.2s" in r.message, r
    assert r.cpu_s < 0.9, r


def test_a_program_that_ignores_the_cpu_timer_meets_rlimit_cpu(box):
    program = (
        "import signal\nsignal.signal(signal.SIGPROF, signal.SIG_IGN)\nwhile True:\n    pass\n"
    )
    r = box.run_many([(program, "", Limits(wall_s=10, cpu_s=0.2))])[0]
    assert r.verdict == "timeout" and "CPU limit" in r.message, r
    assert r.cpu_s >= 1.0, r  # the backstop: the limit rounded up, plus one second


def test_jobs_may_carry_their_own_limits(box):
    small = Limits(wall_s=2.0, cpu_s=1.0, memory_bytes=256 * 1024**2)
    alloc = ("x = bytearray(400 * 1024**2)\n", "")
    own, default = box.run_many([(*alloc, small), alloc])
    assert own.verdict == "failed" and "MemoryError" in own.message, own
    assert default.verdict == "passed", default  # FAST allows 512 MiB
    assert box.cache_key((*alloc, small)) != box.cache_key(alloc)
    assert box.cache_key((*alloc, FAST)) == box.cache_key(alloc)
