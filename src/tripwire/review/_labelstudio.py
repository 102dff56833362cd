"""Label Studio: tasks to import into a project, its labeling configuration, and the project's
JSON export read back.

Follows Label Studio's documented task format (``guide/task_format``): a task is
``{"data": {...}}`` whose keys the labeling configuration names as ``$key``; an exported task
adds ``annotations``, each with ``completed_by`` (a user id, or an object with ``id``/``email``),
``was_cancelled``, ``created_at``/``updated_at`` and a ``result`` list of
``{"from_name", "to_name", "type", "value"}`` (choices: ``value.choices``; a text area:
``value.text``). ``tests/review`` reads our export with Label Studio's own converter
(``label_studio_converter``) against our configuration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from tripwire.artifacts import write_text_atomic
from tripwire.errors import BadInputError
from tripwire.review._answers import CHOICES, DECISIONS, DROP_REASONS
from tripwire.review._exchange import Incoming, check_review_id, fields_of, load_json, read_text
from tripwire.review._pairwise import QUESTIONS
from tripwire.review._store import Item

_HOTKEYS = {"keep": "k", "drop": "d", "A": "a", "tie": "t", "B": "b"}


def _choices(name: str, to: str, values: tuple[str, ...], extra: str = "") -> str:
    opts = "".join(
        f'    <Choice value="{v}"'
        + (
            f' hotkey="{_HOTKEYS[v]}"'
            if name in ("decision", "correctness") and v in _HOTKEYS
            else ""
        )
        + "/>\n"
        for v in values
    )
    return (
        f'  <Choices name="{name}" toName="{to}" choice="single" showInline="true"{extra}>\n'
        f"{opts}  </Choices>\n"
    )


def labeling_config(kind: str) -> str:
    """The project's labeling configuration (XML) for this kind of review."""
    if kind == "data":
        return (
            "<View>\n"
            '  <Header value="Prompt"/>\n  <Text name="prompt" value="$prompt"/>\n'
            '  <Header value="Code"/>\n  <Text name="code" value="$code"/>\n'
            + _choices("decision", "code", DECISIONS, ' required="true"')
            + _choices(
                "reason",
                "code",
                DROP_REASONS,
                ' visibleWhen="choice-selected" whenTagName="decision" whenChoiceValue="drop"',
            )
            + '  <TextArea name="note" toName="code" rows="2" maxSubmissions="1"/>\n'
            "</View>\n"
        )
    parts = [
        "<View>\n",
        '  <Header value="Prompt"/>\n  <Text name="prompt" value="$prompt"/>\n',
        '  <Header value="Answer A"/>\n  <Text name="answer_a" value="$answer_a"/>\n',
        '  <Header value="Answer B"/>\n  <Text name="answer_b" value="$answer_b"/>\n',
    ]
    for q in QUESTIONS:
        parts.append(f"  <Header value={quoteattr(q + ': which answer is better?')}/>\n")
        parts.append(_choices(q, "answer_a", CHOICES, ' required="true"'))
    parts.append('  <TextArea name="note" toName="answer_a" rows="2" maxSubmissions="1"/>\n')
    parts.append("</View>\n")
    return "".join(parts)


def config_path(path: Path) -> Path:
    return path.with_suffix(".xml")


def export_labelstudio(items: list[Item], kind: str, path: Path, review_id: str = "") -> Path:
    """``path`` (tasks JSON) and beside it ``path.xml`` (the labeling configuration). Each
    task's data carries the review's id: Label Studio keeps it in every export format."""
    tasks = [{"data": {**fields_of(kind, i), "review_id": review_id}} for i in items]
    write_text_atomic(path, json.dumps(tasks, ensure_ascii=False, indent=1))
    config = config_path(path)
    write_text_atomic(config, labeling_config(kind))
    return config


def looks_like(data: Any) -> bool:
    tasks = data if isinstance(data, list) else [data]
    return bool(tasks) and all(isinstance(t, dict) and "data" in t for t in tasks)


