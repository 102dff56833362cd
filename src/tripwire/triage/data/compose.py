"""Writes the versioned report sets: ``python -m tripwire.triage.data.compose``.

``reports.jsonl`` (set A) renders each hand-written core a few ways (opener, closer, a paste,
typos), with a ``split`` field: ``train`` or ``heldout``. The held-out split is drawn by core, so
no wording of a held-out report is ever seen in training. ``reports_b.jsonl`` (set B) is written
whole and separately, and is used only to evaluate. The seed is fixed: rerunning the composer
reproduces the committed files byte for byte.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tripwire.artifacts import write_text_atomic
from tripwire.triage.data._cores_a import CORES, NON_ENGLISH
from tripwire.triage.data._pastes import CLOSERS, CLOSERS_I18N, OPENERS, OPENERS_I18N, PASTES
from tripwire.triage.data._set_b import SET_B

HERE = Path(__file__).parent
HELDOUT_FRACTION = 0.2
RENDERINGS = 2  # per core: more would mostly repeat the core's wording, not add new meaning
SEED = 26

# Neighbouring keys: a typo is the key next to the intended one, as fingers make them.
_NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqwrtyuioasdsfghjkkxcvbnbn", strict=True))


def _typos(text: str, rng: random.Random) -> str:
    """One or two slips in the prose (not in pasted code): a swapped pair, a dropped letter or
    a neighbouring key, the mistakes people make typing fast."""
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha() and c.islower()]
    for _ in range(rng.randint(1, 2)):
        if len(letters) < 6:
            break
        i = rng.choice(letters[1:-1])
        kind = rng.randrange(3)
        if kind == 0 and i + 1 < len(chars) and chars[i + 1].isalpha():
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == 1:
            chars[i] = ""
        else:
            chars[i] = _NEIGHBOURS.get(chars[i], chars[i])
    return "".join(chars)


def _render(core: str, category: str, lang: str, rng: random.Random) -> str:
    if lang == "en":
        text = core[0].lower() + core[1:] if rng.random() < 0.3 else core
        text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
        if rng.random() < 0.25:
            text = _typos(text, rng)
        if rng.random() < 0.1:
            text = text.upper() if len(text) < 60 else text
    else:
        text = rng.choice(OPENERS_I18N[lang]) + core + rng.choice(CLOSERS_I18N[lang])
        if rng.random() < 0.2:
            text = _typos(text, rng)
    if rng.random() < 0.35:
        text += "\n\n" + rng.choice(PASTES[category])
    return text.strip()


def set_a() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for category, cores in CORES.items():
        tagged = [("en", c) for c in cores] + NON_ENGLISH[category]
        order = list(range(len(tagged)))
        rng.shuffle(order)
        n_held = round(HELDOUT_FRACTION * len(tagged))
        heldout = set(order[:n_held])
        for k, (lang, core) in enumerate(tagged):
            split = "heldout" if k in heldout else "train"
            for _ in range(RENDERINGS):
                text = _render(core, category, lang, rng)
                if text in seen:
                    continue
                seen.add(text)
                core_id = f"{category}/{k}"
                row = {"text": text, "category": category, "lang": lang, "split": split}
                rows.append(row | {"core": core_id})
    return rows


def set_b() -> list[dict[str, str]]:
    return [{"text": t, "category": c, "lang": lang} for c, lang, t in SET_B]


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    a, b = set_a(), set_b()
    write_text_atomic(HERE / "reports.jsonl", _jsonl(a))
    write_text_atomic(HERE / "reports_b.jsonl", _jsonl(b))
    held = sum(r["split"] == "heldout" for r in a)
    print(f"set A: {len(a)} reports ({held} held out); set B: {len(b)} reports")


if __name__ == "__main__":
    main()
