"""Long code lines stay inside their box: the data report and the gate report, measured in
headless Chromium (the page's scroll width against the window's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.browser import _run, chromium
from tests.support.cli import tripwire

WIDTH = 1280
# appended to a copy of the page: the measure is written where --dump-dom shows it
MEASURE = ("<script>document.title = 'scroll=' + document.documentElement.scrollWidth"
           " + ' window=' + window.innerWidth;</script>")  # fmt: skip


def _scroll_width(page: Path) -> tuple[int, int]:
    probe = page.with_name("probe-" + page.name)
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    result = _run([f"--window-size={WIDTH},900", "--dump-dom", probe.as_uri()], 90)
    found = re.search(r"<title>scroll=(\d+) window=(\d+)</title>", result.stdout)
    assert found, result.stderr[-2000:]
    return int(found[1]), int(found[2])


@pytest.mark.slow
def test_long_code_lines_do_not_widen_the_data_report(tmp_path: Path) -> None:
    chromium()
    # real code (the standard library's json decoder) with a 4,000-character line in it
    source = Path(json.decoder.__file__).read_text(encoding="utf-8")
    long_line = "TABLE = [" + ", ".join(str(i) for i in range(900)) + "]\n"
    assert len(long_line) > 3000
    text = long_line + source[:1500] + "\ndef broken(:\n"  # a syntax error: it is an example
    rows = [{"id": f"r{i}", "text": text, "language": "python"} for i in range(3)]
    rows.append({"id": "ok", "text": source[:2000], "language": "python"})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = tmp_path / "report.html"
    r = tripwire("data", "audit", str(data), "--report", str(report), "--workers", "1")
    assert r.returncode in (0, 1), r.stderr
    assert long_line.strip()[:200] in report.read_text()  # the long line is in the page
    scroll, window = _scroll_width(report)
    assert scroll <= window, f"the page is {scroll}px wide in a {window}px window"
