"""`tripwire train finetune` under real launchers (torchrun, accelerate launch), two gloo
processes on the CPU, against one process with the same global batch.

Tolerances (float32; summation order differs between one process and two ranks):
- per-step task loss, penalty (EWC's depends on the Fisher of all ranks' windows; LwF's on each
  rank's teacher outputs) and gradient norm: relative 1e-5;
- the tuned model's logits: absolute 1e-4 (weights are not compared one by one: Adam turns the
  rounding noise of a weight whose gradient is ~0, such as GPT-2's key bias, into a step of up
  to the learning rate);
- held-out bits per byte in the forgetting report: absolute 1e-5.

Which files each rank wrote is recorded by an audit hook (``sitecustomize`` on PYTHONPATH):
only rank 0 may write under the run's folder, its tripwire home or the model cache.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tripwire.artifacts import Manifest, Registry
from tripwire.cli import main
from tripwire.train import launched, reference_language_data
from tripwire.train._distributed import Distributed, Launch
from tripwire.train._model import load_tuned

CACHE = Path(__file__).resolve().parents[2] / ".tripwire-cache"

COMMON = ["--batch-size", "4", "--context", "32", "--warmup-steps", "1", "--allow-unaudited"]
EWC = ["--lr", "1e-3", "--steps", "4", "--regularizer", "ewc", "--fisher-samples", "4",
       "--checkpoint-every", "2", "--eval-chunks", "4"]  # fmt: skip
LORA_LWF = ["--lr", "1e-2", "--steps", "3", "--method", "lora", "--lora-r", "4",
            "--regularizer", "lwf", "--no-eval"]  # fmt: skip

AUDIT = """
import os, sys
_log, _roots = os.environ.get("TW_WRITE_LOG"), os.environ.get("TW_WRITE_ROOTS")
if _log and _roots:
    _roots = [os.path.realpath(r) for r in _roots.split(os.pathsep)]
    _mine = _log + "." + os.environ.get("RANK", "launcher")
    _events = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree",
               "sqlite3.connect", "os.truncate", "os.symlink"}
    _flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def _hook(event, args):
        if event == "open":
            path, mode, flags = args
            if not ((mode and any(c in mode for c in "wax+")) or (flags or 0) & _flags):
                return
        elif event not in _events:
            return
        paths = args[:2] if event in ("os.rename", "os.symlink") else args[:1]
        for path in paths:
            if not isinstance(path, (str, bytes, os.PathLike)):
                continue
            path = os.path.realpath(os.fsdecode(path))
            if any(path == r or path.startswith(r + os.sep) for r in _roots):
                with open(_mine, "a") as f:
                    f.write(event + " " + path + "\\n")

    sys.addaudithook(_hook)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bench(tiny_reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the fine-tune data and the write-audit ``sitecustomize``."""
    root = tmp_path_factory.mktemp("ddp")
    reference_language_data(tiny_reference, "python", root / "python.jsonl", limit=6)
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(AUDIT)
    return root


def _launch(launcher: list[str], argv: list[str], run: Path, bench: Path) -> list[str]:
    """Run ``tripwire`` under ``launcher``; returns the paths rank 1 wrote (must be none)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(bench / "site"), os.environ.get("PYTHONPATH", "")]),
        "TRIPWIRE_HOME": str(run / "home"),
        "TW_WRITE_LOG": str(bench / f"{run.name}.writes"),
        "TW_WRITE_ROOTS": os.pathsep.join([str(run), str(CACHE)]),
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [*launcher, "-m", "tripwire", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rank0 = bench / f"{run.name}.writes.0"
    # the audit sees writes: rank 0's move of the finished checkpoint into place
    assert rank0.is_file() and f"os.rename {run / 'tuned'}\n" in rank0.read_text()
    rank1 = bench / f"{run.name}.writes.1"
    return rank1.read_text().splitlines() if rank1.is_file() else []


def _finetune(base: Path, bench: Path, run: Path, args: list[str]) -> list[str]:
    run.mkdir()
    data, out, report = bench / "python.jsonl", run / "tuned", run / "report.json"
    return ["train", "finetune", str(base), "--data", str(data), "--out", str(out),
            "--json", str(report), *COMMON, *args]  # fmt: skip


def _history(run: Path) -> dict[str, list[float]]:
    return json.loads((run / "tuned" / "train_history.json").read_text())


def _assert_same_run(one: Path, two: Path) -> None:
    a, b = _history(one), _history(two)
    # the LwF penalty is a KL of nearly equal float32 distributions, summed over batches split
    # differently across ranks: its rounding reaches 2e-5 of its value (accelerate 1.16, torch
    # 2.13); ranks combining it wrongly would be off by a factor, not in the fifth digit
    for key, rel in (("task_loss", 1e-5), ("penalty", 1e-4), ("grad_norm", 1e-5)):
        assert len(a[key]) == len(b[key])
        assert b[key] == pytest.approx(a[key], rel=rel, abs=1e-9), key
    ids = torch.tensor([[5, 17, 301, 42, 7, 99, 3, 250]])
    with torch.no_grad():
        la = load_tuned(one / "tuned", "cpu")(input_ids=ids).logits
        lb = load_tuned(two / "tuned", "cpu")(input_ids=ids).logits
    torch.testing.assert_close(lb, la, rtol=0, atol=1e-4)
    notes = Manifest.read(two / "tuned").notes["train"]
    assert notes["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert json.loads((two / "report.json").read_text())["model"]["world_size"] == 2
    assert not (two / "tuned.train-state").exists()  # rank 0 discarded it


@pytest.mark.slow
def test_torchrun_full_finetune_with_ewc_equals_one_process(
    tiny_reference: Path, bench: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = bench / "ewc-one", bench / "ewc-two"
    assert main(_finetune(tiny_reference, bench, one, EWC)) == 0
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", "2"]  # fmt: skip
    rank1_wrote = _launch(torchrun, _finetune(tiny_reference, bench, two, EWC), two, bench)
    assert rank1_wrote == []
    _assert_same_run(one, two)
    # EWC's penalty is only equal if the Fisher is the mean over all ranks' windows
    assert _history(two)["penalty"][-1] > 0
    # the forgetting report (rank 0's) is the one-process report
    ra = json.loads((one / "report.json").read_text())["retention"]
    rb = json.loads((two / "report.json").read_text())["retention"]
    assert [r["slice"] for r in ra] == [r["slice"] for r in rb] and len(ra) == 5
    for x, y in zip(ra, rb, strict=True):
        assert y["candidate"] == pytest.approx(x["candidate"], abs=1e-5)
        assert y["baseline"] == x["baseline"]
    # rank 0 registered the model
    monkeypatch.setenv("TRIPWIRE_HOME", str(two / "home"))
    manifest = Manifest.read(two / "tuned")
    assert Registry().get(manifest.id).path == str(two / "tuned")


@pytest.mark.slow
def test_accelerate_launch_lora_with_lwf_equals_one_process(
    tiny_reference: Path, bench: Path
) -> None:
    pytest.importorskip("accelerate", reason="accelerate is the optional extra 'smollm2'")
    one, two = bench / "lora-one", bench / "lora-two"
    assert main(_finetune(tiny_reference, bench, one, LORA_LWF)) == 0
    # --multi_gpu is accelerate's torchrun-based launcher; on a machine without GPUs its ranks
    # train on the CPU over gloo (accelerate's own --cpu multi-process mode needs MPI)
    accelerate = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                  "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
                  "--dynamo_backend", "no", "--main_process_port", str(_free_port())]  # fmt: skip
    rank1_wrote = _launch(accelerate, _finetune(tiny_reference, bench, two, LORA_LWF), two, bench)
    assert rank1_wrote == []
    _assert_same_run(one, two)
    assert _history(two)["penalty"][-1] > 0  # LwF's KL, from each rank's own rows


def test_launch_is_read_from_the_launchers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert launched() == Launch(0, 1, 0) and launched().is_main
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert launched() == Launch(3, 4, 1) and not launched().is_main
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(Exception, match="RANK: 4 is not a rank of WORLD_SIZE 4"):
        launched()


@pytest.mark.parametrize(("rows", "world"), [(4, 2), (5, 2), (7, 3), (3, 3)])
def test_shards_cover_the_batch_once(rows: int, world: int) -> None:
    shards = [Distributed(Launch(r, world, r), "gloo").shard(rows) for r in range(world)]
    covered = [i for s in shards for i in range(rows)[s]]
    assert covered == list(range(rows))
    assert max(len(range(rows)[s]) for s in shards) - min(len(range(rows)[s]) for s in shards) <= 1


def test_collectives_and_rank0_failures_on_a_real_gloo_group(tmp_path: Path) -> None:
    """What ``finetune`` relies on between ranks: sums, one rank's result or error on every
    rank (rank 0 failing to write fails them all, a bad input keeps its one-line message), and
    state that differs between ranks refused."""
    import torch.multiprocessing as mp

    from tests.train._gloo_worker import rank_main

    mp.spawn(rank_main, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert report["backend"] == "gloo"
        assert report["sums"] == [[3.0] * 2, [3.0] * 2, [3.0] * 7, [3.0]]
        assert report["ok"] == "ok 'from rank 0'"
        assert report["bad_input"] == "BadInputError data.jsonl: unreadable"
        crash = "ValueError disk full"
        expected = crash if rank == 0 else "RuntimeError rank 0 failed: ValueError: disk full"
        assert report["crash"] == expected
        assert report["same"] == "ok 3"
        assert report["differ"].startswith("RuntimeError ranks disagree on the rank ([0, 1])")
