"""A finding's evidence in sentences and numbers, for people (the raw JSON stays one click away).

An eval regression's evidence is one comparison (baseline, candidate, delta, interval, margin,
n, p); it reads as one sentence. Other evidence is a flat mapping whose keys are snake_case
names; each becomes a phrase ("reassigned: 412" -> "Reassigned: 412", a share as a percent, a
list as its size and first items, a boolean as yes/no), with the keys whose meaning is known
(``higher_is_better``, ``regressed``, ``share``) said in words.
"""

from __future__ import annotations

import math
from typing import Any

MAX_LIST = 6
MAX_TEXT = 160
# parts of a comparison, said in the comparison's sentence rather than one by one
_COMPARISON = ("suite", "slice", "metric", "baseline", "candidate", "delta", "ci_low", "ci_high",
               "margin", "mde", "n", "p_value", "regressed", "status", "higher_is_better",
               "note", "look", "alpha")  # fmt: skip
# internal bookkeeping, not evidence a reader weighs
_HIDDEN = {"traceback", "effective_n", "clusters", "test", "worse", "better"}


def number(value: float) -> str:
    """Four significant digits, no exponent for everyday sizes."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)


def _phrase_key(key: str) -> str:
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool | int | float):
        if isinstance(value, float) and ("share" in key or "fraction" in key) and 0 <= value <= 1:
            return f"{100 * value:.3g}%"
        return number(value)
    if isinstance(value, list | tuple):
        shown = ", ".join(_value(key, v) for v in value[:MAX_LIST])
        more = f", … ({len(value)} in all)" if len(value) > MAX_LIST else ""
        return f"{shown}{more}" if value else "none"
    if isinstance(value, dict):
        items = list(value.items())
        shown = ", ".join(f"{k} {_value(str(k), v)}" for k, v in items[:MAX_LIST])
        return shown + (f", … ({len(items)} in all)" if len(items) > MAX_LIST else "")
    if value is None:
        return "none"
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def comparison_sentence(ev: dict[str, Any]) -> str:
    """``retention bits_per_byte on language=python: 1.21 -> 1.46 (+0.25, CI [+0.2, +0.3]),
    lower is better; the margin allows 0.036; 60 items, adjusted p 0.0001: regressed."""
    where = " ".join(str(ev[k]) for k in ("suite", "metric") if ev.get(k))
    if ev.get("slice"):
        where += f" on {ev['slice']}"
    parts = [f"{where}: baseline {number(ev['baseline'])}, candidate {number(ev['candidate'])}"]
    if isinstance(ev.get("delta"), int | float):
        ci = ""
        if isinstance(ev.get("ci_low"), int | float) and isinstance(ev.get("ci_high"), int | float):
            ci = f", interval [{_signed(ev['ci_low'])}, {_signed(ev['ci_high'])}]"
        parts[0] += f" (change {_signed(ev['delta'])}{ci})"
    if "higher_is_better" in ev:
        parts.append("higher is better" if ev["higher_is_better"] else "lower is better")
    if isinstance(ev.get("margin"), int | float):
        parts.append(f"the margin allows a worsening of {number(ev['margin'])}")
    counted = []
    if isinstance(ev.get("n"), int | float):
        counted.append(f"{number(ev['n'])} items")
    if isinstance(ev.get("p_value"), int | float):
        counted.append(f"adjusted p {number(ev['p_value'])}")
    if isinstance(ev.get("mde"), int | float):
        counted.append(f"smallest worsening detectable {number(ev['mde'])}")
    if counted:
        parts.append(", ".join(counted))
    sentence = "; ".join(parts)
    if "regressed" in ev:
        sentence += (": worse beyond the margin, with significance" if ev["regressed"]
                     else ": not shown to be worse beyond the margin")  # fmt: skip
    if ev.get("note"):
        sentence += f" ({_value('note', ev['note'])})"
    return sentence + "."


def evidence_sentences(evidence: dict[str, Any]) -> list[str]:
    """The evidence as lines a person reads: the comparison first, then the rest, one each."""
    ev = dict(evidence)
    out = []
    if all(isinstance(ev.get(k), int | float) for k in ("baseline", "candidate")):
        out.append(comparison_sentence(ev))
        ev = {k: v for k, v in ev.items() if k not in _COMPARISON}
    for key, value in ev.items():
        if key in _HIDDEN:
            continue
        if key == "higher_is_better":
            out.append("Higher is better." if value else "Lower is better.")
        elif key == "regressed":
            out.append("Worse beyond the margin." if value else "Not worse beyond the margin.")
        else:
            out.append(f"{_phrase_key(str(key))}: {_value(str(key), value)}.")
    return out
