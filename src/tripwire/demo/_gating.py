"""What the demo's stages share: the release policy, gating a pair, and cached fine-tunes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.artifacts import ArtifactKind, Manifest, TrainingRecord, ensure_manifest
from tripwire.demo._stage import StageContext
from tripwire.errors import BadInputError
from tripwire.gate import Policy, SuitePolicy, gate
from tripwire.train import TrainConfig, finetune

# The demo team's release policy: held-out bits per byte of every language may get at most 5%
# worse (paired per chunk, clustered by file, Holm across languages).
DEMO_POLICY = Policy(
    suites=(SuitePolicy("retention", {"max_per_language": 40}, {"bits_per_byte": "5%"}),)
)


def gate_pair(ctx: StageContext, baseline: Path, candidate: Path) -> dict[str, Any]:
    """The gate's verdict on ``candidate`` against ``baseline``, as its JSON document."""
    return gate(
        baseline, candidate, policy=DEMO_POLICY, registry=ctx.registry, progress=ctx.progress
    ).to_dict()


def gate_line(label: str, result: dict[str, Any]) -> str:
    rc = result["root_cause"]
    why = f"; root cause {rc['code']}: {rc['message']}" if rc else ""
    return f"gate {label}: {result['verdict'].upper()}{why}"


def register(ctx: StageContext, path: Path) -> str:
    """Record a model the demo made (with the parents its manifest names)."""
    manifest = ensure_manifest(path, ArtifactKind.MODEL)
    if ctx.registry is not None:
        ctx.registry.register(manifest, path)
    return manifest.id


def tuned(
    ctx: StageContext,
    data: Path,
    out: Path,
    config: TrainConfig,
    *,
    allow_unaudited: bool = False,
) -> Path:
    """Fine-tune once; later runs reuse the checkpoint while base, data and config are the same."""
    base_id = ensure_manifest(ctx.reference, ArtifactKind.MODEL).id
    data_id = ensure_manifest(data, ArtifactKind.DATASET).id
    try:
        record = TrainingRecord.of(Manifest.read(out))
        if (
            record is not None
            and record.config == config.to_dict()
            and record.base_id == base_id
            and record.data.id == data_id
        ):
            return out
    except BadInputError:
        pass
    finetune(
        ctx.reference,
        data,
        out,
        config,
        allow_unaudited=allow_unaudited,
        registry=ctx.registry,
        progress=ctx.progress,
    )
    return out
