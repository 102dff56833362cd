"""Kernel confinement primitives (Linux), called through libc: namespaces, mounts, seccomp,
Landlock, capabilities. Each function either applies its restriction or raises OSError, so the
worker can report exactly which protections are in force.
"""

from __future__ import annotations

import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
SECCOMP_MODE_FILTER = 2

# Per architecture: (AUDIT_ARCH value, socket syscall number, the keyring calls add_key,
# request_key, keyctl). io_uring_setup (425) is the same on both and is denied because
# io_uring can create sockets without calling socket(2); the keyrings because a uid's keyring
# outlives every process of that uid, a channel from one program to the next.
_ARCHES = {
    "x86_64": (0xC000003E, 41, (248, 249, 250)),
    "aarch64": (0xC00000B7, 198, (217, 218, 219)),
}
_NR_IO_URING_SETUP = 425
_AF_UNIX = 1


def _check(rv: int, what: str) -> int:
    if rv < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return rv


def _ul(v: int) -> ctypes.c_ulong:
    # prctl and syscall are variadic: an int argument would leave the upper register half
    # undefined, and the kernel rejects non-zero unused arguments.
    return ctypes.c_ulong(v)


def prctl(option: int, arg2: int = 0) -> None:
    _check(_libc.prctl(_ul(option), _ul(arg2), _ul(0), _ul(0), _ul(0)), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data or None)]
    _check(_libc.mount(enc[0], enc[1], enc[2], _ul(flags), enc[3]), f"mount {target}")


def enter_user_namespace() -> None:
    """Become capable inside a new user namespace, keeping the same uid/gid outside and in."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def drop_capabilities() -> None:
    """Clear every capability (needed after a user namespace made the worker capable in it)."""
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)  # two {effective, permitted, inheritable} u32 triples, all zero
    _check(_libc.capset(header, data), "capset")


def seccomp_deny_network() -> None:
    """Install a seccomp filter: socket(2) only for AF_UNIX, no io_uring, no keyrings, native
    ABI only.

    Inherited by every child and irremovable, so the worker applies it once to itself.
    """
    arch = os.uname().machine
    if arch not in _ARCHES:
        raise OSError(0, f"seccomp network filter: unsupported architecture {arch}")
    audit_arch, nr_socket, keyring = _ARCHES[arch]
    ld_w_abs, jeq_k, jge_k, ret_k = 0x20, 0x15, 0x35, 0x06
    kill, allow, eacces = 0x80000000, 0x7FFF0000, 0x00050000 | 13
    denied = [(jeq_k, 0, 1, nr) for nr in (_NR_IO_URING_SETUP, *keyring)]
    prog = [
        (ld_w_abs, 0, 0, 4),  # seccomp_data.arch
        (jeq_k, 1, 0, audit_arch),
        (ret_k, 0, 0, kill),  # a foreign ABI (e.g. int 0x80) could bypass the numbers below
        (ld_w_abs, 0, 0, 0),  # seccomp_data.nr
        (jge_k, 0, 1, 0x40000000),  # x32 ABI numbers
        (ret_k, 0, 0, eacces),
        *[ins for jump in denied for ins in (jump, (ret_k, 0, 0, eacces))],
        (jeq_k, 1, 0, nr_socket),
        (ret_k, 0, 0, allow),
        (ld_w_abs, 0, 0, 16),  # args[0] (domain), low 32 bits on little-endian
        (jeq_k, 0, 1, _AF_UNIX),
        (ret_k, 0, 0, allow),
        (ret_k, 0, 0, eacces),
    ]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HxxxxxxP", len(prog), ctypes.addressof(buf))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    _check(
        _libc.prctl(_ul(PR_SET_SECCOMP), _ul(SECCOMP_MODE_FILTER), fprog, _ul(0), _ul(0)),
        "prctl(PR_SET_SECCOMP)",
    )


# --- Landlock -------------------------------------------------------------------------------
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR, _TRUNCATE = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 14
_FS_WRITES_V1 = _WRITE_FILE | sum(1 << b for b in range(4, 13))  # remove/make anything
_FS_READS = _EXECUTE | _READ_FILE | _READ_DIR
_REFER = 1 << 13
_IOCTL_DEV = 1 << 15
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when unavailable."""
    rv = _libc.syscall(_ul(_SYS_LANDLOCK_CREATE_RULESET), None, _ul(0), _ul(1))
    return max(int(rv), 0)


def _handled(abi: int, reads: bool) -> int:
    handled = _FS_WRITES_V1 | (_FS_READS if reads else 0)
    handled |= (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    return handled | (_IOCTL_DEV if abi >= 5 else 0)


def landlock_ruleset(
    writable_dir: str, abi: int, readable: list[str] | None = None
) -> tuple[int, list[str]]:
    """A Landlock ruleset (its fd) that allows writes, deletions and creations only beneath
    ``writable_dir`` (and writing to /dev/null) and, when ``readable`` is given, reads and
    executes only beneath those paths and ``writable_dir``; with ABI >= 6 it also forbids
    signalling processes outside the domain and connecting to abstract unix sockets outside it.
    Built once (opening every allowed path) and applied per process with
    :func:`landlock_restrict`. Returns the fd and the readable paths that exist."""
    handled = _handled(abi, readable is not None)
    scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", handled, 0, scoped) if abi >= 6 else struct.pack("Q", handled)
    ruleset = _check(
        int(_libc.syscall(_ul(_SYS_LANDLOCK_CREATE_RULESET), attr, _ul(len(attr)), _ul(0))),
        "landlock_create_ruleset",
    )
    device = _READ_FILE | _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)
    rules = [(writable_dir, handled), ("/dev/null", handled & device)]
    rules += [(p, handled & (_READ_FILE | _EXECUTE | _READ_DIR)) for p in readable or ()]
    kept = []
    try:
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                if not os.path.isdir(path):
                    access &= ~_READ_DIR  # a rule on a file may not name directory rights
                rule = struct.pack("=Qi", access, fd)  # landlock_path_beneath_attr is packed
                rv = _libc.syscall(_ul(_SYS_LANDLOCK_ADD_RULE), _ul(ruleset), _ul(1), rule, _ul(0))
                _check(int(rv), f"landlock_add_rule {path}")
                kept.append(path)
            finally:
                os.close(fd)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset, kept[2:]


def landlock_restrict(ruleset: int) -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    rv = _libc.syscall(_ul(_SYS_LANDLOCK_RESTRICT_SELF), _ul(ruleset), _ul(0))
    _check(int(rv), "landlock_restrict_self")
