"""Synthetic production traffic for the demo, tests and benchmark: code answers in up to five
languages with realistic background defect rates, deploys, a harmless prompt-mix shift, and
injected faults on chosen slices, sticky or intermittent: output corruption (characters from
unexpected scripts, broken code, off-top-1 tokens), truncation, or code in one language that no
longer parses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from tripwire.monitor._schema import Deploy, Event

_TEMPLATES = {
    "python": "def {name}(items):\n    total = 0\n    for item in items:\n"
    "        total += item * {k}\n    return total\n",
    "javascript": "function {name}(items) {{\n  let total = 0;\n  for (const item of items) {{\n"
    "    total += item * {k};\n  }}\n  return total;\n}}\n",
    "c": "int {name}(const int *items, int n)\n{{\n    int total = 0;\n"
    "    for (int i = 0; i < n; i++) {{\n        total += items[i] * {k};\n    }}\n"
    "    return total;\n}}\n",
    "shell": '{name}() {{\n    for f in "$@"; do\n        echo "$f" | wc -c\n    done\n}}\n',
    "go": "func {name}(items []int) int {{\n\ttotal := 0\n\tfor _, item := range items {{\n"
    "\t\ttotal += item * {k}\n\t}}\n\treturn total\n}}\n",
}
# A wrong edit that breaks each template's syntax (the background rate of bad answers).
_BREAK = {"python": ("(items):", "(items)"), "javascript": ("  }\n  return", "  return"),
          "c": ("    }\n    return", "    return"), "shell": ("    done\n", ""),
          "go": ("\t}\n\treturn", "\treturn")}  # fmt: skip
_SYNTAX_BASE = {"python": 0.010, "javascript": 0.015, "c": 0.020, "shell": 0.030, "go": 0.02}
MIX = {"python": 0.50, "javascript": 0.30, "c": 0.15, "shell": 0.05}
SHIFTED_MIX = {"python": 0.25, "javascript": 0.25, "c": 0.30, "shell": 0.20}
_CORRUPT = "กขคงจฉ你好世界дждзлΩ"[:-1] + "ฐ"
_NAMES = ("scale_sum", "weighted", "accumulate", "total_of", "fold_items", "sum_scaled")
_CHAT_LEAD = (
    "Here is a function that does this:",
    "You can write it like this:",
    "This version runs in linear time:",
)


@dataclass(frozen=True)
class Fault:
    """Output corruption on part of the traffic."""

    start: int
    """Index (in the whole stream) of the first event it can affect."""
    rate: float
    """Share of the affected slice's events corrupted (within on-periods if intermittent)."""
    hardware: str | None = None
    model_version: str | None = None
    on: int = 0
    off: int = 0
    """Intermittent: corrupted only during ``on`` stream events out of every ``on + off``."""
    kind: Literal["corrupt", "truncate"] = "corrupt"
    """``corrupt``: stray foreign characters that break the code; ``truncate``: the answer is
    cut off at the token limit."""

    def active(self, index: int, event: Event) -> bool:
        if index < self.start:
            return False
        if self.hardware is not None and event.hardware != self.hardware:
            return False
        if self.model_version is not None and event.model_version != self.model_version:
            return False
        return not self.on or (index - self.start) % (self.on + self.off) < self.on


@dataclass(frozen=True)
class Traffic:
    n: int = 6000
    seed: int = 0
    hardware: tuple[str, ...] = ("h100-a", "h100-b", "tpu-v5e")
    deployment: str = "us-east"
    routes: tuple[str, ...] = ("chat", "completion")
    versions: tuple[tuple[int, str], ...] = ((0, "v1"),)
    """``(index, version)``: the version served from that index on (a deploy record each)."""
    faults: tuple[Fault, ...] = ()
    mix_shift_at: int | None = None
    """From this index the prompt mix moves to ``shifted_mix`` (harmless drift)."""
    mix: tuple[tuple[str, float], ...] = tuple(MIX.items())
    """Languages asked for and their shares (``python``, ``javascript``, ``c``, ``shell``,
    ``go``)."""
    shifted_mix: tuple[tuple[str, float], ...] = tuple(SHIFTED_MIX.items())
    language_faults: tuple[tuple[str, float], ...] = ()
    """``(language, extra)``: within every active fault, answers in ``language`` also fail to
    parse ``extra`` more often (a fault that breaks one language only)."""
    start: datetime = field(default_factory=lambda: datetime(2025, 8, 1, tzinfo=UTC))
    seconds_per_event: float = 0.5


def _code(rng: random.Random, language: str, broken: bool) -> str:
    code = _TEMPLATES[language].format(name=rng.choice(_NAMES), k=rng.randint(2, 9))
    if broken:
        old, new = _BREAK[language]
        code = code.replace(old, new, 1)
    return code


def _corrupt(rng: random.Random, code: str) -> str:
    """What the incident's faulty serving path produced: stray foreign characters inside code,
    which break it as well."""
    chars = list(code)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(chars) // 3, len(chars))
        chars.insert(pos, rng.choice(_CORRUPT))
    out = "".join(chars)
    for closer in ("}\n", "    return", ":\n"):
        if closer in out:
            idx = out.rfind(closer)
            return out[:idx] + out[idx + len(closer) :]
    return out


