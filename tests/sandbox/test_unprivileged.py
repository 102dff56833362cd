"""The unprivileged path: the sandbox started by a non-root user (no uid to drop to), where
the network block comes from a user+network namespace or seccomp, and files and signals are
confined by Landlock. Run as ``nobody`` in a private mount namespace that makes this
interpreter reachable (it may live under /root); needs root to set that up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile

import pytest

from tripwire.sandbox import _confine
from tripwire.sandbox._isolation import _expose, drop_privileges, interpreter_dirs

NOBODY = 65534
SECRET = "tripwire-unprivileged-secret-5d2e"

SCRIPT = r"""
import json, os, sys
from tripwire.sandbox import Limits, Sandbox

port = int(sys.argv[1])
cases = {
    "ok": ("def f():\n    return 1\n", "assert f() == 1\n"),
    "fork_bomb": ("import os\ndef f():\n    while True:\n        os.fork()\n", "f()\n"),
    "loop": ("while True:\n    pass\n", ""),
    "alloc_16gb": ("x = bytearray(16 * 1024**3)\n", ""),
    "sys_exit": ("import sys\nsys.exit(0)\n", "assert False\n"),
    "socket": (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=1)\n", ""),
    "kill_worker": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", ""),
    "write_tmp": ("open('/tmp/tripwire-unprivileged-escape', 'w').write('x')\n", ""),
    "env_secret": (
        "import os\n"
        "try:\n"
        "    procs = os.listdir('/proc')\n"
        "except OSError:  # Landlock: /proc is not even listable\n"
        "    procs = [str(os.getppid()), '1']\n"
        "found = [p for p in procs if p.isdigit() and _read(p)]\n",
        "assert found == [], found\n"),
}
reader = (
    "def _read(pid):\n"
    "    try:\n"
    "        return b'tripwire-unprivileged-secret' in open(f'/proc/{pid}/environ', 'rb').read()\n"
    "    except OSError:\n"
    "        return False\n"
)
cases["env_secret"] = (reader + cases["env_secret"][0], cases["env_secret"][1])
out = {}
for network in ("auto", "seccomp"):
    limits = Limits(wall_s=2, cpu_s=1, memory_bytes=512 * 1024**2, nprocs=16)
    with Sandbox(workers=1, limits=limits, network=network) as box:
        res = {"isolation": box.isolation.to_dict(), "uid": os.getuid()}
        pids = box.worker_pids()
        for name, (program, tests) in cases.items():
            r = box.run(program, tests)
            res[name] = [r.verdict, r.message]
        res["worker_survived"] = box.worker_pids() == pids
        out[network] = res
print(json.dumps(out))
"""


def _become_nobody(staging: str) -> None:  # pragma: no cover - runs between fork and exec
    _confine.unshare(_confine.CLONE_NEWNS)
    _confine.mount(None, "/", None, _confine.MS_REC | _confine.MS_PRIVATE)
    _expose(interpreter_dirs(), staging)
    drop_privileges(NOBODY, NOBODY)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="setting up a nobody process needs root")
def test_unprivileged_sandbox_blocks_hostile_programs():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    staging = tempfile.mkdtemp(prefix="tripwire-stage-")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(listener.getsockname()[1])],
            capture_output=True,
            text=True,
            timeout=240,
            cwd="/",
            env={"PATH": os.environ["PATH"], "TMPDIR": "/tmp", "SECRET_TOKEN": SECRET},
            preexec_fn=lambda: _become_nobody(staging),
        )
    finally:
        listener.close()
        os.rmdir(staging)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["auto"]["isolation"]["network"] == "netns"  # via a user namespace
    assert out["seccomp"]["isolation"]["network"] == "seccomp"
    assert not os.path.exists("/tmp/tripwire-unprivileged-escape")
    for network, res in out.items():
        assert res["uid"] == NOBODY
        assert res["ok"][0] == "passed", (network, res)
        assert res["fork_bomb"][0] == "failed" and "BlockingIOError" in res["fork_bomb"][1]
        assert res["loop"][0] == "timeout", (network, res)
        assert res["alloc_16gb"][0] == "failed" and "MemoryError" in res["alloc_16gb"][1]
        assert res["sys_exit"][0] == "failed"
        assert res["socket"][0] == "failed", (network, res)
        assert res["kill_worker"][0] == "failed" and res["worker_survived"], (network, res)
        assert res["write_tmp"][0] == "failed" and "Permission" in res["write_tmp"][1]
        assert res["env_secret"][0] == "passed", (network, res)
