"""``out_of_domain`` (#29): records far from the rest of the set are flagged and kept, with a
threshold taken from the set; a set of one kind of code passes almost whole."""

from __future__ import annotations

import json
import re
import sysconfig
from pathlib import Path

import matplotlib
import numpy as np

from tripwire.data import AuditConfig, audit
from tripwire.data._embed import token_embeddings
from tripwire.data._lexer import token_ids_many, tokenize
from tripwire.data._outliers import outliers

_DEF = re.compile(r"^def \w+\(", re.MULTILINE)


def _stdlib_functions(n: int) -> list[str]:
    out = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        starts = [m.start() for m in _DEF.finditer(text)]
        for a, b in zip(starts, [*starts[1:], len(text)], strict=False):
            chunk = text[a:b].rstrip() + "\n"
            if 300 <= len(chunk) <= 3000:
                out.append(chunk)
        if len(out) >= n:
            return out[:n]
    return out


def _foreign() -> dict[str, str]:
    """Real files of other kinds found on every machine tripwire's tests run on."""
    mpl = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data"
    numpy_meta = next(Path(np.__file__).parent.parent.glob("numpy-*.dist-info")) / "METADATA"
    return {
        "csv": (mpl / "msft.csv").read_text()[:3000],
        "c header": Path("/usr/include/stdio.h").read_text()[:3000],
        "metadata": numpy_meta.read_text()[:3000],
        "svg": next(mpl.parent.glob("images/*.svg")).read_text()[:3000],
    }


def _vectors(texts: list[str]) -> np.ndarray:
    ids = token_ids_many([tokenize(t) for t in texts], [None] * len(texts))
    return token_embeddings([a for a, _ in ids])


def test_foreign_records_are_flagged_and_a_set_of_one_kind_passes(tmp_path):
    clean = _stdlib_functions(400)
    foreign = _foreign()
    found = outliers(_vectors(clean + list(foreign.values())))
    flagged = set(found.flagged.tolist())
    assert {len(clean) + k for k in range(len(foreign))} <= flagged, (found.threshold, flagged)
    assert len(flagged - {len(clean) + k for k in range(len(foreign))}) <= 0.02 * len(clean)
    alone = outliers(_vectors(clean))
    assert len(alone.flagged) <= 0.02 * len(clean)
    assert alone.threshold > alone.median


def test_the_audit_flags_and_keeps_them_with_the_calibrated_threshold(tmp_path):
    clean = _stdlib_functions(300)
    foreign = _foreign()
    data = tmp_path / "set.jsonl"
    rows = [{"id": f"f{k}", "text": t} for k, t in enumerate(clean)]
    rows += [{"id": name, "text": t} for name, t in foreign.items()]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, _ = audit([data], config=AuditConfig(workers=1, run_tests=False),
                      findings=tmp_path / "f.jsonl")  # fmt: skip
    lines = {r["id"]: r for r in map(json.loads, (tmp_path / "f.jsonl").read_text().splitlines())}
    csv = lines["csv"]
    evidence = csv["flags"]["out_of_domain"]
    assert evidence["distance"] > evidence["threshold"] > evidence["median"]
    assert csv["keep"] is (not csv["reasons"])  # a flag never removes
    assert result.by_flag["out_of_domain"] >= 2
    off = AuditConfig(workers=1, run_tests=False, out_of_domain_z=0)
    audit([data], config=off, findings=tmp_path / "g.jsonl")
    assert "out_of_domain" not in (tmp_path / "g.jsonl").read_text()