def simulate(traffic: Traffic) -> list[Event | Deploy]:
    """The stream, in order: deploy records where versions change, then events."""
    rng = random.Random(traffic.seed)
    out: list[Event | Deploy] = []
    changes = dict(traffic.versions)
    version = traffic.versions[0][1]
    for i in range(traffic.n):
        ts = traffic.start + timedelta(seconds=i * traffic.seconds_per_event)
        if i in changes:
            version = changes[i]
            out.append(Deploy(ts=ts, model_version=version, deployment=traffic.deployment))
        shifted = traffic.mix_shift_at is not None and i >= traffic.mix_shift_at
        mix = dict(traffic.shifted_mix if shifted else traffic.mix)
        language = rng.choices(list(mix), weights=list(mix.values()))[0]
        route = rng.choice(traffic.routes)
        event = _event(rng, i, ts, version, traffic, language, route, shifted)
        active = [f for f in traffic.faults if f.active(i, event)]
        if active and rng.random() < max(f.rate for f in active):
            worst = max(active, key=lambda f: f.rate)
            cut = worst.kind == "truncate"
            event = _cut_off(event) if cut else _corrupted(rng, event, language)
        elif active and traffic.language_faults:
            extra = dict(traffic.language_faults).get(language, 0.0)
            if rng.random() < extra:
                event = _unparsable(rng, event, language)
        out.append(event)
    return out


def _event(rng: random.Random, i: int, ts: datetime, version: str, traffic: Traffic,
           language: str, route: str, shifted: bool) -> Event:  # fmt: skip
    broken = rng.random() < _SYNTAX_BASE[language]
    code = _code(rng, language, broken)
    truncated = rng.random() < 0.01
    refusal = rng.random() < 0.003
    tokens = len(code) // 3
    max_tokens = 512
    if route == "chat":
        text = f"{rng.choice(_CHAT_LEAD)}\n\n```{language}\n{code}```\n"
        if rng.random() < 0.3:
            text += "\nIt returns the weighted total of the items.\n"
        if truncated:
            text, tokens = text[: len(text) // 2], max_tokens
        if refusal:
            text = "I'm sorry, but I can't help with that request."
        fields = {"temperature": 0.7, "language": None}
    else:
        text = code[: len(code) // 2] if truncated else code
        tokens = max_tokens if truncated else tokens
        n = max(tokens, 1)
        top1 = [rng.random() >= 0.0002 for _ in range(n)]
        logprobs = [-0.02 if rng.random() < 0.99 else -5.5 for _ in range(n)]
        fields = {"temperature": 0.0, "language": language, "top1": top1, "logprobs": logprobs}
    return Event(
        event_id=f"e{traffic.seed}-{i}",
        ts=ts,
        completion=text,
        prompt_hash=f"p{rng.randrange(10_000):04d}",
        model_version=version,
        deployment=traffic.deployment,
        hardware=rng.choice(traffic.hardware),
        route=route,
        latency_ms=rng.lognormvariate(6.0 + (0.3 if shifted else 0.0), 0.4),
        prompt_tokens=rng.randint(20, 400),
        completion_tokens=tokens,
        max_tokens=max_tokens,
        finish_reason="length" if truncated else "stop",
        **fields,
    )


def _cut_off(event: Event) -> Event:
    """The answer stopped at the token limit halfway through."""
    text = event.completion[: len(event.completion) // 2]
    limit = event.max_tokens or event.completion_tokens
    return event.model_copy(update={"completion": text, "finish_reason": "length",
                                    "completion_tokens": limit})  # fmt: skip


def _unparsable(rng: random.Random, event: Event, language: str) -> Event:
    """The same kind of answer, with code that does not parse (and nothing else wrong)."""
    code = _code(rng, language, True)
    if event.route == "chat":
        text = f"{rng.choice(_CHAT_LEAD)}\n\n```{language}\n{code}```\n"
        return event.model_copy(update={"completion": text, "finish_reason": "stop"})
    return event.model_copy(update={"completion": code, "finish_reason": "stop"})


def _corrupted(rng: random.Random, event: Event, language: str) -> Event:
    code = _corrupt(rng, _code(rng, language, False))
    if event.route == "chat":
        text = f"{rng.choice(_CHAT_LEAD)}\n\n```{language}\n{code}```\n"
        return event.model_copy(update={"completion": text, "finish_reason": "stop"})
    n = max(len(code) // 3, 1)
    top1 = [True] * n
    for _ in range(rng.randint(1, 3)):
        top1[rng.randrange(n)] = False
    logprobs = [-0.02] * n
    for j, ok in enumerate(top1):
        if not ok:
            logprobs[j] = -7.0
    return event.model_copy(update={"completion": code, "completion_tokens": n, "top1": top1,
                                    "logprobs": logprobs, "finish_reason": "stop"})  # fmt: skip
