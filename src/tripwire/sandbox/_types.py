"""What a sandboxed run is allowed (Limits) and what it produced (ExecResult)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tripwire.errors import BadInputError

# A program's execution result: the evidence a comparison's metrics are computed from, not a
# decision (``tripwire.findings`` has those words). Stored as ``verdict`` in results files.
ExecStatus = Literal["passed", "failed", "timeout", "error"]
EXEC_STATUSES: tuple[ExecStatus, ...] = ("passed", "failed", "timeout", "error")

# The harness keeps two descriptors of its own just below the open-files limit, and the
# interpreter needs a handful of its own: fewer than this cannot run a program at all.
MIN_OPEN_FILES = 16


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to every program (and to everything it starts)."""

    wall_s: float = 10.0
    """Wall-clock seconds before the whole process tree is killed (verdict ``timeout``)."""
    cpu_s: float = 10.0
    """CPU seconds before the program is stopped (a CPU timer in the program's process, to the
    millisecond; RLIMIT_CPU of this rounded up plus one second for anything it forks)."""
    memory_bytes: int = 2 * 1024**3
    """Address space (RLIMIT_AS); allocating past it raises MemoryError in the program."""
    nprocs: int = 32
    """Processes and threads the program may have at once (RLIMIT_NPROC)."""
    file_size_bytes: int = 16 * 1024**2
    """Largest file the program may write (RLIMIT_FSIZE)."""
    open_files: int = 64
    """Open file descriptors (RLIMIT_NOFILE)."""
    output_bytes: int = 64 * 1024
    """stdout+stderr bytes kept in ``ExecResult.output``; the rest is read and discarded."""
    disk_bytes: int = 64 * 1024**2
    """Everything the program may write in all (its directory is a tmpfs of this size), where
    the worker has a mount namespace; ``file_size_bytes`` still caps each file."""

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s"):
            if not getattr(self, name) > 0:
                raise BadInputError("limits", f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("memory_bytes", "nprocs", "file_size_bytes", "output_bytes", "disk_bytes"):
            if int(getattr(self, name)) < 1:
                raise BadInputError("limits", f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.open_files < MIN_OPEN_FILES:
            raise BadInputError("limits", f"open_files must be >= {MIN_OPEN_FILES}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class ExecResult:
    """The outcome of running one program with its tests."""

    verdict: ExecStatus
    """``passed`` (the harness saw the run's nonce after every test ran), ``failed`` (an
    exception, a failed assertion, a crash or an early exit), ``timeout`` (wall or CPU limit), or
    ``error`` (the sandbox itself could not run the program; not the program's fault)."""
    message: str
    """One short line: the exception, the limit hit, or how the program ended."""
    wall_s: float
    """Wall-clock seconds from fork to the end of the program."""
    cpu_s: float
    """User + system CPU seconds of the program's main process (and children it waited for),
    not counting an ``Executable``'s compiler (``build_cpu_s``)."""
    peak_rss_bytes: int
    """Peak resident memory of the main process (includes pages shared with the worker)."""
    output: str = ""
    """The first ``Limits.output_bytes`` of stdout+stderr, decoded leniently."""
    output_bytes: int = 0
    """How many bytes the program wrote to stdout+stderr in total."""
    cached: bool = False
    """True when the result came from the result cache instead of a fresh execution."""
    build_cpu_s: float = 0.0
    """An ``Executable``'s compiler's CPU seconds."""
    tampering: tuple[str, ...] = ()
    """Judged runs: what the program attempted to game its tests with (``patch_builtins``,
    ``trace_hook``, ``harness_descriptors``, ``read_outside``, ``non_plain_value``,
    ``native_code``, ``process``, ``network``); runs whose tests share the program's process:
    ``forged_report`` (a pass reported without the run's token). Such a run fails, whatever its
    answers."""

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecResult:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["tampering"] = tuple(known.get("tampering", ()))
        return cls(**known)


@dataclass(frozen=True)
class Isolation:
    """Which protections the workers applied (they depend on the kernel and on privileges)."""

    network: str
    """``netns`` (empty network namespace), ``seccomp`` (socket(2) denied except AF_UNIX) or
    ``none`` (only when asked for)."""
    user: str
    """The user programs run as, e.g. ``uid 64012 (dropped from root)``."""
    filesystem: str
    """How writes outside the program's temp dir are prevented."""
    signals: str
    """How signals to processes outside the program's own tree are prevented."""
    nprocs: str
    """How the process-count limit is enforced."""
    processes: str = "unknown"
    """Whether each program has PID and IPC namespaces of its own (nothing else visible, no
    SysV object outliving it)."""
    reads: str = "unknown"
    """Where programs may read (Landlock): the interpreter and their own directory."""
    disk: str = "unknown"
    """The quota on everything a program writes."""
    sockets: str = "unknown"
    """Which socket families programs may open (seccomp)."""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def protections(self) -> dict[str, str]:
        """What is applied, without which user ids: each pool picks free ones, so two pools
        with the same protections differ in ``user`` only by its numbers."""
        return {k: re.sub(r"\d+", "#", v) for k, v in self.to_dict().items()}


@dataclass(frozen=True)
class Judged:
    """A program whose tests run in a trusted process of their own and call it through
    proxies: ``entry_points`` are the names the tests call, each bound to a proxy that sends
    its arguments to the program as plain data and returns the program's answer decoded into
    plain values. ``setup`` is trusted code run before the tests in their namespace (e.g. a
    HumanEval prompt, whose helper functions some checks call). Nothing the program does to
    its own interpreter can change the verdict, which the judge alone decides."""

    program: str
    tests: str
    entry_points: tuple[str, ...]
    setup: str = ""
    limits: Limits | None = None

    def payload(self, default: Limits) -> dict[str, Any]:
        return {
            "program": self.program,
            "tests": self.tests,
            "entry_points": list(self.entry_points),
            "setup": self.setup,
            "limits": (self.limits or default).to_dict(),
        }


@dataclass(frozen=True)
class Executable:
    """A program in another language: ``files`` (name, text) written into its directory, an
    optional ``build`` command (a compiler, with ``build_cpu_s`` of CPU), then ``run``, the
    command that runs the program with its tests. The tests report to descriptor 3: ``P`` and
    the run's token when every test passed, ``F`` and a message on a wrong answer; anything
    else fails (an exit, a crash, no report, a ``P`` with any other token).

    The token is not in the environment: descriptor 4 is a pipe holding it (then end of file),
    which the program's harness reads once, at start-up, and closes. The tests run in the
    program's process, as in MultiPL-E, so how far the token is out of the completion's reach
    depends on the harness (the multi-language suites: the README's section on them). A program
    written against this protocol (reading descriptor 4 before its harness does) can report a
    pass; the verdict is only as trustworthy as the harness's language lets it be."""

    files: tuple[tuple[str, str], ...]
    run: tuple[str, ...]
    build: tuple[str, ...] = ()
    build_cpu_s: float = 20.0
    limits: Limits | None = None

    def payload(self, default: Limits) -> dict[str, Any]:
        return {
            "files": [list(f) for f in self.files],
            "run": list(self.run),
            "build": list(self.build),
            "build_cpu_s": self.build_cpu_s,
            "limits": (self.limits or default).to_dict(),
        }
