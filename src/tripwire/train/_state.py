"""Periodic training checkpoints, so a crashed fine-tune resumes where it stopped.

The state lives beside the output (``OUT.train-state/``): one ``step-NNNNNN`` folder per save,
each written atomically (a folder that exists is complete), holding the trainable weights, the
optimizer state and the loss history. ``run.json`` names the run (config, base and data) the
state belongs to; state from any other run is never resumed. Batches and dropout are seeded per
step, so no random state needs saving.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from tripwire.artifacts import atomic_path, write_json_atomic
from tripwire.train._regularizers import trainable

RUN_FILE = "run.json"
KEEP = 2  # the newest saves kept; older ones are deleted once a newer one is complete


def state_dir_for(out: Path) -> Path:
    return out.parent / f"{out.name}.train-state"


class TrainState:
    """The saved state of one run."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.root = root
        self.run_id = run_id

    def matches(self) -> bool:
        try:
            return json.loads((self.root / RUN_FILE).read_text())["run_id"] == self.run_id
        except (OSError, KeyError, json.JSONDecodeError):
            return False

    def reset(self) -> None:
        """Forget any earlier state and claim the folder for this run."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        write_json_atomic(self.root / RUN_FILE, {"run_id": self.run_id})

    def steps(self) -> list[Path]:
        return sorted(self.root.glob("step-[0-9]*"))

    def latest(self) -> Path | None:
        saved = self.steps() if self.matches() else []
        return saved[-1] if saved else None

    def save(
        self,
        step: int,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        history: dict[str, Any],
    ) -> None:
        with atomic_path(self.root / f"step-{step:06d}") as tmp:
            tmp.mkdir()
            weights = {n: p.detach().cpu().contiguous() for n, p in trainable(model).items()}
            save_file(weights, str(tmp / "trainable.safetensors"))
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
            (tmp / "history.json").write_text(json.dumps({"step": step, **history}))
        for old in self.steps()[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)

    def load(
        self, saved: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer
    ) -> tuple[int, dict[str, Any]]:
        """Restore weights and optimizer from ``saved``; returns (step, history)."""
        weights = load_file(str(saved / "trainable.safetensors"))
        params = trainable(model)
        if weights.keys() != params.keys():
            raise RuntimeError(f"{saved}: saved weights do not match the model's parameters")
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(weights[n])
        optimizer.load_state_dict(
            torch.load(saved / "optimizer.pt", map_location="cpu", weights_only=True)
        )
        history = json.loads((saved / "history.json").read_text())
        return int(history.pop("step")), history

    def save_tensors(self, name: str, tensors: dict[str, torch.Tensor]) -> None:
        """Run-level tensors worth not recomputing on resume (the EWC Fisher)."""
        with atomic_path(self.root / f"{name}.safetensors") as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))

    def load_tensors(self, name: str) -> dict[str, torch.Tensor] | None:
        path = self.root / f"{name}.safetensors"
        return load_file(str(path)) if self.matches() and path.is_file() else None

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
