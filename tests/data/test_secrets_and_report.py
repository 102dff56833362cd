"""Secrets never leave the audit unredacted; the report escapes record text."""

from __future__ import annotations

import json

from tripwire.cli import main
from tripwire.data import AuditConfig, audit, find_secrets, redact
from tripwire.report import render_data_audit_html

AWS = "AKIA" + "Q7ZL2M4PX9TRW3KD"
GITHUB = "ghp_" + "x8Kd92LmQpW3eRt5Yu7Io9Pa1Sd3Fg5Hj7Kl"
URL = "postgres://admin:" + "Zq8vTr52mWxa" + "@db.internal:5432/app"
AWS_SECRET = "VfDaOPFornLxWCf0rokabwPm8I9pfvcDeLDWpSW+"  # ends in a non-word character


def test_find_and_redact_common_credentials():
    text = f'KEY = "{AWS}"\ntoken = "{GITHUB}"\nDB = "{URL}"\naws_secret_key = "{AWS_SECRET}"\n'
    assert [h.kind for h in find_secrets(text)] == [
        "aws_access_key_id",
        "github_token",
        "password_in_url",
        "aws_secret_access_key",
    ]
    red = redact(text)
    for secret in (AWS, GITHUB, "Zq8vTr52mWxa", AWS_SECRET):
        assert secret not in red
    assert "[REDACTED:aws_access_key_id]" in red


def test_placeholders_and_ordinary_code_are_not_secrets():
    text = (
        'url = "http://user:password@example.com/"\npassword = "changeme"\n'
        'key = config["api_key"]\nx = "sk-this-is-not-a-key"\n'
    )
    assert find_secrets(text) == []


def test_secrets_redacted_in_findings_report_and_json(tmp_path):
    records = [
        {
            "id": "leak",
            "text": f'import os\nKEY = "{AWS}"\ndef f(:\n    pass\n',
            "language": "python",
        },
        {
            "id": "xss",
            "text": "def f():\n    return '<script>alert(1)</script>'\n" * 3,
            "language": "python",
        },
        {
            "id": "xss-copy",
            "text": "def f():\n    return '<script>alert(1)</script>'\n" * 3,
            "language": "python",
        },
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    result, report = audit(
        [data],
        config=AuditConfig(workers=1),
        findings=tmp_path / "f.jsonl",
        clean=tmp_path / "c.jsonl",
    )
    html = render_data_audit_html(result, report, tmp_path / "r.html")
    findings = (tmp_path / "f.jsonl").read_text()
    assert "secret" in json.loads(findings.splitlines()[0])["reasons"]
    for text in (findings, html, (tmp_path / "c.jsonl").read_text(), json.dumps(result.to_dict())):
        assert AWS not in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[REDACTED:aws_access_key_id]" in html
    assert result.to_dict()["verdict"] == "block"


def test_cli_writes_every_output_and_exits_1_on_blocking(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text(
        json.dumps({"id": 1, "text": f'KEY = "{AWS}"\n', "language": "python"})
        + "\n"
        + json.dumps({"id": 2, "text": "x = 1\n", "language": "python"})
        + "\n"
    )
    args = [
        "data",
        "audit",
        str(data),
        "--findings",
        str(tmp_path / "f.jsonl"),
        "--clean",
        str(tmp_path / "c.jsonl"),
        "--report",
        str(tmp_path / "r.html"),
        "--json",
        str(tmp_path / "s.json"),
        "--workers",
        "1",
    ]
    assert main(args) == 1
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["summary"]["by_reason"]["secret"] == 1
    assert summary["findings"][0]["code"] == "data.secret"
    # a data finding names records, never tokens: no empty token_ids
    assert all("token_ids" not in f and f["record_ids"] for f in summary["findings"])
    assert set(summary["throughput"]) == {"seconds", "records_per_s", "mb_per_s"}
    assert (tmp_path / "c.jsonl").read_text() == data.read_text().splitlines(keepends=True)[1]
    assert main(["data", "audit", str(tmp_path / "nope.jsonl")]) == 2
    assert main(["data", "audit", str(data), "--engine", "spark"]) == 2
