"""`tripwire monitor triage` and the service's /v1/triage and /v1/feedback with the model."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tripwire.cli import main
from tripwire.monitor import ServerConfig, create_app
from tripwire.triage import Triager

LINES = [
    json.dumps({"text": "I asked for Kotlin and the answer is in Java"}),
    "not json",
    json.dumps({"id": 7}),
    json.dumps(""),
    json.dumps("the page takes a minute to answer since your update"),
]


def test_cli_triages_each_line(tmp_path: Path, model: Triager) -> None:
    src, out = tmp_path / "r.jsonl", tmp_path / "out.json"
    src.write_text("\n".join(LINES) + "\n\n", encoding="utf-8")
    assert main(["monitor", "triage", str(src), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    cats = [r["category"] for r in doc["results"]]
    assert [r["line"] for r in doc["results"]] == [1, 2, 3, 4, 5]
    assert cats[1:4] == ["other"] * 3
    assert doc["results"][1]["reason"].startswith("line 2: not JSON")
    assert doc["results"][0]["guess"] == "instructions_not_followed"
    assert doc["results"][4]["guess"] == "performance_regression"
    assert doc["summary"]["unreadable"] == 3
    assert main(["monitor", "triage", str(src), "--engine", "rules", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["engine"] == "rules"


def test_cli_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert main(["monitor", "triage", str(tmp_path / "missing.jsonl")]) == 2
    (tmp_path / "r.jsonl").write_text('"x"\n')
    assert main(["monitor", "triage", str(tmp_path / "r.jsonl"), "--engine", "bayes"]) == 2


def test_service_triages_with_the_model(tmp_path: Path, model: Triager) -> None:
    config = ServerConfig(db_url=f"sqlite:///{tmp_path / 'm.db'}", triage="model")
    with TestClient(create_app(config)) as c:
        r = c.post(
            "/v1/triage",
            json={
                "reports": [
                    "",
                    3,
                    "it runs but the total it prints is wrong by exactly one",
                    "\x00",
                ]
            },
        )
        assert r.status_code == 200
        results = r.json()["results"]
        assert [x["category"] == "other" for x in results] == [True, True, False, True]
        assert results[2]["guess"] == "logic_error"
        assert c.post("/v1/triage", content=b"\xff\xfe").status_code == 422
        assert c.post("/v1/triage", json={"reports": []}).status_code == 422
        fb = c.post("/v1/feedback", json={"text": "it invented a method that pandas lacks"})
        assert fb.status_code == 200
        assert fb.json()["category"] in ("incorrect_api_usage", "needs_review")
