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

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.documents import Fields
from tripwire.errors import BadInputError
from tripwire.stats import Margin

_SUITE_KEYS = {"name", "margins", "slice_margins", "n"}
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
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadInputError(path, f"cannot read policy ({exc.strerror or exc})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise BadInputError(path, f"not valid TOML ({exc})") from exc
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
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise BadInputError(where, f"unknown policy keys: {', '.join(sorted(unknown))}")
        try:
            # an explicit `suites = []` runs none (an encoder: tokens and data audits only)
            suites = tuple(_suite(s) for s in data["suites"]) if "suites" in data else cls.suites
            policy = cls(
                suites=suites,
                alpha=float(data.get("alpha", 0.05)),
                correction=str(data.get("correction", "holm")),
                block=frozenset(map(str, data.get("block", []))),
                warn=frozenset(map(str, data.get("warn", []))),
                ignore=frozenset(map(str, data.get("ignore", []))),
                tokens_audit=str(data.get("tokens_audit", "auto")),
                data_audit=bool(data.get("data_audit", True)),
                data_max_bad_fraction=float(data.get("data_max_bad_fraction", 0.05)),
            )
            for s in policy.suites:
                s.margin_objects()
        except (TypeError, ValueError, KeyError) as exc:
            raise BadInputError(where, f"invalid policy ({exc})") from exc
        for s in policy.suites:
            _known_keys(s, where)
        if not 0 < policy.alpha < 1:
            raise BadInputError(where, "alpha must be between 0 and 1")
        if policy.correction not in ("holm", "bh", "none"):
            raise BadInputError(where, "correction must be holm, bh or none")
        if policy.tokens_audit not in ("auto", "always", "never"):
            raise BadInputError(where, "tokens_audit must be auto, always or never")
        return policy


def _known_keys(sp: SuitePolicy, where: str | Path) -> None:
    """A ``[[suites]]`` key the suite does not take is a typo to report, not an option to drop
    (the suites ignore options they do not take: the CLI passes them all). A suite people judge
    checks its own keys; an unknown suite is reported when the gate plans its suites."""
    import inspect

    from tripwire.evals import suite_class

    cls = suite_class(sp.name)
    if cls is None:
        return
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(sp.options) - accepted)
    if unknown:
        takes = sorted(accepted | _SUITE_KEYS - {"name"})
        raise BadInputError(where, f"[[suites]] {sp.name}: unknown key(s) {', '.join(unknown)} "
                            f"(it takes: {', '.join(takes)})")  # fmt: skip


def _suite(raw: dict[str, Any]) -> SuitePolicy:
    if "name" not in raw:
        raise KeyError("every [[suites]] entry needs a name")
    return SuitePolicy(
        name=str(raw["name"]),
        options={k: v for k, v in raw.items() if k not in _SUITE_KEYS},
        margins={str(k): str(v) for k, v in raw.get("margins", {}).items()},
        slice_margins={str(k): str(v) for k, v in raw.get("slice_margins", {}).items()},
        n=raw.get("n"),
    )
