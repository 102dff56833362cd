"""Forged passes (issue #16): every completion in ``hostile_completions.py`` goes through the real
CLI, all of them in one ``tripwire eval run samples:FILE`` (one sandbox start), followed by a few
honest ones. Each hostile completion must fail; the honest ones after them must still be judged
right; nothing the programs started or allocated may outlive the run; and no secret the run's
machine holds may reach a result.

The run holds three secrets: ``$TRIPWIRE_MONITOR_WRITE_TOKEN`` in the CLI's environment, a
stand-in monitor process with ``--write-token SECRET`` in its command line, and a token file in
the (world-readable) ``$TRIPWIRE_CACHE``. While the CLI runs, a poller records every process in
its tree (and their uids), so leftovers are found by what this run started, not by guessing.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.hostile_completions import (
    BUILTINS,
    CLASSES,
    DESCRIPTORS,
    HOSTILE,
    NON_PLAIN,
    READ_OUTSIDE,
    SECRET_ARGV_FLAG,
    SECRET_ENV,
    SECRET_FILE,
    TRACE,
    WITNESS_MARKER,
    Hostile,
)
from tests.support.cli import TRIPWIRE
from tripwire.evals import HumanEval

# Issue #16: a program that returns a non-plain value, patches builtins, installs a trace hook,
# touches the harness's descriptors or reads outside its directory fails with `tampering` in its
# message. Cases whose `tampering` is one of these are asserted to say so
# (test_tampering_is_named); the rest need only fail.
NAMED_CLASSES = frozenset({NON_PLAIN, BUILTINS, TRACE, DESCRIPTORS, READ_OUTSIDE})

# Honest samples after the hostile batch, in the same sandbox: still judged right.
HEALTH_TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/53")
WRONG_CONTROL = ("HumanEval/0", "    return len(numbers) > 1000\n")
TIMEOUT_S = "3"  # per program; the self-test's references need far less, even on a busy machine
SANDBOX_UIDS = range(60000, 65000)  # where the sandbox picks uids when run as root
ROOT = os.geteuid() == 0
IPC_RMID = 0


@dataclass
class Run:
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    report: dict[str, Any]
    results: dict[tuple[str, int], dict[str, Any]]
    texts: dict[str, str]
    """Everything the run wrote for people and machines: the CLI's output and every file in the
    run directory, by name."""
    secrets: dict[str, str]
    keys: dict[str, tuple[str, int]]
    """Hostile case name or `health:TASK`/`control` -> (task_id, sample_idx)."""
    witness_alive: bool
    leftovers: dict[str, list[Any]]


# --- what the machine holds, before and after -------------------------------------------------


def _ppid_and_uid(pid: int) -> tuple[int, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return int(stat.rsplit(b")", 1)[1].split()[1]), uid


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, uid) of every process now."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _ppid_and_uid(int(entry))) is not None:
            out[int(entry)] = info
    return out


def _descendants(root: int, procs: dict[int, tuple[int, int]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, frontier = set(), [root]
    while frontier:
        kids = children.get(frontier.pop(), [])
        out.update(kids)
        frontier += kids
    return out


def _sysv() -> set[tuple[str, int, int]]:
    """(kind, id, creator uid) of every SysV shared-memory segment, queue and semaphore set."""
    out = set()
    for kind, id_col in (("shm", "shmid"), ("msg", "msqid"), ("sem", "semid")):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split(), strict=False))
            out.add((kind, int(row[id_col]), int(row["cuid"])))
    return out


def _key_counts() -> dict[int, int]:
    """uid -> how many keys it owns (/proc/key-users)."""
    out = {}
    try:
        for line in Path("/proc/key-users").read_text().splitlines():
            uid, rest = line.split(":", 1)
            out[int(uid)] = int(rest.split()[1].split("/")[0])
    except OSError:
        pass
    return out


def _shared_files() -> set[tuple[str, int]]:
    """(path, owner uid) of everything directly in the machine-wide writable directories."""
    out = set()
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            with contextlib.suppress(OSError):
                out.add((os.path.join(d, name), os.lstat(os.path.join(d, name)).st_uid))
    return out


def _snapshot() -> dict[str, Any]:
    return {"sysv": _sysv(), "keys": _key_counts(), "files": _shared_files()}


# --- cleaning up what a run left (after recording it) ------------------------------------------


def _remove_sysv(objects: list[tuple[str, int, int]]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident, _ in objects:
        if kind == "shm":
            libc.shmctl(ident, IPC_RMID, None)
        elif kind == "msg":
            libc.msgctl(ident, IPC_RMID, None)
        else:
            libc.semctl(ident, 0, IPC_RMID)


def _invalidate_stashed_keys(uid: int) -> None:
    """Invalidate the keys the keyring case stashes (by description, never the whole keyring:
    unprivileged, that uid is the developer's own)."""
    nr_keyctl = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
    if nr_keyctl is None or (uid != os.getuid() and not ROOT):
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child that becomes the key's owner
        try:
            if uid != os.getuid():
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            keyctl_search, keyctl_invalidate, user_keyring = 10, 21, -4
            for _ in range(100):
                serial = libc.syscall(ctypes.c_long(nr_keyctl), ctypes.c_long(keyctl_search),
                                      ctypes.c_long(user_keyring), b"user", b"tripwire-stash",
                                      ctypes.c_long(0))  # fmt: skip
                if serial < 0:
                    break
                libc.syscall(ctypes.c_long(nr_keyctl), ctypes.c_long(keyctl_invalidate),
                             ctypes.c_long(serial))  # fmt: skip
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _clean(leftovers: dict[str, list[Any]]) -> None:
    for pid, _uid in leftovers["processes"]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # started by this run's programs
    _remove_sysv(leftovers["sysv"])
    for path, _uid in leftovers["files"]:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
    for uid, _before, _after in leftovers["keys"]:
        _invalidate_stashed_keys(uid)


# --- the run -----------------------------------------------------------------------------------


def _samples(humaneval: HumanEval) -> tuple[list[tuple[str, str]], dict[str, tuple[str, int]]]:
    rows: list[tuple[str, str]] = []
    keys: dict[str, tuple[str, int]] = {}
    per_task: dict[str, int] = {}

    def add(key: str, task_id: str, completion: str) -> None:
        keys[key] = (task_id, per_task.get(task_id, 0))
        per_task[task_id] = keys[key][1] + 1
        rows.append((task_id, completion))

    for case in HOSTILE:
        add(case.name, case.task_id, case.completion)
    for task_id in HEALTH_TASKS:  # after the hostile batch: the harness must still be right
        add(f"health:{task_id}", task_id, humaneval.problems[task_id]["canonical_solution"])
    add("control", *WRONG_CONTROL)
    return rows, keys


def _plant_cache(token: str) -> Path:
    """A world-readable $TRIPWIRE_CACHE under /tmp holding a token file, the way a shared
    machine's cache often is: only the sandbox's read limits keep programs out of it."""
    cache = Path(tempfile.mkdtemp(prefix="tripwire-forgery-cache-"))
    cache.chmod(0o755)
    (cache / SECRET_FILE).write_text(token + "\n")
    (cache / SECRET_FILE).chmod(0o644)
    return cache


def _run_cli(args: list[str], env: dict[str, str], work: Path) -> tuple[int, float, dict[int, int]]:
    """Run the console script; returns its exit code, its seconds, and pid -> uid of every
    process seen in its tree while it ran (polled every 20 ms)."""
    seen: dict[int, int] = {}
    start = time.monotonic()
    with open(work / "stdout", "w") as so, open(work / "stderr", "w") as se:
        cli = subprocess.Popen([TRIPWIRE, *args], stdout=so, stderr=se, env=env)
        while cli.poll() is None:
            procs = _processes()
            tree = _descendants(cli.pid, procs)
            seen.update({p: procs[p][1] for p in tree if p in procs})
            if time.monotonic() - start > 600:  # stuck: end the whole tree, the test fails
                for pid in (cli.pid, *tree):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
    return cli.returncode, time.monotonic() - start, seen


def _leftovers(before: dict[str, Any], seen: dict[int, int], spare: int) -> dict[str, list[Any]]:
    """What outlived the run: processes of its tree or of its programs' uids (but ``spare``),
    and new SysV objects, shared files and keys owned by the sandbox's uids."""
    after, procs = _snapshot(), _processes()
    # the uids the programs ran as; unprivileged, they are ours, and the tree alone tells
    uids = {u for u in seen.values() if u != os.getuid()}
    owners = uids | set(SANDBOX_UIDS) if ROOT else uids | {os.getuid()}
    return {
        "processes": sorted(
            (pid, uid) for pid, (_, uid) in procs.items()
            if (pid in seen or uid in uids) and pid != spare
        ),
        "sysv": sorted(o for o in after["sysv"] - before["sysv"] if o[2] in owners),
        "files": sorted(f for f in after["files"] - before["files"] if f[1] in owners),
        "keys": sorted(
            (uid, before["keys"].get(uid, 0), n) for uid, n in after["keys"].items()
            if uid in owners and n > before["keys"].get(uid, 0)
        ),
    }  # fmt: skip


def _texts(work: Path, out: Path, report: Path) -> dict[str, str]:
    texts = {"stdout": (work / "stdout").read_text(), "stderr": (work / "stderr").read_text()}
    if report.exists():
        texts["--json"] = report.read_text()
    for path in sorted(out.rglob("*")) if out.exists() else []:
        if path.is_file():
            texts[str(path.relative_to(out))] = path.read_text(errors="replace")
    return texts


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("forgery")
    tokens = {name: f"tw-{name}-{secrets.token_hex(12)}" for name in ("env", "argv", "file")}
    cache = _plant_cache(tokens["file"])
    rows, keys = _samples(HumanEval())
    samples = work / "hostile.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in rows))
    out, report = work / "run", work / "run.json"
    env = {**os.environ, SECRET_ENV: tokens["env"], "TRIPWIRE_CACHE": str(cache),
           "TRIPWIRE_HOME": str(work / "home")}  # fmt: skip
    env.pop("TRIPWIRE_REGISTRY", None)
    witness = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                                WITNESS_MARKER, SECRET_ARGV_FLAG, tokens["argv"]])  # fmt: skip
    try:
        before = _snapshot()
        returncode, seconds, seen = _run_cli(
            ["eval", "run", f"samples:{samples}", "--suite", "humaneval", "--workers", "2",
             "--timeout", TIMEOUT_S, "--k", "1", "--out", str(out), "--json", str(report)],
            env, work,
        )  # fmt: skip
        witness_alive = witness.poll() is None
        leftovers = _leftovers(before, seen, witness.pid)
        _clean(leftovers)  # recorded first: the tests below report them
        texts = _texts(work, out, report)
        results = {}
        for line in texts.get("results.jsonl", "").splitlines():
            record = json.loads(line)
            results[(record["task_id"], record["sample_idx"])] = record
        yield Run(
            returncode=returncode,
            seconds=seconds,
            stdout=texts["stdout"],
            stderr=texts["stderr"],
            report=json.loads(texts["--json"]) if "--json" in texts else {},
            results=results,
            texts=texts,
            secrets=tokens,
            keys=keys,
            witness_alive=witness_alive,
            leftovers=leftovers,
        )
    finally:
        witness.kill()
        witness.wait()
        shutil.rmtree(cache, ignore_errors=True)


