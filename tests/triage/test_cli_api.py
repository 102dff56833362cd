"""`tripwire monitor triage` and the service's /v1/triage and /v1/feedback with the model."""

from __future__ import annotations

import json
from datetime import timedelta
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


def test_service_shows_feedback_patterns(tmp_path: Path, model: Triager) -> None:
    from tests.triage.test_cluster import PANDAS, SLOW, T0

    config = ServerConfig(db_url=f"sqlite:///{tmp_path / 'm.db'}", triage="model")
    with TestClient(create_app(config)) as c:
        r = c.post("/v1/triage", json={"reports": ["x" * 1_000_000, "the loop never stops"]})
        assert r.status_code == 200
        assert "1,000,000 bytes" in r.json()["results"][0]["reason"]
        assert r.json()["results"][1]["reason"] is None
        assert c.post("/v1/feedback", json={"text": "x" * 30_000}).status_code == 422

        def send(text: str, hours: float, version: str) -> None:
            ts = (T0 + timedelta(hours=hours)).isoformat()
            fb = {"text": text, "ts": ts, "model_version": version, "deployment": "eu"}
            assert c.post("/v1/feedback", json=fb).status_code == 200

        for i, text in enumerate(SLOW * 2):
            send(text, i, "v1")
        send(PANDAS[0], 9, "v1")
        deploy = {"ts": (T0 + timedelta(hours=12)).isoformat(), "model_version": "v2",
                  "deployment": "eu"}  # fmt: skip
        assert c.post("/v1/deploys", json=deploy).status_code == 200
        for i, text in enumerate(PANDAS * 2):
            send(text, 13 + i / 6, "v2")
        clusters = c.get("/v1/feedback/clusters").json()["clusters"]
        top = clusters[0]
        assert top["size"] == 13 and "pandas" in top["label"]
        assert top["slices"]["model_version"] == {"v2": 12, "v1": 1}
        assert top["grew_after"][0]["deploy"] == "v2"
        page = c.get("/").text
        assert 'id="feedback-clusters"' in page and "<strong>v2</strong>" in page
