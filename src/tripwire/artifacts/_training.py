"""What a fine-tune records about itself in its model's manifest (``notes["train"]``), typed:
``tripwire train`` writes it, the gate's lineage and root cause and the demo read it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tripwire.artifacts._manifest import Manifest


@dataclass(frozen=True)
class TrainedData:
    """One training input as it was when the fine-tune read it."""

    path: str = ""
    id: str | None = None
    records: int | None = None
    languages: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_note(cls, note: Any) -> TrainedData:
        d = note if isinstance(note, dict) else {}
        langs = d.get("languages")
        return cls(
            path=str(d.get("path") or ""),
            id=d.get("id") if isinstance(d.get("id"), str) else None,
            records=d.get("records") if isinstance(d.get("records"), int) else None,
            languages=dict(langs) if isinstance(langs, dict) else {},
        )


@dataclass(frozen=True)
class TrainingRecord:
    """A fine-tune's record: its configuration, its base model and its data. ``note`` keeps
    everything that was written (loss, memory, replay, ...), for the reports."""

    config: dict[str, Any]
    base_id: str | None
    data: TrainedData
    note: dict[str, Any]
    NOTE_KEY: ClassVar[str] = "train"
    """Where in a manifest's notes the record lives."""

    @classmethod
    def from_note(cls, note: dict[str, Any]) -> TrainingRecord:
        base = note.get("base") if isinstance(note.get("base"), dict) else {}
        config = note.get("config")
        return cls(
            config=dict(config) if isinstance(config, dict) else {},
            base_id=base.get("id") if isinstance(base.get("id"), str) else None,
            data=TrainedData.from_note(note.get("data")),
            note=dict(note),
        )

    @classmethod
    def of(cls, manifest: Manifest) -> TrainingRecord | None:
        """The record in ``manifest``, or None for a model tripwire did not fine-tune."""
        note = manifest.notes.get(cls.NOTE_KEY)
        return cls.from_note(note) if isinstance(note, dict) and note else None

    def to_note(self) -> dict[str, Any]:
        return dict(self.note)
