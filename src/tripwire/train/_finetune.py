"""``finetune()``: guards, data, model, regularizer, loop, then an atomic checkpoint with a
manifest (parents: the base model, the data and the replay data) recorded in the registry."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tripwire.artifacts import (
    MANIFEST_NAME,
    ArtifactKind,
    Checkpoint,
    Manifest,
    Registry,
    TrainingRecord,
    atomic_path,
    cannot_write,
    ensure_manifest,
    manifest_path,
    sha256_json,
)
from tripwire.compute import MemoryBudget, current_budget
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.reference import CORPUS_DIR, corpus_of
from tripwire.train._batches import PackedStream, step_generator
from tripwire.train._config import TrainConfig
from tripwire.train._data import TrainRecord, read_records
from tripwire.train._distributed import Distributed, distributed, launched, rank_device
from tripwire.train._formats import to_examples
from tripwire.train._guards import check_audit, check_tokenizer, tokenizer_sha256
from tripwire.train._loop import LoopResult, train_loop
from tripwire.train._memory import plan_memory
from tripwire.train._model import (
    enable_checkpointing,
    frozen_teacher,
    load_for_training,
    model_context,
    pick_device,
    save_tuned,
)
from tripwire.train._regularizers import (
    EWC,
    FISHER_ESTIMATOR,
    L2SP,
    LwF,
    Regularizer,
    estimate_fisher,
)
from tripwire.train._state import TrainState, state_dir_for
from tripwire.train._target import TargetSplit, split_target

HISTORY_FILE = "train_history.json"


@dataclass(frozen=True)
class DataSummary:
    """What one training input held."""

    path: str
    id: str
    records: int
    kinds: dict[str, int]
    languages: dict[str, int]
    trained_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FinetuneResult:
    path: Path
    manifest: Manifest
    config: TrainConfig
    base: Path
    data: DataSummary
    replay: DataSummary | None
    loop: LoopResult
    seconds: float
    notices: list[str] = field(default_factory=list)
    target_split: TargetSplit | None = None
    """The fine-tuning records held out to measure the target gain on (see ``_target``)."""
    context: int = 0
    """The context the model was trained (and its targets are scored) at."""
    world_size: int = 1
    """Processes the run was launched as (``torchrun``, ``accelerate launch``)."""
    is_main: bool = True
    """Whether this process is rank 0, the one that wrote the outputs and reports."""

    @property
    def target_languages(self) -> list[str]:
        """Languages the fine-tune data declares (the ones it is meant to improve)."""
        return sorted(self.data.languages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "id": self.manifest.id,
            "parents": list(self.manifest.parents),
            "base": str(self.base),
            "config": self.config.to_dict(),
            "data": self.data.to_dict(),
            "replay": self.replay.to_dict() if self.replay else None,
            "target_languages": self.target_languages,
            "resumed_from": self.loop.resumed_from,
            "first_task_loss": self.loop.task_loss[0] if self.loop.task_loss else None,
            "last_task_loss": self.loop.task_loss[-1] if self.loop.task_loss else None,
            "seconds": round(self.seconds, 2),
            "notices": self.notices,
            "target_split": self.target_split.to_dict() if self.target_split else None,
            "world_size": self.world_size,
        }


def _resolve_general(base: Path, replay: Path | None, config: TrainConfig) -> Path | None:
    if not config.uses_general_data:
        return None
    if replay is not None:
        return replay
    corpus = corpus_of(base, "train")
    if corpus is not None:
        return corpus
    raise BadInputError(
        "--replay",
        "replay and EWC need general data and the base model has no "
        f"{CORPUS_DIR}/train.jsonl: pass --replay FILE",
    )


def _stream(
    records: list[TrainRecord], tokenizer, config: TrainConfig, context: int
) -> PackedStream:  # type: ignore[no-untyped-def]
    eos = tokenizer.eos_token_id
    if eos is None:
        raise BadInputError("tokenizer", "has no end-of-text token to separate examples with")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    free = [r.kind in ("code", "tokens") for r in records]
    return PackedStream(
        to_examples(records, tokenizer, config.prompt_format), eos, pad, context, free
    )


def _left_out(stream: PackedStream, what: str, notices: list[str]) -> None:
    """Say which records a stream left out: a few long prompts in a real set should not stop
    the run, and must not pass unseen either."""
    if stream.left_out:
        more = f" and {len(stream.left_out) - 1} more" if len(stream.left_out) > 1 else ""
        notices.append(f"{what}: {len(stream.left_out)} records left out of training, e.g. "
                       f"{stream.left_out[0]}{more}")  # fmt: skip


def _summary(
    path: Path, manifest: Manifest, records: list[TrainRecord], stream: PackedStream
) -> DataSummary:
    return DataSummary(
        str(path),
        manifest.id,
        len(records),
        dict(Counter(r.kind for r in records)),
        dict(Counter(r.language for r in records if r.language)),
        stream.trained_tokens,
    )


def _regularizer(
    model: torch.nn.Module,
    config: TrainConfig,
    general: PackedStream | None,
    state: TrainState,
    dist: Distributed,
) -> Regularizer | None:
    if config.regularizer == "l2sp":
        return L2SP(model, config.l2sp_alpha)
    if config.regularizer == "lwf":
        return LwF(frozen_teacher(model, config), config.lwf_alpha, config.lwf_temperature)
    if config.regularizer == "ewc":
        assert general is not None  # _resolve_general guarantees general data for EWC
        fisher = state.load_tensors("fisher")
        dist.same(fisher is not None, "whether the EWC Fisher is saved")
        if fisher is not None:
            device = next(model.parameters()).device
            fisher = {n: f.to(device) for n, f in fisher.items()}
        else:
            inputs, labels, _ = general.windows(
                config.fisher_samples, step_generator(config.seed, 0, stream=2)
            )
            fisher = estimate_fisher(model, inputs, labels, dist=dist)
            if dist.is_main:
                state.save_tensors("fisher", fisher)
        return EWC(model, fisher, config.ewc_lambda)
    return None


def _write_beside(path: Path, manifest: Manifest, notices: list[str]) -> None:
    """A data file's manifest beside it (``FILE.tripwire.json``), as every artifact has one.
    Not for a file inside a directory artifact (a reference model's corpus: the directory's
    own id would change), and a place tripwire cannot write to is a notice, not a failure."""
    if not path.is_file() or (path.parent / MANIFEST_NAME).is_file():
        return
    if manifest_path(path).is_file():
        try:
            if Manifest.read(path).id == manifest.id:
                return  # already there and current
        except BadInputError:
            pass  # unreadable: written again
    try:
        manifest.write(path)
    except OSError as exc:
        notices.append(f"could not write {manifest_path(path)} ({exc.strerror or exc})")


def _check_out(out: Path, base: Path) -> None:
    if out.resolve() == base.resolve():
        raise BadInputError(out, "is the base model; choose another output directory")
    # as `tokens repair` does: inside the base it changes the base's content (and id); around it
    # the base would go when the output folder is replaced
    if base.resolve() in out.resolve().parents or out.resolve() in base.resolve().parents:
        raise BadInputError(out, f"--out must be neither inside nor around the input {base}")
    if (
        out.exists()
        and not (out / "tripwire.json").is_file()
        and (not out.is_dir() or any(out.iterdir()))
    ):
        raise BadInputError(out, "exists and is not a tripwire artifact; refusing to overwrite")


def _check_writable(out: Path) -> None:
    problem = cannot_write(out)
    if problem is not None:
        raise BadInputError(out, problem)


def _audit(paths: list[Path | None], progress: Progress) -> None:
    for path in paths:
        if path is not None:
            progress("audit", 0, 1)
            check_audit(path)
            progress("audit", 1, 1)


def _input_manifests(
    base: Path, data: Path, replay: Path | None, general: Path | None, notices: list[str]
) -> dict[str, Manifest]:
    manifests = {
        "base": ensure_manifest(base, ArtifactKind.MODEL),
        "data": ensure_manifest(data, ArtifactKind.DATASET),
    }
    if general is not None:
        manifests["replay"] = ensure_manifest(general, ArtifactKind.DATASET)
    for path, key in ((data, "data"), (replay, "replay")):
        if path is not None:
            _write_beside(path, manifests[key], notices)
    return manifests


def _claim_state(state: TrainState, restart: bool, notices: list[str]) -> None:
    """Keep the saved state of this run, or start it afresh (rank 0; the others read it)."""
    if restart or not state.matches():
        if state.root.exists():
            notices.append(
                f"discarded training state in {state.root} (another run's, or --restart)"
            )
        state.reset()


def finetune(
    base: str | Path,
    data: str | Path,
    out: str | Path,
    config: TrainConfig | None = None,
    *,
    replay: str | Path | None = None,
    allow_unaudited: bool = False,
    restart: bool = False,
    registry: Registry | None = None,
    progress: Progress = no_progress,
    command: str | None = None,
    device: str | None = None,
    budget: MemoryBudget | None = None,
) -> FinetuneResult:
    """Fine-tune ``base`` on ``data`` into ``out`` (written atomically).

    A run interrupted after a periodic checkpoint resumes from it when called again with the
    same arguments (``restart`` discards it). ``replay`` is general data for replay and the EWC
    Fisher (default: the base's reference corpus train split). ``device``: a torch device name
    (default: ``cuda`` when available, else ``cpu``). ``budget``: the memory it may use
    (default: the command's ``--max-memory``): batches run in as many rows at a time as fit.

    Launched as several processes (``torchrun``, ``accelerate launch``: see ``_distributed``),
    each rank trains on its rows of every global batch under DDP (``device`` ``cuda`` is then
    the rank's own GPU) and rank 0 alone writes, reports progress and registers; the result is
    the one-process result of the same global batch up to float rounding.
    """
    t0 = time.perf_counter()
    config = config or TrainConfig()
    base, data, out = Path(base), Path(data), Path(out)
    target = rank_device(pick_device(device), launched())
    dist = distributed(target)
    if not dist.is_main:
        progress = no_progress
    if config.batch_size < dist.world_size:
        raise BadInputError(
            "--batch-size",
            f"{config.batch_size} rows cannot be split over {dist.world_size} processes",
        )
    replay = Path(replay) if replay is not None else None
    ckpt = Checkpoint.open(base)
    _check_out(out, base)
    dist.from_main(lambda: _check_writable(out))  # rank 0 alone writes, so it alone tries
    tokenizer = ckpt.load_tokenizer()
    records = read_records([data])
    check_tokenizer(ckpt, data, records)
    # the target gain is measured on records like these that training never saw
    records, target_split = split_target(records, data, config.target_heldout)
    notices = []
    general_path = _resolve_general(base, replay, config)
    if replay is not None and general_path is None:
        notices.append("--replay is unused: the replay ratio is 0 and the regularizer is not ewc")
        replay = None
    general = read_records([general_path]) if general_path else None
    if replay is not None and general is not None:
        check_tokenizer(ckpt, replay, general)
    if not allow_unaudited:
        # the base's own corpus is what it was trained on: only data from outside is audited
        dist.from_main(lambda: _audit([data, replay], progress))
    context = model_context(ckpt, config)
    task = _stream(records, tokenizer, config, context)
    _left_out(task, "--data", notices)
    if task.trained_tokens == 0:
        raise BadInputError(data, "no tokens to train on (every response is empty)")
    general_stream = _stream(general, tokenizer, config, context) if general else None
    if general_stream is not None:
        _left_out(general_stream, "the general data", notices)
    # hashed once, by rank 0, which alone writes the data's manifests beside it
    manifests = dist.from_main(lambda: _input_manifests(base, data, replay, general_path, notices))
    run_id = sha256_json({"config": config.identity(), **{k: m.id for k, m in manifests.items()}})
    state = TrainState(state_dir_for(out), run_id)
    dist.from_main(lambda: _claim_state(state, restart, notices))
    # refused (one line) before the model is loaded when even one row cannot fit the budget
    memory = plan_memory(
        ckpt, config, context, (budget or current_budget()).for_device(str(target))
    )
    torch.manual_seed(config.seed)  # LoRA's initial adapter weights
    model = load_for_training(ckpt, config).to(target)
    if config.gradient_checkpointing:
        enable_checkpointing(model)
    regularizer = _regularizer(model, config, general_stream, state, dist)
    loop = train_loop(
        model,
        config,
        task,
        general_stream if config.replay_ratio > 0 else None,
        regularizer,
        state,
        progress,
        micro_rows=memory.micro_rows,
        chunk_bytes=memory.chunk_bytes,
        dist=dist,
    )
    if loop.resumed_from:
        notices.append(f"resumed from the checkpoint at step {loop.resumed_from}")
    data_summary = _summary(data, manifests["data"], records, task)
    replay_summary = (
        _summary(general_path, manifests["replay"], general, general_stream)
        if general_path and general and general_stream
        else None
    )
    # what the gate reads back as a TrainingRecord
    record = {
        "config": config.to_dict(),
        "context": context,
        "base": {"id": manifests["base"].id, "path": str(base.resolve())},
        "data": data_summary.to_dict(),
        "replay": replay_summary.to_dict() if replay_summary else None,
        "fisher_estimator": FISHER_ESTIMATOR if config.regularizer == "ewc" else None,
        "target_split": target_split.to_dict(),
        "resumed_from": loop.resumed_from,
        "last_task_loss": loop.task_loss[-1],
        "memory": memory.to_dict(),
        "distributed": dist.describe(),
    }
    notes = {"tokenizer_sha256": tokenizer_sha256(ckpt), TrainingRecord.NOTE_KEY: record}

    def write() -> Manifest:
        with atomic_path(out) as tmp:
            save_tuned(model, config, base, tmp)
            (tmp / HISTORY_FILE).write_text(json.dumps(loop.history()) + "\n", encoding="utf-8")
            manifest = Manifest.build(
                tmp,
                ArtifactKind.MODEL,
                name=out.name,
                parents=[m.id for m in manifests.values()],
                command=command,
                notes=notes,
            )
            manifest.write(tmp)
        state.discard()
        if registry is not None:
            paths = {"base": base, "data": data, "replay": general_path}
            for key, m in manifests.items():
                registry.register(m, paths[key])
            registry.register(manifest, out)
        return manifest

    # the other ranks wait here for rank 0's writes, and fail if they fail
    manifest = dist.from_main(write)
    return FinetuneResult(
        out,
        manifest,
        config,
        base,
        data_summary,
        replay_summary,
        loop,
        time.perf_counter() - t0,
        notices,
        target_split,
        context,
        dist.world_size,
        dist.is_main,
    )