def _result(run: Run, key: str) -> dict[str, Any]:
    where = run.keys[key]
    assert where in run.results, f"no result for {key} ({where}); stderr: {run.stderr[-2000:]}"
    return run.results[where]


# --- the hostile set itself --------------------------------------------------------------------


def test_the_hostile_set_is_large_varied_and_well_formed():
    humaneval = HumanEval()
    names = [c.name for c in HOSTILE]
    assert len(HOSTILE) >= 45
    assert len(set(names)) == len(names), "case names must be unique"
    assert {c.attack for c in HOSTILE} == set(CLASSES), "every attack class has cases"
    assert {c.tampering for c in HOSTILE} <= NAMED_CLASSES | {None}
    assert len({c.completion for c in HOSTILE}) == len(HOSTILE), "duplicates would run once"
    for case in HOSTILE:
        # a case that fails on a syntax error proves nothing about the sandbox
        compile(humaneval.problems[case.task_id]["prompt"] + case.completion, case.name, "exec")


# --- the run -----------------------------------------------------------------------------------


def test_the_run_completes_with_every_sample_scored(run):
    assert run.returncode in (0, 1), run.stderr[-3000:]
    assert run.report["run"]["samples"] == len(run.keys), run.report
    references = run.report["run"]["references"]
    assert references["passed"] == references["total"] == 164, references
    assert len(run.results) == len(run.keys)


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: f"{c.attack}:{c.name}")
def test_no_hostile_completion_passes(run, case: Hostile):
    r = _result(run, case.name)
    # not `error` either: that verdict says the sandbox failed, and is not held against the model
    assert r["verdict"] in ("failed", "timeout"), f"{case.attack}: {r['verdict']}: {r['message']}"


