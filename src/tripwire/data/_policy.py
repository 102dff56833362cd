"""What a static-analysis finding does to its record: ``drop`` it, ``flag`` it for review (kept),
or ``ignore`` it. One shipped default per rule, overridable per rule or rule prefix.

Why the default is what it is:

- **drop** what teaches harm when a model learns it: injection (``eval``/``exec`` of data, a
  shell or SQL command built from strings), unsafe deserialization, TLS verification turned off,
  weak hashes for passwords, memory-unsafe C calls, ``unsafe`` without need; and code that is
  wrong whatever it was meant to do: undefined names, a format string that raises, ``is`` against
  a literal, an assertion on a tuple. Where the context shows no harm (a command written out
  in full, ``eval`` of the code's own strings, a pickle round trip, a name in a string
  annotation: ``_python_context``) the finding is flagged instead.
- **flag** what a reviewer should look at but that is often fine in context: names in
  ``__all__`` that are not defined (F822: a module ``__getattr__`` may make them), likely bugs
  (bugbear), unused names, style (E7), slow idioms (PERF), and security rules that cannot tell
  a password from a checksum (MD5 for an ETag) or a literal command from a built one.
- **ignore** advisories with nothing to review in a training record: ``assert`` (S101), the
  ``random`` module (S311), importing ``subprocess``/``pickle``/XML modules (S4xx: the *use*
  is checked), subprocess without a shell (S603, S606, S607), ``zip`` without ``strict`` (B905),
  ``raise`` without ``from`` (B904), ``warn`` without ``stacklevel`` (B028), names like ``l``
  (E741).

A rule's id is ruff's code for Python (``S608``) and ``<language>/<name>`` for the tree-sitter
rules of other languages (``js/no-eval``, ``go/G402``); an override names a rule or a prefix of
ids (``--rule S608=flag``, ``--rule S=ignore``, ``--rule js/=flag``): an override beats the
defaults, and among overrides and among defaults the longest match wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tripwire.errors import BadInputError


class Action(StrEnum):
    DROP = "drop"
    FLAG = "flag"
    IGNORE = "ignore"


# (rule id or prefix, action, kind). Kinds name what a finding is about; the drop reason code
# follows from it (``reason_for``).
_RUFF_DEFAULTS: tuple[tuple[str, Action, str], ...] = (
    ("F", Action.FLAG, "bug"),
    ("F401", Action.FLAG, "style"),
    ("F403", Action.FLAG, "style"),
    ("F405", Action.FLAG, "style"),
    ("F404", Action.DROP, "cannot_run"),
    ("F406", Action.DROP, "cannot_run"),
    ("F407", Action.DROP, "cannot_run"),
    ("F50", Action.DROP, "cannot_run"),
    ("F504", Action.FLAG, "style"),
    ("F52", Action.DROP, "cannot_run"),
    ("F522", Action.FLAG, "style"),
    ("F523", Action.FLAG, "style"),
    ("F631", Action.DROP, "bug"),
    ("F632", Action.DROP, "bug"),
    ("F633", Action.DROP, "cannot_run"),
    ("F634", Action.DROP, "bug"),
    ("F7", Action.DROP, "cannot_run"),
    ("F821", Action.DROP, "undefined_name"),
    ("F822", Action.FLAG, "undefined_name"),
    ("F823", Action.DROP, "undefined_name"),
    ("F901", Action.DROP, "cannot_run"),
    ("B", Action.FLAG, "bug"),
    ("B028", Action.IGNORE, "style"),
    ("B904", Action.IGNORE, "style"),
    ("B905", Action.IGNORE, "style"),
    ("E7", Action.FLAG, "style"),
    ("E741", Action.IGNORE, "style"),
    ("PERF", Action.FLAG, "performance"),
    ("S", Action.FLAG, "security"),
    ("S101", Action.IGNORE, "style"),
    ("S311", Action.IGNORE, "security"),
    ("S4", Action.IGNORE, "security"),
    ("S603", Action.IGNORE, "security"),
    ("S606", Action.IGNORE, "security"),
    ("S607", Action.IGNORE, "security"),
    ("S102", Action.DROP, "injection"),
    ("S307", Action.DROP, "injection"),
    ("S602", Action.DROP, "injection"),
    ("S604", Action.DROP, "injection"),
    ("S605", Action.DROP, "injection"),
    ("S608", Action.DROP, "injection"),
    ("S609", Action.DROP, "injection"),
    ("S610", Action.DROP, "injection"),
    ("S611", Action.DROP, "injection"),
    ("S301", Action.DROP, "deserialization"),
    ("S302", Action.DROP, "deserialization"),
    ("S506", Action.DROP, "deserialization"),
    ("S323", Action.DROP, "tls"),
    ("S501", Action.DROP, "tls"),
    ("S502", Action.DROP, "tls"),
    ("S507", Action.DROP, "tls"),
    ("S303", Action.FLAG, "weak_hash"),
    ("S324", Action.FLAG, "weak_hash"),
)
RUFF_LINTERS = ("F", "B", "S", "E7", "PERF")
"""What ruff is asked for (pyflakes, bugbear, bandit, E7 statements, perflint)."""

SECURITY_KINDS = frozenset(
    {"injection", "deserialization", "weak_hash", "tls", "memory", "unsafe", "security"}
)
REASON_INSECURE = "insecure_code"
REASON_BUG = "code_bug"


def reason_for(kind: str) -> str:
    """The reason code a dropped finding of this kind gives its record."""
    return REASON_INSECURE if kind in SECURITY_KINDS else REASON_BUG


@dataclass(frozen=True)
class RuleDefault:
    action: Action
    kind: str


_TABLE: dict[str, RuleDefault] = {p: RuleDefault(a, k) for p, a, k in _RUFF_DEFAULTS}


def register_defaults(rules: dict[str, RuleDefault]) -> None:
    """Add the defaults of non-ruff rules (the tree-sitter rules register theirs on import)."""
    for rule, default in rules.items():
        if rule in _TABLE and _TABLE[rule] != default:
            raise ValueError(f"rule {rule!r} registered twice")
        _TABLE[rule] = default


def _longest(rule: str, table: dict[str, Any]) -> str | None:
    for end in range(len(rule), 0, -1):
        if rule[:end] in table:
            return rule[:end]
    return None


def default_of(rule: str) -> RuleDefault:
    """The shipped default for ``rule`` (longest prefix); unknown rules are flagged."""
    key = _longest(rule, _TABLE)
    return _TABLE[key] if key else RuleDefault(Action.FLAG, "style")


@dataclass(frozen=True)
class RulePolicy:
    """The shipped defaults with per-rule overrides (part of the audit's identity)."""

    overrides: tuple[tuple[str, str], ...] = ()
    """(rule id or prefix, action), as given on the command line."""

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for rule, action in self.overrides:
            if not rule or action not in Action.__members__.values():
                raise BadInputError(
                    "--rule", f"expected RULE=drop|flag|ignore, got {rule}={action}"
                )
            seen[rule] = action
        object.__setattr__(self, "overrides", tuple(sorted(seen.items())))

    @classmethod
    def parse(cls, pairs: list[str]) -> RulePolicy:
        """``["S608=drop", "F401=ignore"]`` -> a policy; anything else is bad input."""
        out = []
        for pair in pairs:
            rule, sep, action = pair.partition("=")
            if not sep or not rule.strip():
                raise BadInputError("--rule", f"expected RULE=drop|flag|ignore, got {pair!r}")
            out.append((rule.strip(), action.strip().lower()))
        return cls(tuple(out))

    def check_known(self) -> None:
        """Refuse an override that names no rule: a typo would silently change nothing, and
        ruff refuses a selector it does not know (failing every run of the audit). A ruff id
        or prefix is what ruff accepts as a selector; any other is a prefix of one of
        tripwire's own rule ids."""
        # imported here: both import this module (the tree-sitter rules register on import)
        from tripwire.data._hazard_rules import RULES
        from tripwire.data._ruff import OWN_RULES, ruff_refusal

        own = [*RULES, *OWN_RULES]
        for rule, _ in self.overrides:
            if _is_ruff(rule):
                problem = ruff_refusal(rule)
            else:
                problem = None if any(r.startswith(rule) for r in own) else f"unknown rule {rule!r}"
            if problem is not None:
                raise BadInputError("--rule", problem)

    def action(self, rule: str, *, benign: bool = False) -> Action:
        """What a finding of ``rule`` does. ``benign``: the finding's context shows no harm (a
        command written out in full, a pickle round trip: ``_hazards.StaticFinding.benign``):
        a default drop becomes a flag, unless an override names the rule."""
        table = dict(self.overrides)
        key = _longest(rule, table)
        if key is not None:  # an override beats the defaults; the longest override wins
            return Action(table[key])
        default = default_of(rule).action
        if benign and default is Action.DROP:
            return Action.FLAG
        return default

    def ruff_selection(self) -> tuple[list[str], list[str]]:
        """(select, ignore) for ruff: what some finding could come of, and what none would."""
        select = list(RUFF_LINTERS)
        select += [r for r, a in self.overrides if a != Action.IGNORE and _is_ruff(r)]
        ignore = [p for p, d in _TABLE.items() if d.action is Action.IGNORE and _is_ruff(p)]
        ignore = [p for p in ignore if self.action(p) is Action.IGNORE]
        ignore += [r for r, a in self.overrides if a == Action.IGNORE and _is_ruff(r)]
        return sorted(set(select)), sorted(set(ignore))

    def to_dict(self) -> dict[str, str]:
        return dict(self.overrides)


def _is_ruff(rule: str) -> bool:
    return "/" not in rule and rule[:1].isupper()
