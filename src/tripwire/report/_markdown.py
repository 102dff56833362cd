"""A gate result as a pull-request comment: verdict, root cause, remedy, what to look at.

Names, messages and evidence are untrusted: they are escaped so they cannot open HTML, links,
tables or code, and a stray ``@name`` cannot notify anyone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tripwire.report._evidence import evidence_sentences
from tripwire.report._gate_display import (
    SEVERITIES,
    as_result,
    attention,
    brief,
    ci_text,
    counts,
    fmt,
    items_text,
    items_used,
    n_text,
    remedy_parts,
    seconds_text,
)
from tripwire.report._html import scrub

if TYPE_CHECKING:
    from tripwire.gate import GateResult

MAX_SLICES = 10
MAX_SOURCES = 6
MAX_CHANGES = 6
MAX_EVIDENCE = 6
MAX_REMEDY_LINES = 8
_ICON = {"block": "⛔", "warn": "⚠️", "pass": "✅"}
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN = re.compile(r"([\\`*_\[\]|~#])")


def text(value: Any, limit: int = 200) -> str:
    """One escaped line of untrusted text."""
    s = brief(value, limit)
    s = "".join(_HTML.get(c, c) for c in s)
    s = _MARKDOWN.sub(r"\\\1", s)
    return s.replace("@", "@\u200b")  # a zero-width space stops GitHub's @mention


def code(value: Any, limit: int = 80) -> str:
    """An inline code span that no backtick in ``value`` can close early."""
    s = brief(value, limit).replace("@", "@\u200b")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def fenced(body: str, info: str = "sh") -> list[str]:
    """A fenced block longer than any backtick run inside, so the body cannot end it."""
    lines = body.strip("\n").splitlines() or [""]
    if len(lines) > MAX_REMEDY_LINES:
        lines = [*lines[:MAX_REMEDY_LINES], "# ..."]
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *lines, fence]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def gate_markdown(result: GateResult | dict[str, Any]) -> str:
    """The comment, in GitHub-flavoured markdown (well under 60 lines)."""
    g = as_result(result)
    cand = g.candidate["name"] or g.candidate["id"][:12]
    base = g.baseline["name"] or g.baseline["id"][:12]
    icon = _ICON.get(g.verdict, "❔")
    out = [f"## {icon} tripwire gate: **{g.verdict.upper()}** for {code(cand)} vs {code(base)}", ""]
    rc = g.root_cause
    if rc is not None:
        out += [f"**Root cause** ({text(rc.source)}, {code(rc.code)}): {text(rc.message)}", ""]
        lines = evidence_sentences(rc.evidence)  # words and numbers, as in the HTML report
        out += [f"- {text(line, 300)}" for line in lines[:MAX_EVIDENCE]]
        if len(lines) > MAX_EVIDENCE:
            out.append(f"- … {len(lines) - MAX_EVIDENCE} more in the JSON")
        prose, command = remedy_parts(rc.remedy)
        if prose:  # prose is text to read; only a command goes in the block to copy
            out += ["", f"**Remedy:** {text(prose, 400)}"]
        if command:
            out += [*([] if prose else ["", "**Remedy:**"]), *fenced(command)]
        out.append("")
    elif g.verdict == "pass":
        out += ["No blocking finding and no regressed slice.", ""]
    needing = attention(g)
    if needing:
        out += [f"### Slices to look at ({len(needing)})", ""]
        rows = [
            [text(suite, 40), text(c.slice, 60), text(c.metric, 40), text(n_text(c), 20),
             fmt(c.delta, True), ci_text(c), fmt(c.margin), fmt(c.mde), fmt(c.p_value),
             f"**{text(c.status, 20)}**"]
            for suite, c in needing[:MAX_SLICES]
        ]  # fmt: skip
        header = ["suite", "slice", "metric", "n", "Δ", "CI", "margin", "MDE", "p", "status"]
        out += _table(header, rows)
        if len(needing) > MAX_SLICES:
            out.append(f"\n… and {len(needing) - MAX_SLICES} more in the HTML report.")
        out.append("")
    ran = [s for s in g.evals if items_used(s) is not None]
    if ran:
        out += ["**Items:** " + "; ".join(f"{text(s.suite, 40)}: {text(items_text(s), 160)}"
                                            for s in ran), ""]  # fmt: skip
    by_source = counts(g)
    if by_source:
        out += ["### Findings by source", ""]
        rows = [[text(src, 40), *(str(c.get(s, 0)) for s in SEVERITIES)] for src, c in by_source]
        out += _table(["source", *SEVERITIES], rows[:MAX_SOURCES])
        out.append("")
    if g.lineage.changes:
        out += ["### What changed", ""]
        for c in g.lineage.changes[:MAX_CHANGES]:
            files = ", ".join(c.files[:4]) + (" …" if len(c.files) > 4 else "")
            detail = f": {text(c.detail, 120)}" if c.detail else ""
            out.append(
                f"- **{text(c.component, 40)}**{detail}"
                + (f" ({text(files, 120)})" if files else "")
            )
        out.append("")
    cached = ", cached" if g.cached else ""
    out.append(
        f"<sub>checks: {text(', '.join(g.checks_run) or 'none')} · {seconds_text(g)}{cached} · "
        f"baseline {code(g.baseline['id'][:12])} · candidate {code(g.candidate['id'][:12])}</sub>"
    )
    return scrub("\n".join(out) + "\n")