@pytest.mark.parametrize(
    "case", [c for c in HOSTILE if c.tampering in NAMED_CLASSES], ids=lambda c: c.name
)
def test_tampering_is_named(run, case: Hostile):
    """NAMED_CLASSES: issue #16's attempts must be named `tampering` in the failure message."""
    r = _result(run, case.name)
    assert "tampering" in r["message"], f"{case.tampering}: {r['verdict']}: {r['message']}"


def test_the_harness_stays_healthy(run):
    for task_id in HEALTH_TASKS:
        r = _result(run, f"health:{task_id}")
        assert r["verdict"] == "passed", (task_id, r)
    r = _result(run, "control")
    assert r["verdict"] == "failed" and "tampering" not in r["message"], r


def test_nothing_is_left_running(run):
    assert run.leftovers["processes"] == [], "(pid, uid) alive after the run"


def test_nothing_is_left_allocated(run):
    assert run.leftovers["sysv"] == [], "SysV (kind, id, creator uid) left after the run"
    assert run.leftovers["files"] == [], "files left in /tmp, /var/tmp or /dev/shm"
    assert run.leftovers["keys"] == [], "(uid, keys before, keys after): keyrings left behind"


def test_no_secret_reaches_any_result(run):
    leaks = [
        (name, secret_name)
        for name, text in run.texts.items()
        for secret_name, secret in run.secrets.items()
        if secret in text
    ]
    where = {
        key: run.results[k]["message"]
        for key, k in run.keys.items()
        if k in run.results and any(s in json.dumps(run.results[k]) for s in run.secrets.values())
    }
    assert not leaks, f"secrets in {leaks}; from {where}"


def test_other_processes_are_left_alone(run):
    assert run.witness_alive, "a program killed the stand-in monitor"