def looks_like_min(data: Any) -> bool:
    """Label Studio's JSON-MIN export: one flat object per annotation, the task's data keys
    beside the answers and ``annotator``."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(r, dict) and "item_id" in r and "annotator" in r for r in data)
    )


def _user(completed_by: Any) -> str:
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            if completed_by.get(key) not in (None, ""):
                return str(completed_by[key])
    return str(completed_by)


def _known(kind: str) -> set[str]:
    return {"decision", "reason", "note"} if kind == "data" else {*QUESTIONS, "note"}


def _answer(kind: str, result: Any, where: str) -> dict[str, Any]:
    known = _known(kind)
    answer: dict[str, Any] = {}
    if not isinstance(result, list):
        raise BadInputError(where, f"an annotation's result must be a list, got {result!r:.60}")
    for r in result:
        if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
            raise BadInputError(where, "a result needs from_name and a value object")
        if not isinstance(r.get("from_name"), str):
            raise BadInputError(
                where, f"a result's from_name must be text, got {r.get('from_name')!r:.60}"
            )
        name, value = r["from_name"], r["value"]
        if name not in known:
            raise BadInputError(
                where, f"result for {name!r}, which this review does not ask (a foreign project?)"
            )
        if name == "note":
            text = value.get("text") or [""]
            answer["note"] = "\n".join(map(str, text)) if isinstance(text, list) else str(text)
        else:
            choices = value.get("choices")
            if not isinstance(choices, list) or len(choices) != 1:
                raise BadInputError(where, f"{name}: expected one choice, got {choices!r}")
            answer[name] = choices[0]
    return answer


def _when(record: dict[str, Any]) -> str | None:
    when = record.get("updated_at") or record.get("created_at")
    return when if when is None or isinstance(when, str) else str(when)


def read_json_min(
    data: list[dict[str, Any]], path: Path, kind: str, review_id: str
) -> list[Incoming]:
    """The decisions in a JSON-MIN export (what ``label_studio_converter`` writes: a single
    choice as its value, a text area's text as a string or a list)."""
    out = []
    for n, rec in enumerate(data, 1):
        where = f"{path}: record {n}"
        item_id = rec["item_id"]
        if not isinstance(item_id, str):
            raise BadInputError(where, f"item_id must be text, got {item_id!r:.60}")
        where = f"{where} (item {item_id})"
        check_review_id(rec.get("review_id"), review_id, where)
        answer = {k: rec[k] for k in _known(kind) if k in rec}
        if rec["annotator"] in (None, "", {}) and not answer:  # a task nobody annotated
            continue
        if isinstance(answer.get("note"), list):
            answer["note"] = "\n".join(map(str, answer["note"]))
        out.append(Incoming(item_id, _user(rec["annotator"]), answer, _when(rec), where))
    return out


def read_labelstudio(path: Path, kind: str, review_id: str = "") -> list[Incoming]:
    """The decisions in a Label Studio JSON or JSON-MIN export (cancelled annotations
    skipped)."""
    data = load_json(read_text(path), path)
    if looks_like_min(data):
        return read_json_min(data, path, kind, review_id)
    tasks = data if isinstance(data, list) else [data]
    out = []
    for n, task in enumerate(tasks, 1):
        where = f"{path}: task {n}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise BadInputError(where, "not a Label Studio task (no data object)")
        item_id = task["data"].get("item_id")
        if not isinstance(item_id, str):
            raise BadInputError(where, "has no item_id in its data: not exported by tripwire")
        where = f"{where} (item {item_id})"
        check_review_id(task["data"].get("review_id"), review_id, where)
        annotations = task.get("annotations", task.get("completions", [])) or []
        if not isinstance(annotations, list):
            raise BadInputError(where, "annotations must be a list")
        for a in annotations:
            if not isinstance(a, dict) or "result" not in a:
                raise BadInputError(where, "an annotation needs a result list")
            if a.get("was_cancelled") or a.get("skipped"):
                continue
            if "completed_by" not in a:
                raise BadInputError(where, "an annotation without completed_by: who decided?")
            answer = _answer(kind, a["result"], where)
            out.append(Incoming(item_id, _user(a["completed_by"]), answer, _when(a), where))
    return out
