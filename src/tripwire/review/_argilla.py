"""Argilla (2.x): a dataset on disk as ``rg.Dataset.to_disk`` writes it and ``from_disk`` reads
it, and its records with reviewers' responses read back.

The layout (Argilla's documented import/export): ``DIR/.argilla/settings.json`` (fields,
questions, metadata; ``rg.Settings.to_json``), ``DIR/.argilla/dataset.json`` (the dataset model)
and ``DIR/records.json``, a list of ``{"id", "fields", "metadata", "suggestions",
"responses": {question: [{"value", "user_id"}]}, "vectors", "status"}``. Responses name their
reviewer by Argilla user UUID, so an import maps UUIDs to reviewers (``--user UUID=NAME``);
the UUIDs tripwire itself gives reviewers (``reviewer_uuid``) are known without a map.
``tests/review`` loads our export with Argilla's own ``Settings.from_json`` and
``Record.from_dict``, and reads records it wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tripwire.artifacts import atomic_path
from tripwire.errors import BadInputError
from tripwire.review._answers import CHOICES, DECISIONS, DROP_REASONS
from tripwire.review._exchange import Incoming, check_review_id, fields_of, load_json, read_text
from tripwire.review._pairwise import QUESTIONS
from tripwire.review._store import Item

SETTINGS = ".argilla/settings.json"
DATASET = ".argilla/dataset.json"
RECORDS = "records.json"


def _field(name: str, required: bool) -> dict[str, Any]:
    return {
        "id": None,
        "inserted_at": None,
        "updated_at": None,
        "name": name,
        "settings": {"type": "text", "use_markdown": False},
        "title": name,
        "required": required,
        "description": None,
        "dataset_id": None,
        "type": "text",
    }


def _label(name: str, labels: tuple[str, ...], required: bool, title: str) -> dict[str, Any]:
    return {
        "id": None,
        "inserted_at": None,
        "updated_at": None,
        "name": name,
        "settings": {
            "type": "label_selection",
            "options": [{"text": v, "value": v} for v in labels],
            "visible_options": None,
        },
        "title": title,
        "description": None,
        "required": required,
        "dataset_id": None,
        "type": "label_selection",
    }


def _text_question(name: str) -> dict[str, Any]:
    return {
        "id": None,
        "inserted_at": None,
        "updated_at": None,
        "name": name,
        "settings": {"type": "text", "use_markdown": False},
        "title": name,
        "description": None,
        "required": False,
        "dataset_id": None,
        "type": "text",
    }


def settings(kind: str) -> dict[str, Any]:
    """The dataset's settings as ``rg.Settings.to_json`` writes them."""
    if kind == "data":
        fields = [_field("code", True), _field("prompt", False)]
        questions = [
            _label("decision", DECISIONS, True, "Keep this record in the training data?"),
            _label("reason", DROP_REASONS, False, "Why drop it?"),
            _text_question("note"),
        ]
        guidelines = (
            "Decide whether each record belongs in the fine-tuning data. Drop broken, "
            "truncated, mislabelled, duplicated or benchmark code, and say why."
        )
    else:
        fields = [_field("prompt", True), _field("answer_a", True), _field("answer_b", True)]
        questions = [_label(q, CHOICES, True, f"{q}: which answer is better?") for q in QUESTIONS]
        questions.append(_text_question("note"))
        guidelines = "Two answers to the same prompt, in random order. Judge each question."
    metadata = [
        {
            "id": None,
            "inserted_at": None,
            "updated_at": None,
            "name": "language",
            "settings": {"visible_for_annotators": True, "type": "terms", "values": None},
            "title": "language",
            "visible_for_annotators": True,
            "dataset_id": None,
        }
    ]
    return {
        "guidelines": guidelines,
        "questions": questions,
        "fields": fields,
        "vectors": [],
        "metadata": metadata,
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "mapping": None,
    }


