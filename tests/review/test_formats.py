"""Exports and imports checked with the reviewers' tools' own code: Label Studio's converter
(``label_studio_converter``, with ``label_studio_tools``' config parser) reads our labeling
configuration and a Label Studio export of our tasks to the same decisions our importer reads;
Argilla's SDK loads our dataset folder (``Settings.from_json``, ``DatasetModel``, its records
reader) and writes the responses our importer brings back.

Neither tool's server is run (Label Studio is a Django application; Argilla's server needs
Elasticsearch): the Argilla SDK insists on a server check when a client is created, which the
test skips; nothing contacts a server after that (nothing listens at the address given).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.review.conftest import Audited
from tripwire.errors import BadInputError
from tripwire.review import (
    DataPlan,
    ReviewStore,
    create_data_review,
    eval_results,
    export_review,
    import_decisions,
    reviewer_uuid,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def data_review(audited: Audited, tmp_path: Path) -> ReviewStore:
    made = create_data_review(
        tmp_path / "review",
        [audited.dataset],
        audited.findings,
        reviewers=["ana", "ben"],
        plan=DataPlan(per_reason=2, borderline=2, near_misses=False),
    )
    return ReviewStore(made.directory)


def test_label_studio_reads_our_tasks_and_config_and_we_read_its_export(
    data_review: ReviewStore, tmp_path: Path
) -> None:
    from label_studio_converter import Converter
    from label_studio_tools.core.label_config import parse_config

    tasks_path = tmp_path / "tasks.json"
    export_review(data_review, "labelstudio", tasks_path)
    config = tasks_path.with_suffix(".xml").read_text()
    schema = parse_config(config)
    assert schema["decision"]["labels"] == ["keep", "drop"]
    tasks = json.loads(tasks_path.read_text())
    for control in ("decision", "reason", "note"):
        for inp in schema[control]["inputs"]:  # every $key the config shows is in every task
            assert all(inp["value"] in t["data"] for t in tasks)
    # what a Label Studio project's JSON export of these tasks looks like once annotated
    ids = [t["data"]["item_id"] for t in tasks[:3]]

    def result(decision: str, reason: str | None = None) -> list[dict]:
        out = [
            {
                "id": "r1",
                "from_name": "decision",
                "to_name": "code",
                "type": "choices",
                "value": {"choices": [decision]},
            }
        ]
        if reason:
            out.append(
                {
                    "id": "r2",
                    "from_name": "reason",
                    "to_name": "code",
                    "type": "choices",
                    "value": {"choices": [reason]},
                }
            )
        return out

    export = []
    for n, t in enumerate(tasks[:3], 1):
        anns = [
            {
                "id": 10 * n,
                "completed_by": 1,
                "result": result("drop", "near_duplicate"),
                "was_cancelled": False,
                "created_at": "2026-02-01T09:00:00.000000Z",
                "updated_at": "2026-02-01T09:00:00.000000Z",
                "lead_time": 3.2,
                "task": n,
            }
        ]
        if n == 1:
            anns.append(
                {
                    "id": 11,
                    "completed_by": {"id": 2, "email": "ben@example.com"},
                    "result": result("keep"),
                    "was_cancelled": False,
                    "created_at": "2026-02-01T10:00:00Z",
                    "updated_at": "2026-02-01T10:00:00Z",
                }
            )
            anns.append({"id": 12, "completed_by": 2, "result": [], "was_cancelled": True})
        export.append({"id": n, "data": t["data"], "annotations": anns, "predictions": []})
    exported = tmp_path / "project-1-export.json"
    exported.write_text(json.dumps(export))

    theirs = {
        (
            item["input"]["item_id"],
            str(
                item["completed_by"]
                if not isinstance(item["completed_by"], dict)
                else item["completed_by"]["email"]
            ),
            item["output"]["decision"][0]["choices"][0],
        )
        for item in Converter(config=config, project_dir=str(tmp_path)).iter_from_json_file(
            str(exported)
        )
    }
    users = {"1": "ana", "ben@example.com": "ben"}
    done = import_decisions(data_review, [exported], users=users)
    assert done["files"][0]["format"] == "labelstudio" and done["decisions"] == 4
    ours = {(d.item_id, d.reviewer, d.answer["decision"]) for d in data_review.history()}
    assert ours == {(i, users[u], dec) for i, u, dec in theirs}
    assert {d.item_id for d in data_review.history()} == set(ids)
    assert min(d.decided_at for d in data_review.history()) == "2026-02-01T09:00:00+00:00"


def _argilla_offline(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    pytest.importorskip("argilla", reason="argilla is in the test extra")
    import argilla as rg
    from argilla._api._client import APIClient

    monkeypatch.setattr(APIClient, "_validate_connection", lambda self: None)
    rg.Argilla(api_url="http://127.0.0.1:9", api_key="offline")  # the SDK's default client
    return rg


def test_argilla_loads_our_dataset_and_we_read_the_responses_it_writes(
    eval_review: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rg = _argilla_offline(monkeypatch)
    from argilla._models import DatasetModel
    from argilla.records._io import JsonIO

    store = ReviewStore(eval_review)
    folder = tmp_path / "argilla"
    export_review(store, "argilla", folder)
    settings = rg.Settings.from_json(folder / ".argilla/settings.json")
    questions = {q.name: q for q in settings.questions}
    assert set(questions) == {"correctness", "readability", "idiomatic", "note"}
    assert questions["correctness"].labels == ["A", "tie", "B"]
    assert [f.name for f in settings.fields] == ["prompt", "answer_a", "answer_b"]
    model = DatasetModel(**json.loads((folder / ".argilla/dataset.json").read_text()))
    assert model.name.startswith("tripwire-eval-")
    records = JsonIO._records_from_json(folder / "records.json")
    items = {i.item_id: i for i in store.items()}
    assert {r.id for r in records} == set(items)
    first = next(r for r in records if r.id in items)
    assert first.fields["answer_a"] == items[first.id].shown["A"]
    assert "candidate" not in (folder / "records.json").read_text()  # the order stays hidden

    # Argilla's records with responses from two users: ana by the UUID tripwire gives her,
    # ben by a server's own UUID mapped with --user
    review_id = store.meta()["review_id"]
    ana, ben = uuid.UUID(reviewer_uuid(review_id, "ana")), uuid.uuid4()
    answered = []
    for r in records[:6]:
        side = items[r.id].hidden["candidate"]  # the scripted judge prefers the candidate
        rs = [
            rg.Response(q, side, user_id=ana, status="submitted")
            for q in ("correctness", "readability", "idiomatic")
        ]
        rs += [
            rg.Response(q, "tie", user_id=ben, status="submitted")
            for q in ("correctness", "readability", "idiomatic")
        ]
        answered.append(rg.Record(id=r.id, fields=dict(r.fields), responses=rs))
    back = tmp_path / "argilla-back"
    shutil.copytree(folder / ".argilla", back / ".argilla")
    JsonIO.to_json(answered, back / "records.json")
    with pytest.raises(BadInputError, match="unknown reviewer"):
        import_decisions(store, [back])
    assert store.history() == []
    import_decisions(store, [back], users={str(ben): "ben"})
    res = eval_results(store)
    c = res["questions"]["correctness"]["slices"]["all"]
    assert c["items"] == 6 and c["win"]["count"] == 6  # ana: candidate; ben: tie -> candidate
    assert res["questions"]["correctness"]["agreement"]["cohen"][0]["items"] == 6

    foreign = tmp_path / "foreign"
    shutil.copytree(back, foreign)
    settings_json = json.loads((foreign / ".argilla/settings.json").read_text())
    settings_json["questions"] = [q for q in settings_json["questions"] if q["name"] == "note"]
    (foreign / ".argilla/settings.json").write_text(json.dumps(settings_json))
    with pytest.raises(BadInputError, match="foreign dataset"):
        import_decisions(store, [foreign])
