"""What changed between baseline and candidate, read from their manifests and the registry."""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Any

from tripwire.artifacts import Manifest, Registry, TrainingRecord
from tripwire.documents import Fields
from tripwire.errors import BadInputError

_COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tokenizer", ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.json", "vocab.txt", "merges.txt", "added_tokens.json", "*.model",
                   "chat_template.jinja")),
    ("config", ("config.json", "generation_config.json", "adapter_config.json")),
    ("weights", ("*.safetensors", "*.bin", "*.pt", "*.safetensors.index.json")),
)  # fmt: skip
_MAX_DEPTH = 32


def component_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "/" in path:
        return "other"
    for component, patterns in _COMPONENTS:
        if any(fnmatch.fnmatch(name, p) for p in patterns):
            return component
    return "other"


@dataclass(frozen=True)
class Change:
    component: str
    """tokenizer, weights, config, training_data, training_config or other."""
    files: list[str]
    detail: str

    @classmethod
    def from_dict(cls, f: Fields) -> Change:
        return cls(f.text("component", "other"), f.texts("files"), f.text("detail", ""))


@dataclass(frozen=True)
class Lineage:
    changes: list[Change]
    nodes: list[dict[str, Any]]
    edges: list[list[str]]
    training: TrainingRecord | None
    """The candidate's training record (data, config, base) when tripwire trained it."""
    trained_from_baseline: bool = False
    notes: list[str] = field(default_factory=list)

    def changed(self, component: str) -> bool:
        return any(c.component == component for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [asdict(c) for c in self.changes],
            "nodes": self.nodes,
            "edges": self.edges,
            "training": self.training.to_note() if self.training else None,
            "trained_from_baseline": self.trained_from_baseline,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "lineage") -> Lineage:
        """A lineage back from ``to_dict`` (a written gate result)."""
        f = Fields.of(d, doc)
        training = f.mapping("training")
        return cls(
            changes=[Change.from_dict(c) for c in f.objects("changes")],
            nodes=[n.data for n in f.objects("nodes")],
            edges=[[str(x) for x in e] for e in f.items("edges") if isinstance(e, list | tuple)],
            training=TrainingRecord.from_note(training) if training else None,
            trained_from_baseline=f.flag("trained_from_baseline"),
            notes=f.texts("notes"),
        )


def _file_changes(base: Manifest, cand: Manifest) -> list[Change]:
    a = {f.path: f.sha256 for f in base.files}
    b = {f.path: f.sha256 for f in cand.files}
    by_component: dict[str, list[str]] = {}
    for path in sorted(a.keys() | b.keys()):
        if a.get(path) != b.get(path):
            by_component.setdefault(component_of(path), []).append(path)
    out = []
    for component, files in by_component.items():
        added = [f for f in files if f not in a]
        removed = [f for f in files if f not in b]
        parts = [f"{len(files) - len(added) - len(removed)} modified"]
        parts += [f"{len(added)} added"] if added else []
        parts += [f"{len(removed)} removed"] if removed else []
        out.append(Change(component, files, ", ".join(parts)))
    return out


def _training_changes(base: Manifest, training: TrainingRecord | None) -> list[Change]:
    if training is None:
        return []
    data = training.data
    base_training = TrainingRecord.of(base)
    out = []
    if data.id != (base_training.data.id if base_training else None):
        langs = ", ".join(f"{k} {v}" for k, v in sorted(data.languages.items()))
        records = "?" if data.records is None else data.records
        out.append(
            Change(
                "training_data",
                [data.path],
                f"{records} records ({langs or 'languages unknown'})",
            )
        )
    config = training.config
    if config != (base_training.config if base_training else None):
        keys = ("learning_rate", "steps", "regularizer", "replay_ratio", "method")
        summary = ", ".join(f"{k}={config[k]}" for k in keys if k in config)
        out.append(Change("training_config", [], summary))
    return out


def _node(manifest_id: str, name: str, kind: str, role: str) -> dict[str, Any]:
    return {"id": manifest_id, "name": name, "kind": kind, "role": role}


def _graph(
    base: Manifest, cand: Manifest, registry: Registry | None
) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """The candidate's ancestry up to the baseline (registry when known, else its manifest)."""
    nodes = {
        base.id: _node(base.id, base.name, str(base.kind), "baseline"),
        cand.id: _node(cand.id, cand.name, str(cand.kind), "candidate"),
    }
    edges: list[list[str]] = []
    frontier = [(cand.id, list(cand.parents))]
    depth = 0
    while frontier and depth < _MAX_DEPTH:
        depth += 1
        nxt = []
        for child, parents in frontier:
            for p in parents:
                edges.append([p, child])
                if p in nodes:
                    continue
                known = None
                if registry is not None:
                    try:
                        known = registry.get(p)
                    except BadInputError:  # an id the registry never saw is still a node
                        known = None
                if known is None:
                    nodes[p] = _node(p, p[:12], "unknown", "input")
                    continue
                m = known.manifest
                role = "ancestor" if str(m.kind) == "model" else "input"
                nodes[p] = _node(p, m.name, str(m.kind), role)
                if str(m.kind) == "model":
                    nxt.append((p, registry.parents(p) if registry else list(m.parents)))
        frontier = nxt
    return list(nodes.values()), edges


def lineage(base: Manifest, cand: Manifest, registry: Registry | None = None) -> Lineage:
    """Files changed per component, the training that made the candidate, and its ancestry."""
    training = TrainingRecord.of(cand)
    from_baseline = training is not None and training.base_id == base.id
    changes = _file_changes(base, cand) + _training_changes(base, training)
    notes = []
    if training and not from_baseline:
        notes.append("the candidate was trained from another base than this baseline")
    if "repair" in cand.notes:
        notes.append("the candidate is a tokens repair of another checkpoint")
    nodes, edges = _graph(base, cand, registry)
    return Lineage(changes, nodes, edges, training, from_baseline, notes)