def export_argilla(items: list[Item], kind: str, directory: Path, name: str) -> None:
    """Write the dataset directory (replacing ``directory`` whole, atomically)."""
    records = []
    for i in items:
        f = fields_of(kind, i)
        keep = ("code", "prompt") if kind == "data" else ("prompt", "answer_a", "answer_b")
        records.append(
            {
                "id": i.item_id,
                "fields": {k: f[k] for k in keep if f[k] or k != "prompt"},
                "metadata": {"language": f["language"]},
                "suggestions": {},
                "responses": {},
                "vectors": {},
                "status": "pending",
                "_server_id": None,
            }
        )
    dataset = {
        "id": None,
        "inserted_at": None,
        "updated_at": None,
        "name": name,
        "status": "ready",
        "guidelines": settings(kind)["guidelines"],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "workspace_id": None,
        "last_activity_at": None,
    }
    with atomic_path(directory) as tmp:
        (tmp / ".argilla").mkdir(parents=True)
        (tmp / SETTINGS).write_text(json.dumps(settings(kind)), encoding="utf-8")
        (tmp / DATASET).write_text(json.dumps(dataset), encoding="utf-8")
        (tmp / RECORDS).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def looks_like(path: Path) -> bool:
    return (path.is_dir() and (path / RECORDS).is_file()) or (
        path.is_file() and path.name == RECORDS
    )


def _check_settings(directory: Path, kind: str) -> None:
    """A dataset whose questions are not this review's is someone else's."""
    path = directory / SETTINGS
    if not path.is_file():
        return
    theirs = load_json(read_text(path), path)
    try:
        names = {q["name"] for q in theirs["questions"]}
    except (KeyError, TypeError) as exc:
        raise BadInputError(path, f"not Argilla settings ({exc})") from exc
    ours = {q["name"] for q in settings(kind)["questions"]}
    if not ours <= names:
        raise BadInputError(
            path,
            f"asks {sorted(names)}, not this review's questions {sorted(ours)}: a foreign dataset",
        )


def dataset_name(kind: str, review_id: str) -> str:
    return f"tripwire-{kind}-{review_id}"


def _check_dataset(directory: Path, kind: str, review_id: str) -> None:
    """The dataset's name says which review it was exported from (Argilla keeps it)."""
    path = directory / DATASET
    if not path.is_file() or not review_id:
        return
    theirs = load_json(read_text(path), path)
    name = theirs.get("name") if isinstance(theirs, dict) else None
    name = name if isinstance(name, str) else None
    found = re.fullmatch(r"tripwire-(?:data|eval)-([0-9a-f]{16})", name or "")
    if found:  # a name the user chose says nothing
        check_review_id(found.group(1), review_id, path)


def read_argilla(path: Path, kind: str, review_id: str = "") -> list[Incoming]:
    """Submitted responses of every record, one decision per record and user."""
    directory = path if path.is_dir() else path.parent
    _check_settings(directory, kind)
    _check_dataset(directory, kind, review_id)
    records_path = directory / RECORDS
    records = load_json(read_text(records_path), records_path)
    if not isinstance(records, list):
        raise BadInputError(records_path, "Argilla records are a JSON list")
    out = []
    for n, rec in enumerate(records, 1):
        where = f"{records_path}: record {n}"
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
            raise BadInputError(where, "a record needs a string id (the review's item id)")
        where = f"{where} (item {rec['id']})"
        responses = rec.get("responses") or {}
        if not isinstance(responses, dict):
            raise BadInputError(where, "responses must map questions to lists")
        by_user: dict[str, dict[str, Any]] = {}
        for question, given in responses.items():
            if not isinstance(given, list):
                raise BadInputError(where, f"responses to {question!r} must be a list")
            for r in given:
                if not isinstance(r, dict) or "user_id" not in r:
                    raise BadInputError(where, f"a response to {question!r} has no user_id")
                if r.get("status") in ("draft", "discarded"):
                    continue
                by_user.setdefault(str(r["user_id"]), {})[question] = r.get("value")
        for user, answer in by_user.items():
            if kind == "data" and answer.get("reason") is None:
                answer.pop("reason", None)
            out.append(Incoming(rec["id"], user, answer, None, where))
    return out
