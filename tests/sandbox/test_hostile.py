"""Hostile programs: each gets the right verdict, and the sandbox is healthy afterwards."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.sandbox.conftest import FAST
from tripwire.sandbox import Sandbox


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(b")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        frontier += kids
    return out


def _no_leftovers(box: Sandbox) -> None:
    for pid in box.worker_pids():
        assert _descendants(pid) == [], f"worker {pid} still has processes after the program"


def test_infinite_loop_times_out(box, healthy):
    r = box.run("def f():\n    while True:\n        pass\n", "f()\n")
    assert r.verdict == "timeout", r
    assert "limit" in r.message  # CPU, or wall-clock first on a loaded machine
    healthy(box)


def test_sleep_is_killed_at_the_wall_clock_limit(box, healthy):
    start = time.monotonic()
    r = box.run("import time\ndef f():\n    time.sleep(60)\n", "f()\n")
    assert r.verdict == "timeout", r
    assert "wall-clock" in r.message
    assert time.monotonic() - start < FAST.wall_s + 3
    healthy(box)


def test_fork_bomb_is_contained(box, healthy):
    r = box.run("import os\ndef f():\n    while True:\n        os.fork()\n", "f()\n")
    assert r.verdict == "failed", r
    assert "BlockingIOError" in r.message  # RLIMIT_NPROC stopped it
    _no_leftovers(box)
    healthy(box)


def test_allocating_16_gb_fails_with_memory_error(box, healthy):
    r = box.run("def f():\n    return len(bytearray(16 * 1024**3))\n", "assert f() > 0\n")
    assert r.verdict == "failed", r
    assert "MemoryError" in r.message
    healthy(box)


def test_100_mb_of_stdout_is_capped(box, healthy):
    program = (
        "import sys\n"
        "def f():\n"
        "    chunk = 'x' * (1 << 20)\n"
        "    for _ in range(100):\n"
        "        sys.stdout.write(chunk)\n"
        "    return 1\n"
    )
    r = box.run(program, "assert f() == 1\n")
    assert r.verdict == "passed", r  # noisy but correct
    assert r.output_bytes >= 100 * (1 << 20)
    assert len(r.output.encode()) == FAST.output_bytes
    healthy(box)


@pytest.mark.parametrize("where", ["module", "function"])
def test_os_exit_zero_does_not_pass(box, healthy, where):
    program = (
        "import os\nos._exit(0)\ndef f():\n    return 1\n"
        if where == "module"
        else "import os\ndef f():\n    os._exit(0)\n"
    )
    r = box.run(program, "assert f() == 2\n")
    assert r.verdict == "failed", r
    assert "exited with status 0 before the tests finished" in r.message
    healthy(box)


@pytest.mark.parametrize("call", ["sys.exit(0)", "exit(0)", "raise SystemExit(0)"])
def test_sys_exit_zero_does_not_pass(box, healthy, call):
    r = box.run(f"import sys\ndef f():\n    {call}\n", "assert f() == 2\n")
    assert r.verdict == "failed", r
    assert "SystemExit" in r.message
    healthy(box)


def test_monkey_patching_the_harness_does_not_pass(box, healthy):
    program = (
        "import builtins, os, sys, atexit\n"
        "builtins.exec = lambda *a, **k: None\n"
        "builtins.compile = lambda *a, **k: None\n"
        "os.write = lambda fd, data: len(data)\n"
        "os._exit = lambda code: None\n"
        "sys.excepthook = lambda *a: None\n"
        "atexit.register(lambda: print('PASSED'))\n"
        "def f():\n"
        "    return 1\n"
    )
    r = box.run(program, "assert f() == 2\n")
    assert r.verdict == "failed", r
    assert "AssertionError" in r.message
    healthy(box)


def test_cannot_delete_or_write_files_outside_its_temp_dir(box, healthy):
    victim_dir = Path(tempfile.mkdtemp(prefix="tripwire-victim-"))
    try:
        victim_dir.chmod(0o777)  # world-writable: only the sandbox stands in the way
        victim = victim_dir / "precious.txt"
        victim.write_text("keep me")
        victim.chmod(0o666)
        program = (
            "import os, shutil\n"
            "def attempts():\n"
            "    done = []\n"
            f"    for name, action in [('remove', lambda: os.remove({str(victim)!r})),\n"
            f"                         ('rmtree', lambda: shutil.rmtree({str(victim_dir)!r})),\n"
            f"                         ('write', lambda: open({str(victim)!r}, 'w').write('x')),\n"
            f"                         ('create', lambda: open({str(victim_dir / 'n')!r}, 'w')),\n"
            "                         ('tmp', lambda: open('/tmp/tripwire-escape', 'w'))]:\n"
            "        try:\n"
            "            action()\n"
            "            done.append(name)\n"
            "        except OSError:\n"
            "            pass\n"
            "    open('inside.txt', 'w').write('fine')  # its own temp dir is writable\n"
            "    return done\n"
        )
        r = box.run(program, "assert attempts() == [], attempts()\n")
        assert r.verdict == "passed", r
        assert victim.read_text() == "keep me"
        assert sorted(p.name for p in victim_dir.iterdir()) == ["precious.txt"]
        assert not Path("/tmp/tripwire-escape").exists()
    finally:
        for p in victim_dir.iterdir():
            p.unlink()
        victim_dir.rmdir()
    healthy(box)


def test_temp_dir_is_private_and_removed(box):
    r = box.run("import os\nprint(os.getcwd())\nopen('f', 'w').write('x')\n")
    assert r.verdict == "passed", r
    cwd = r.output.strip()
    assert cwd and not Path(cwd).exists()


def test_environment_secrets_are_not_visible(monkeypatch, healthy):
    secret = "tripwire-test-secret-8c1f2b"
    monkeypatch.setenv("TRIPWIRE_TEST_SECRET", secret)
    # this test process holds the secret: its pid is named outright, /proc may not even list
    program = (
        "import os\n"
        "def pids():\n"
        "    try:\n"
        "        return os.listdir('/proc')\n"
        "    except OSError:\n"
        "        return []\n"
        "def leaks():\n"
        "    found = [k for k, v in os.environ.items() if 'tripwire-test-secret' in v]\n"
        f"    for pid in [{os.getpid()}, 1, os.getppid(), 'self', *pids()]:\n"
        "        try:\n"
        "            with open(f'/proc/{pid}/environ', 'rb') as f:\n"
        "                if b'tripwire-test-secret' in f.read():\n"
        "                    found.append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return found\n"
    )
    with Sandbox(workers=1, limits=FAST) as fresh:
        r = fresh.run(program, "assert leaks() == [], leaks()\n")
        assert r.verdict == "passed", r
        healthy(fresh)


@pytest.mark.parametrize("network", ["netns", "seccomp"])
def test_no_network(network, healthy):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    program = (
        "import socket\n"
        "def reachable():\n"
        "    ok = []\n"
        f"    for name, addr in [('loopback', ('127.0.0.1', {port})), ('dns', ('8.8.8.8', 53))]:\n"
        "        try:\n"
        "            socket.create_connection(addr, timeout=1).close()\n"
        "            ok.append(name)\n"
        "        except OSError:\n"
        "            pass\n"
        "    try:\n"
        "        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53))\n"
        "        ok.append('udp')\n"
        "    except OSError:\n"
        "        pass\n"
        "    return ok\n"
    )
    try:
        with Sandbox(workers=1, limits=FAST, network=network) as box:
            assert box.isolation.network == network
            r = box.run(program, "assert reachable() == [], reachable()\n")
            assert r.verdict == "passed", r
            # AF_UNIX stays usable (multiprocessing, socketpair)
            r = box.run("import socket\na, b = socket.socketpair()\na.send(b'x')\n", "")
            assert r.verdict == "passed", r
            healthy(box)
    finally:
        listener.close()


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0].decode()


def test_signals_to_the_worker_and_others_are_refused(box, healthy):
    before = box.worker_pids()
    # a stopped witness: SIGCONT is harmless to everyone else if it did escape, and visible here
    witness = subprocess.Popen(["sleep", "60"])
    try:
        os.kill(witness.pid, signal.SIGSTOP)
        while _state(witness.pid) != "T":
            time.sleep(0.01)
        program = (
            "import os, signal\n"
            "def sent():\n"
            "    ok = []\n"
            "    for name, pid, sig in [('worker', os.getppid(), signal.SIGKILL),\n"
            f"                           ('witness', {witness.pid}, signal.SIGCONT)]:\n"
            "        try:\n"
            "            os.kill(pid, sig)\n"
            "            ok.append(name)\n"
            "        except OSError:\n"
            "            pass\n"
            "    try:  # broadcast: must reach only its own processes (none, in its namespace)\n"
            "        os.kill(-1, signal.SIGCONT)\n"
            "    except ProcessLookupError:\n"
            "        pass\n"
            "    return ok\n"
        )
        r = box.run(program, "assert sent() == [], sent()\n")
        assert r.verdict == "passed", r
        time.sleep(0.1)
        assert _state(witness.pid) == "T", "a signal escaped the sandbox"
    finally:
        witness.kill()
        witness.wait()
    assert box.worker_pids() == before  # no worker was killed (or restarted)
    healthy(box)


def _named(name: bytes) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if f"({name.decode()})".encode() in Path(f"/proc/{entry}/stat").read_bytes():
                    out.append(int(entry))
            except OSError:
                continue
    return out


def test_daemon_does_not_outlive_the_program(box, healthy):
    # the daemon names itself (its pid is its own namespace's), so it can be looked for here
    mark = b"tw-daemon-" + os.urandom(3).hex().encode()
    program = (
        "import ctypes, os, sys, time\n"
        "def spawn():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            ctypes.CDLL(None).prctl(15, {mark!r}, 0, 0, 0)\n"
        "            print('daemon', os.getpid(), flush=True)\n"
        "            time.sleep(30)\n"
        "        os._exit(0)\n"
        "    time.sleep(0.3)\n"
        "    return 1\n"
    )
    r = box.run(program, "assert spawn() == 1\n")
    assert r.verdict == "passed", r
    assert re.search(r"daemon (\d+)", r.output), r.output
    _no_leftovers(box)
    alive = [p for p in _named(mark) if b" Z " not in Path(f"/proc/{p}/stat").read_bytes()]
    assert alive == [], f"daemon {alive} is still alive"
    healthy(box)
