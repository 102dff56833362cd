"""The one result shape: a finding survives its JSON form, and says which check made it."""

from __future__ import annotations

import json

from tripwire.findings import Finding, Severity


def test_a_finding_round_trips_through_json() -> None:
    f = Finding("tokens.rows_remapped", Severity.BLOCK, "8 tokens hold another's row",
                token_ids=(281, 327), evidence={"pairs": [[281, 327]]})  # fmt: skip
    back = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == Finding("tokens.rows_remapped", Severity.BLOCK, "8 tokens hold another's row",
                           (281, 327), (), {"pairs": [[281, 327]]})  # fmt: skip
    assert back.source == "tokens"
    data = Finding.from_dict({"code": "secret", "severity": "block", "message": "m",
                              "record_ids": ["r1"]})  # fmt: skip
    assert data.record_ids == ("r1",) and data.source is None and data.evidence == {}
