"""MinHash signatures stay usable in workers forked after the parent computed many of them.

rensa runs large batches on a Rust thread pool that fork() does not copy; a worker that then
asks that pool for work waits forever. The check runs in its own interpreter with a deadline,
so a regression fails here instead of hanging the test run."""

from __future__ import annotations

import subprocess
import sys

FORK_AFTER_BATCH = """
import os, signal
import numpy as np
from tripwire.data._minhash import signatures
grams = [np.arange(i, i + 300, dtype=np.uint64) for i in range(3000)]
before = signatures(grams, num_perm=128)
pid = os.fork()
if pid == 0:
    signal.alarm(20)
    same = (signatures(grams, num_perm=128) == before).all()
    os._exit(0 if same else 3)
_, status = os.waitpid(pid, 0)
sys_exit = os.waitstatus_to_exitcode(status)
raise SystemExit(sys_exit)
"""


def test_signatures_work_in_a_child_forked_after_a_large_batch() -> None:
    done = subprocess.run([sys.executable, "-c", FORK_AFTER_BATCH], timeout=120)
    assert done.returncode == 0, "forked child hung (-14: SIGALRM) or got other signatures"
