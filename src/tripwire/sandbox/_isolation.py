"""One-time confinement of a worker process, before it forks any program.

What is applied depends on what the kernel and our privileges allow; the worker reports the
outcome (one line per protection) so runs can record which protections were in force:

- network: ``netns`` (a new, empty network namespace: no interfaces but a down loopback),
  else ``seccomp`` (socket(2) only for AF_UNIX, io_uring denied), else refused (fail closed)
  unless the caller asked for ``none``.
- user: as root, programs run under an unprivileged uid of their own per worker (so RLIMIT_NPROC
  applies, root's files and processes are out of reach); if the interpreter lives under a
  directory that uid cannot enter (e.g. /root/.pyenv), the worker's private mount namespace
  covers that directory with an empty tmpfs and binds back only the interpreter's directories.
- filesystem and signals: Landlock, applied per program (see ``_child``), when the kernel has it.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from . import _confine


class IsolationError(RuntimeError):
    """A protection that was asked for (or that ``auto`` requires) could not be applied."""


class WorkerPlan(NamedTuple):
    """What the parent asks a worker to apply; see ``Sandbox`` for the meaning of each."""

    network: str  # auto | netns | seccomp | none
    privileges: str  # auto | drop | keep
    uid: int
    gid: int
    nprocs: int
    workdir: str
    """Where job directories go; made by the parent (mode 0711) so it can always remove it."""


class Applied(NamedTuple):
    """What a worker actually applied."""

    network: str
    user: str
    drop_uid: int | None
    filesystem: str
    signals: str
    nprocs_limit: str
    landlock_abi: int
    in_userns: bool

    def describe(self) -> dict[str, str]:
        return {
            "network": self.network,
            "user": self.user,
            "filesystem": self.filesystem,
            "signals": self.signals,
            "nprocs": self.nprocs_limit,
        }


def interpreter_dirs() -> list[str]:
    """Directories a program's imports read from (prefixes and existing sys.path dirs)."""
    cands = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
    out = {os.path.realpath(p) for p in cands if p and os.path.isdir(p)}
    # keep only outermost directories: binding a parent already exposes its children
    return sorted(p for p in out if not any(p != q and p.startswith(q + os.sep) for q in out))


def _blocked_ancestor(path: str) -> str | None:
    """The topmost ancestor of ``path`` that other users cannot traverse, if any."""
    parts = path.strip(os.sep).split(os.sep)
    for i in range(len(parts)):
        anc = os.sep + os.sep.join(parts[:i])
        if not os.stat(anc).st_mode & 0o001:
            return anc
    return None


def _expose(paths: list[str], staging: str) -> None:
    """In this (private) mount namespace, make ``paths`` reachable by any uid."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        anc = _blocked_ancestor(p)
        if anc is not None:
            groups.setdefault(anc, []).append(p)
    for blocked, inner in groups.items():
        staged = []
        for p in inner:
            stage = os.path.join(staging, f"stage{len(os.listdir(staging))}")
            os.mkdir(stage, 0o700)
            _confine.mount(p, stage, None, _confine.MS_BIND | _confine.MS_REC)
            staged.append((p, stage))
        # hides everything else under `blocked` (e.g. the rest of /root) from programs, too
        _confine.mount("tmpfs", blocked, "tmpfs", 0, "mode=755,size=64k")
        for p, stage in staged:
            os.makedirs(p, mode=0o755, exist_ok=True)
            _confine.mount(stage, p, None, _confine.MS_MOVE)
            os.rmdir(stage)


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def _probe_dropped(uid: int, gid: int, paths: list[str], workdir: str) -> str | None:
    """Fork a child that drops to ``uid``, lists ``paths`` and reaches ``workdir``; None if it
    could, else why not."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the probe child
        os.close(r)
        try:
            drop_privileges(uid, gid)
            for p in paths:
                os.listdir(p)
            os.stat(workdir)
            os._exit(0)
        except BaseException as exc:
            os.write(w, str(exc).encode()[:500])
            os._exit(1)
    os.close(w)
    msg = b""
    while chunk := os.read(r, 4096):
        msg += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return None if status == 0 else msg.decode(errors="replace") or f"status {status}"


def _apply_network(mode: str) -> str:
    if mode in ("auto", "netns"):
        try:
            _confine.unshare(_confine.CLONE_NEWNET)
            return "netns"
        except OSError as exc:
            if mode == "netns":
                raise IsolationError(f"network namespace unavailable ({exc})") from exc
    if mode in ("auto", "seccomp"):
        try:
            _confine.seccomp_deny_network()
            return "seccomp"
        except OSError as exc:
            raise IsolationError(
                f"cannot block the network: no network namespace and no seccomp ({exc}); "
                "pass network='none' to run programs with network access"
            ) from exc
    return "none"


def isolate_worker(plan: WorkerPlan, workdir: str) -> Applied:
    """Confine the calling worker process (once, before forking programs)."""
    root = os.geteuid() == 0
    drop = plan.privileges == "drop" or (plan.privileges == "auto" and root)
    if drop and not root:
        raise IsolationError("privileges='drop' needs root; unprivileged workers keep their uid")
    in_userns = False
    if root:
        try:
            _confine.unshare(_confine.CLONE_NEWNS)
            _confine.mount(None, "/", None, _confine.MS_REC | _confine.MS_PRIVATE)
            mountns = True
        except OSError:
            mountns = False
    elif plan.network in ("auto", "netns"):
        try:
            _confine.enter_user_namespace()
            in_userns = True
        except OSError:
            pass
    user = f"unprivileged uid {os.getuid()}"
    if drop:
        paths = interpreter_dirs()
        if mountns:
            _expose([*paths, workdir], workdir)
        why = _probe_dropped(plan.uid, plan.gid, paths, workdir)
        if why:
            raise IsolationError(
                f"cannot run programs as uid {plan.uid}: {why}; pass privileges='keep' to run "
                "them as root (no process-count limit, root's files writable)"
            )
        user = f"uid {plan.uid} (dropped from root)"
    elif root:
        user = "root (kept)"
    network = _apply_network(plan.network)
    abi = _confine.landlock_abi()
    _confine.prctl(_confine.PR_SET_CHILD_SUBREAPER, 1)
    if drop:
        nprocs = f"{plan.nprocs} per program (own uid)"
    elif root:
        nprocs = "not enforced (root is exempt from RLIMIT_NPROC)"
    elif in_userns:
        nprocs = f"{plan.nprocs} per program (own user namespace)"
    else:
        nprocs = f"{plan.nprocs} more than the user's tasks at program start"
    return Applied(
        network=network,
        user=user,
        drop_uid=plan.uid if drop else None,
        filesystem=f"landlock v{abi}: writes only in its temp dir"
        if abi
        else ("uid: root-owned files read-only" if drop else "none"),
        signals="landlock scope: own processes only"
        if abi >= 6
        else ("uid: own processes only" if drop else "none"),
        nprocs_limit=nprocs,
        landlock_abi=abi,
        in_userns=in_userns,
    )
