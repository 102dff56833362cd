"""The release policy: which suites must pass, with which margins, and which findings block.

Read from TOML so a team keeps it next to its CI configuration::

    alpha = 0.05
    correction = "holm"
    block = []                 # finding codes that always block
    data_max_bad_fraction = 0.05
    warn = ["data.duplicate"]  # blocking codes a team accepts as warnings
    ignore = []                # codes dropped entirely

    [[suites]]
    name = "retention"
    max_per_language = 60
    margins = { bits_per_byte = "3%" }
    slice_margins = { "bits_per_byte@language=python" = "2%" }
"""

from __future__ import annotations

import inspect
import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.documents import Fields
from tripwire.errors import BadInputError
from tripwire.stats import Margin

_SUITE_KEYS = {"name", "margins", "slice_margins", "n"}
# Suites judged by people, not run on the models (issue #27): read from a review directory.
JUDGED_SUITES = ("human",)
MAX_ALPHA = 0.5
"""The largest significance level a comparison takes (``eval compare --alpha``'s bound)."""
_TOP_KEYS = {"alpha", "correction", "block", "warn", "ignore", "suites", "tokens_audit",
             "data_audit", "data_max_bad_fraction"}  # fmt: skip


@dataclass(frozen=True)
class SuitePolicy:
    """One eval suite the gate runs on both models, and the margins its slices must hold."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    """Passed to the suite (``corpus``, ``max_per_language``, ...); ``corpus`` defaults to the
    baseline model when it is a reference model."""
    margins: dict[str, str] = field(default_factory=dict)
    """Metric -> margin (``"0.02"`` absolute, ``"3%"`` relative to the baseline)."""
    slice_margins: dict[str, str] = field(default_factory=dict)
    """``"metric@slice"`` -> margin, overriding ``margins`` for one slice."""
    n: int | None = None
    """Samples per item for generation suites (None: the suite's default)."""

    def margin_objects(self) -> tuple[dict[str, Margin], dict[tuple[str, str], Margin]]:
        per_metric = {m: Margin.parse(v) for m, v in self.margins.items()}
        per_slice = {}
        for key, v in self.slice_margins.items():
            metric, _, slice_key = key.partition("@")
            per_slice[(metric, slice_key)] = Margin.parse(v)
        return per_metric, per_slice


@dataclass(frozen=True)
class Policy:
    """What a release must satisfy. The default runs the retention suite with a 3% margin."""

    suites: tuple[SuitePolicy, ...] = (
        SuitePolicy("retention", {"max_per_language": 60}, {"bits_per_byte": "3%"}),
    )
    alpha: float = 0.05
    correction: str = "holm"
    block: frozenset[str] = frozenset()
    warn: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    tokens_audit: str = "auto"
    """``auto``: when the tokenizer files or the config (vocabulary size, tying) changed;
    ``always``; ``never``."""
    data_audit: bool = True
    """Audit the candidate's recorded training data (and any ``--data``)."""
    data_max_bad_fraction: float = 0.05
    """Share of training records that may be broken (syntax, truncated, failing their tests,
    mislabelled, not code) before the data blocks the release."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("block", "warn", "ignore"):
            d[key] = sorted(d[key])
        d["suites"] = [asdict(s) for s in self.suites]
        return d

    def sha256(self) -> str:
        return sha256_json(self.to_dict())

    @classmethod
    def from_toml(cls, path: str | Path) -> Policy:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BadInputError(path, f"cannot read policy ({exc.strerror or exc})") from exc
        try:
            # utf-8-sig: a BOM from a Windows editor is not the policy's first character
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInputError(path, f"not UTF-8 text (byte {exc.start}); a policy is TOML, "
                                "UTF-8 encoded") from exc  # fmt: skip
        if not text.strip():
            # valid TOML, but a policy given on purpose is never blank: a failed generation
            # step or the wrong file, which must not pass as "all defaults"
            raise BadInputError(path, "the policy file is empty (leave out --policy for the "
                                "default policy)")  # fmt: skip
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise BadInputError(path, f"not valid TOML ({exc}){_format_hint(text)}") from exc
        except RecursionError as exc:
            raise BadInputError(path, "TOML nested too deeply to read") from exc
        return cls.from_dict(data, path)

    @classmethod
    def from_document(cls, f: Fields) -> Policy:
        """The policy a written gate result records (``to_dict``'s shape: each suite's options
        nested). Read as recorded, not checked against today's suites: it describes a past run."""
        suites = tuple(
            SuitePolicy(s.text("name", "?"), s.mapping("options"),
                        {str(k): str(v) for k, v in s.mapping("margins").items()},
                        {str(k): str(v) for k, v in s.mapping("slice_margins").items()},
                        s.optional_whole("n"))
            for s in f.objects("suites")
        )  # fmt: skip
        default = cls()
        return cls(
            suites=suites,
            alpha=f.number("alpha", default.alpha),
            correction=f.text("correction", default.correction),
            block=frozenset(f.texts("block")),
            warn=frozenset(f.texts("warn")),
            ignore=frozenset(f.texts("ignore")),
            tokens_audit=f.text("tokens_audit", default.tokens_audit),
            data_audit=f.flag("data_audit", default.data_audit),
            data_max_bad_fraction=f.number("data_max_bad_fraction", default.data_max_bad_fraction),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str | Path = "policy") -> Policy:
        """A policy from its TOML tables; a wrong key, type or value is ``BadInputError``
        naming the key, never a silently different policy."""
        if not isinstance(data, dict):
            raise BadInputError(where, f"a policy is a TOML table, got {type(data).__name__}")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise BadInputError(where, f"unknown policy keys: {', '.join(sorted(unknown))}")
        # an explicit `suites = []` runs none (an encoder: tokens and data audits only)
        suites = _suites(data["suites"], where) if "suites" in data else cls.suites
        policy = cls(
            suites=suites,
            alpha=_number(data, "alpha", 0.05, where),
            correction=_word(data, "correction", "holm", where),
            block=_codes(data, "block", where),
            warn=_codes(data, "warn", where),
            ignore=_codes(data, "ignore", where),
            tokens_audit=_word(data, "tokens_audit", "auto", where),
            data_audit=_flag(data, "data_audit", True, where),
            data_max_bad_fraction=_number(data, "data_max_bad_fraction", 0.05, where),
        )
        if not 0 < policy.alpha <= MAX_ALPHA:
            # past 0.5 each slice's two-sided 1 - 2*alpha interval turns inside out, and its
            # near end alone, close to the point estimate, grants a pass
            raise BadInputError(where, f"alpha must be between 0 and 1, at most {MAX_ALPHA} "
                                f"(as in eval compare), got {policy.alpha:g}")  # fmt: skip
        if not 0 <= policy.data_max_bad_fraction <= 1:
            raise BadInputError(where, "data_max_bad_fraction must be between 0 and 1 (a share "
                                f"of records), got {policy.data_max_bad_fraction:g}")  # fmt: skip
        if policy.correction not in ("holm", "bh", "none"):
            raise BadInputError(where, "correction must be holm, bh or none")
        if policy.tokens_audit not in ("auto", "always", "never"):
            raise BadInputError(where, "tokens_audit must be auto, always or never")
        _one_list_per_code(policy, where)
        return policy


def _shown(value: Any) -> str:
    """A value in an error line, cut short: a policy may hold a whole file in one string."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _format_hint(text: str) -> str:
    """What a policy in another format looks like, said with the TOML error."""
    text = text.lstrip()
    first = text.partition("\n")[0]
    if text.startswith("{"):
        other = "JSON"
    elif text.startswith("---") or (":" in first and "=" not in first):
        other = "YAML"
    else:
        return ""
    return f"; this looks like {other}: a policy is TOML (alpha = 0.05, [[suites]] ...)"


def _number(data: dict[str, Any], key: str, default: float, where: str | Path) -> float:
    value = data.get(key, default)
    # bool is an int in Python; `alpha = true` is a mistake, not 1.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInputError(where, f"{key} must be a number, got {_shown(value)}")
    return float(value)


def _word(data: dict[str, Any], key: str, default: str, where: str | Path) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise BadInputError(where, f"{key} must be a string, got {_shown(value)}")
    return value


def _flag(data: dict[str, Any], key: str, default: bool, where: str | Path) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):  # bool("no") is True: a quoted word would mean yes
        raise BadInputError(where, f"{key} must be true or false, got {_shown(value)}")
    return value


def _codes(data: dict[str, Any], key: str, where: str | Path) -> frozenset[str]:
    value = data.get(key, [])
    # a bare string would be read as the set of its characters, matching no code at all
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise BadInputError(where, f"{key} must be a list of finding codes (strings), got "
                            f"{_shown(value)}")  # fmt: skip
    return frozenset(value)


def _one_list_per_code(policy: Policy, where: str | Path) -> None:
    """A code in two of block / warn / ignore has one effect the reader of the file did not
    expect (ignore wins, then block): say so instead of choosing."""
    lists = {"block": policy.block, "warn": policy.warn, "ignore": policy.ignore}
    for a, b in (("block", "warn"), ("block", "ignore"), ("warn", "ignore")):
        both = sorted(lists[a] & lists[b])
        if both:
            raise BadInputError(where, f"{', '.join(both)} listed in both {a} and {b}")


def _suites(raw: Any, where: str | Path) -> tuple[SuitePolicy, ...]:
    if not isinstance(raw, list):
        got = "a table ([suites]; write [[suites]])" if isinstance(raw, dict) else repr(raw)
        raise BadInputError(where, f"suites must be an array of tables ([[suites]]), got {got}")
    suites = tuple(_suite(entry, i, where) for i, entry in enumerate(raw))
    names = [s.name for s in suites]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # each suite's checks, findings and CI cases are named after it
        raise BadInputError(where, f"[[suites]] {', '.join(twice)} given more than once")
    return suites


def _suite(raw: Any, i: int, where: str | Path) -> SuitePolicy:
    if not isinstance(raw, dict):
        raise BadInputError(where, f"suites[{i}] must be a table ([[suites]]), got {_shown(raw)}")
    name = raw.get("name")
    if name is None:
        raise BadInputError(where, f"every [[suites]] entry needs a name (suites[{i}] has none)")
    if not isinstance(name, str):
        raise BadInputError(where, f"suites[{i}].name must be a string, got {_shown(name)}")
    n = raw.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise BadInputError(where, f"[[suites]] {name}: n (samples per item) must be a whole "
                            f"number of at least 1, got {_shown(n)}")  # fmt: skip
    sp = SuitePolicy(
        name=name,
        options={k: v for k, v in raw.items() if k not in _SUITE_KEYS},
        margins=_margin_table(raw, "margins", name, where),
        slice_margins=_margin_table(raw, "slice_margins", name, where),
        n=n,
    )
    metrics = _suite_metrics(sp, where)
    for key in sp.margins:
        _known_metric(sp.name, "margins", key, key, metrics, where)
    for key in sp.slice_margins:
        metric, at, slice_key = key.partition("@")
        if not at or not (slice_key == "all" or "=" in slice_key):
            raise BadInputError(where, f"[[suites]] {name}: slice_margins key {_shown(key)} is not "
                                '"metric@slice" (a slice is "all" or "name=value", as in '
                                '"bits_per_byte@language=python")')  # fmt: skip
        _known_metric(sp.name, "slice_margins", key, metric, metrics, where)
    _crossable_margins(sp, where)
    return sp


def _crossable_margins(sp: SuitePolicy, where: str | Path) -> None:
    """A margin no regression can cross (``pass = 1``) makes the suite pass whatever the
    candidate does: a policy typo (1 for 1%), not a release rule."""
    from tripwire.evals import suite_class
    from tripwire.evals._compare import margin_problem

    cls = suite_class(sp.name)
    if cls is None:  # judged suites: their own margins
        return
    given = [(k, k, v) for k, v in sp.margins.items()]
    given += [(k.partition("@")[0], k, v) for k, v in sp.slice_margins.items()]
    for metric, key, value in given:
        problem = margin_problem(cls.metrics[metric], Margin.parse(value))
        if problem:
            raise BadInputError(where, f"[[suites]] {sp.name}: margin {key} = {_shown(value)}: "
                                f"{problem}")  # fmt: skip


def _margin_table(raw: dict[str, Any], key: str, suite: str, where: str | Path) -> dict[str, str]:
    """``margins`` or ``slice_margins``: each a number or a percentage, checked here so a
    negative or meaningless margin is not a comparison nobody can pass (or fail)."""
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise BadInputError(where, f"[[suites]] {suite}: {key} must be a table such as "
                            f'{{ bits_per_byte = "3%" }}, got {_shown(table)}')  # fmt: skip
    out = {}
    for name, value in table.items():
        place = f"[[suites]] {suite}: {key}.{name}"
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadInputError(where, f"invalid policy ({place} must be a number or a "
                                f'percentage such as "3%", got {_shown(value)})')  # fmt: skip
        try:
            margin = Margin.parse(str(value))
        except ValueError as exc:
            raise BadInputError(where, f"invalid policy ({place}: {exc})") from None
        if not math.isfinite(margin.value) or margin.value < 0:
            raise BadInputError(where, f"{place} must be a margin of 0 or more, got "
                                f"{_shown(value)}")  # fmt: skip
        if margin.relative and margin.value > 1:
            raise BadInputError(where, f"{place} is more than 100% of the baseline "
                                f"({_shown(value)}): no regression could cross it")  # fmt: skip
        out[str(name)] = str(value)
    return out


def _suite_metrics(sp: SuitePolicy, where: str | Path) -> set[str]:
    """The metrics a margin may name; an unknown suite, or an option it does not take or
    cannot use, is bad input here, before any work."""
    from tripwire.evals import BUILTIN_SUITES, SUITES, suite_class, suite_options

    if sp.name in JUDGED_SUITES:  # it checks its own keys
        from tripwire.review._pairwise import QUESTIONS

        return set(QUESTIONS)
    cls = suite_class(sp.name)
    if cls is None:
        known = ", ".join(sorted({*SUITES, *BUILTIN_SUITES, *JUDGED_SUITES}))
        raise BadInputError(where, f"[[suites]] {sp.name}: unknown suite (known: {known})")
    params = suite_options(cls)
    _known_keys(sp, set(params), where)
    for key, value in sp.options.items():
        problem = _option_problem(params[key], value)
        if problem:
            raise BadInputError(where, f"[[suites]] {sp.name}: {key} {problem}, got "
                                f"{_shown(value)}")  # fmt: skip
    return set(cls.metrics)


def _option_problem(param: inspect.Parameter, value: Any) -> str | None:
    """What is wrong with a suite option's TOML value, read from the suite's signature: the
    suites take them as given, so a quoted number or a zero failed deep inside a run (a
    TypeError, a ZeroDivisionError) after the baseline had been scored."""
    kind = str(param.annotation)
    if kind == "int":
        least = 0 if param.default == 0 else 1  # counts and sizes; an overlap may be 0
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            return f"must be a whole number of at least {least}"
    elif kind.startswith("str | Path"):
        if not isinstance(value, str) or not value:
            return "must be a path (a string)"
    elif kind.startswith("Sequence[str]"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of strings"
    elif "Sandbox" in kind:
        return "is not set in a policy (tripwire makes the sandbox)"
    return None


def _known_metric(
    suite: str, key: str, name: str, metric: str, metrics: set[str], where: str | Path
) -> None:
    """A misspelt metric's margin would be dropped and the default used in its place."""
    if metric not in metrics:
        raise BadInputError(where, f"[[suites]] {suite}: {key}.{name} names no metric of the "
                            f"suite (it has: {', '.join(sorted(metrics))})")  # fmt: skip


def _known_keys(sp: SuitePolicy, accepted: set[str], where: str | Path) -> None:
    """A ``[[suites]]`` key the suite does not take is a typo to report, not an option to drop
    (the suites ignore options they do not take: the CLI passes them all)."""
    unknown = sorted(set(sp.options) - accepted)
    if unknown:
        takes = sorted(accepted | _SUITE_KEYS - {"name"})
        raise BadInputError(where, f"[[suites]] {sp.name}: unknown key(s) {', '.join(unknown)} "
                            f"(it takes: {', '.join(takes)})")  # fmt: skip
