"""`tripwire eval power`: the items per slice `eval compare`'s rule needs, for the claim wanted.

The statistics are in ``tripwire.stats._power``; this reads the options (or a gate policy),
prints the plan and writes its JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tripwire.cli._output import emit_json, out, quiet
from tripwire.errors import BadInputError

if TYPE_CHECKING:
    from tripwire.gate import Policy
    from tripwire.stats import PowerPlan, Scenario

EPILOG = (
    "Example: tripwire eval power --metric pass --base-rate 0.6 --drop 0.05 --discordance 0.15 "
    "--slices 5   |   tripwire eval power --policy gate.toml --suite retention --shift 0.04 "
    "--sd 0.3 --correlation 0.95 --mean 2.1   |   ... --items 164 (chances at a given size)"
)
_CLAIMS = {"both": ("regression", "pass"), "regression": ("regression",), "pass": ("pass",)}


@dataclass(frozen=True)
class _Rule:
    """What the comparison will be judged by: from the options, or from a policy's suite."""

    kind: str  # "pass" (pass/fail items) or "score"
    metric: str
    margin: str
    alpha: float
    correction: str
    slices: int
    suite: dict[str, Any] | None = None
    """The policy's suite as built: its slices and their items (None without a policy)."""


def _suite_entry(policy: Policy, name: str | None, where: Path) -> Any:
    names = [s.name for s in policy.suites]
    if name is None:
        if len(names) != 1:
            raise BadInputError(
                "--suite", f"the policy {where} runs {', '.join(names) or 'no suite'}: name one"
            )
        return policy.suites[0]
    for s in policy.suites:
        if s.name == name:
            return s
    raise BadInputError(
        "--suite", f"{name!r} is not among the policy's suites ({', '.join(names)})"
    )


def _count_slices(entry: Any, metrics: list[str], corpus: Path | None) -> dict[str, Any] | None:
    """The suite's slices as ``compare`` will judge them, when the suite can be built here."""
    from tripwire.evals import get_suite
    from tripwire.evals._compare import slice_keys

    options = dict(entry.options)
    if corpus is not None:
        options["corpus"] = corpus
    if entry.name in ("retention", "completion") and "corpus" not in options:
        return None
    tasks = get_suite(entry.name, **options).tasks()
    keys = slice_keys(t.slices for t in tasks)
    from tripwire.evals._compare import in_slice

    sizes = {k: sum(1 for t in tasks if in_slice(t.slices, k)) for k in keys}
    smallest = min(sizes, key=lambda k: sizes[k])
    return {
        "name": entry.name,
        "comparisons": len(keys) * len(metrics),
        "items": len(tasks),
        "slices": sizes,
        "smallest_slice": smallest,
    }


def _rule(
    metric: str | None,
    margin: str | None,
    alpha: float | None,
    correction: str | None,
    slices: int | None,
    policy_path: Path | None,
    suite_name: str | None,
    corpus: Path | None,
) -> _Rule:
    if policy_path is None:
        if suite_name is not None or corpus is not None:
            raise BadInputError("--suite" if suite_name else "--corpus", "needs --policy")
        kind = metric or "pass"
        if kind not in ("pass", "score"):
            raise BadInputError("--metric", f"expected pass or score, got {kind!r}")
        return _Rule(
            kind,
            kind,
            margin or ("0.02" if kind == "pass" else "1%"),
            0.05 if alpha is None else alpha,
            correction or "holm",
            slices or 1,
        )
    from tripwire.evals import suite_class
    from tripwire.gate import Policy

    policy = Policy.from_toml(policy_path)
    entry = _suite_entry(policy, suite_name, policy_path)
    cls = suite_class(entry.name)
    if cls is None:
        raise BadInputError(policy_path, f"unknown suite {entry.name!r}")
    name = metric or next(iter(cls.metrics))
    if name not in cls.metrics:
        raise BadInputError(
            "--metric", f"{entry.name} measures {', '.join(cls.metrics)}, not {name!r}"
        )
    spec = cls.metrics[name]
    counted = None if slices is not None else _count_slices(entry, list(cls.metrics), corpus)
    if slices is None and counted is None:
        raise BadInputError(
            "--slices",
            f"the policy's {entry.name} suite names no corpus to count "
            "its slices from: give --slices or --corpus",
        )
    return _Rule(
        "pass" if spec.binary else "score",
        name,
        margin or entry.margins.get(name, spec.default_margin),
        policy.alpha if alpha is None else alpha,
        correction or policy.correction,
        slices if slices is not None else counted["comparisons"],  # type: ignore[index]
        counted,
    )


def _scenario(
    rule: _Rule,
    base_rate: float,
    drop: float | None,
    discordance: float | None,
    shift: float,
    sd: float,
    correlation: float,
    mean: float | None,
    claims: tuple[str, ...],
) -> Scenario:
    from tripwire.stats import Margin, Scenario

    try:
        m = Margin.parse(rule.margin)
    except ValueError as exc:
        raise BadInputError("--margin", str(exc)) from exc
    if rule.kind == "pass":
        size = drop if drop is not None else 0.05
        disc = discordance if discordance is not None else min(1.0, 2 * size)
        margin = m.absolute(base_rate)
        return Scenario("pass", margin, size if "regression" in claims else None, base_rate, disc)
    if not -1 < correlation < 1 or sd <= 0:
        raise BadInputError("--correlation", "need --sd > 0 and -1 < --correlation < 1")
    if m.relative and mean is None:
        raise BadInputError("--mean", f"the margin {m} is relative: give the baseline's mean score")
    margin = m.absolute(mean or 0.0)
    sd_diff = sd * (2 * (1 - correlation)) ** 0.5
    return Scenario(
        "score", margin, shift if "regression" in claims else None, sd_diff=sd_diff, sd_item=sd
    )


def _print(p: PowerPlan, rule: _Rule) -> None:
    corr = f", {rule.correction} across them" if rule.slices > 1 else ""
    out.print(
        f"compare's rule: margin {p.margin:g} ({rule.metric}), alpha {p.alpha:g}, "
        f"{rule.slices} slice comparison(s){corr}",
        highlight=False,
    )
    for claim in p.sized_for:
        c = p.claims[claim]
        out.print(
            f"  {claim:<10} {c.items:>7} items per slice: {c.scenario} "
            f"(power {c.power:.3f}; slices tested at {c.level:.3g})",
            highlight=False,
        )
    b = p.claims[p.binding]
    which = f" (the {p.binding} claim needs the most)" if len(p.sized_for) > 1 else ""
    out.print(
        f"sized for {' and '.join(p.sized_for)}: [bold]{p.items}[/] items per slice{which}",
        highlight=False,
    )
    out.print(
        f"an unpaired design needs about {b.unpaired_items} items per model and slice "
        f"({b.unpaired_items / p.items:.1f}x)",
        highlight=False,
    )


def _suite_check(rule: _Rule, s: Scenario, power_: float, show: bool) -> dict[str, Any] | None:
    """At the policy suite's own size: each claim's chance in its smallest slice."""
    from tripwire.stats import chances_at

    if rule.suite is None:
        return None
    smallest = rule.suite["smallest_slice"]
    n = rule.suite["slices"][smallest]
    corr: Any = rule.correction
    chances = chances_at(s, n, slices=rule.slices, alpha=rule.alpha, correction=corr)
    if show:
        said = ", ".join(f"{k} {v:.2f}" for k, v in chances.items())
        short = [k for k, v in chances.items() if v < power_]
        verdict = f"short of {power_:g} for {', '.join(short)}" if short else "enough"
        out.print(
            f"the policy's {rule.suite['name']} suite: {n} items in its smallest slice "
            f"({smallest}): chances there {said}: {verdict}",
            highlight=False,
        )
    return {**rule.suite, "chances_in_smallest_slice": chances}


def power(
    metric: str | None = typer.Option(
        None, help="pass (pass/fail items) or score; with --policy, a metric of the suite."
    ),
    base_rate: float = typer.Option(0.5, help="pass: the baseline's pass rate."),
    drop: float | None = typer.Option(
        None, help="pass: the pass-rate drop to catch (past the margin; default 0.05)."
    ),
    discordance: float | None = typer.Option(
        None, help="pass: share of items the two models disagree on (default: 2 x drop)."
    ),
    shift: float = typer.Option(0.04, help="score: the worsening to catch (metric units)."),
    sd: float = typer.Option(0.3, help="score: spread of the per-item score for one model."),
    correlation: float = typer.Option(0.9, help="score: agreement of the two models per item."),
    mean: float | None = typer.Option(
        None, help="score: the baseline's mean score (for a relative margin such as 1%)."
    ),
    margin: str | None = typer.Option(
        None, help="The compare margin: 0.02 or 1% (default: the metric's, or the policy's)."
    ),
    slices: int | None = typer.Option(
        None, min=1, help="Slice comparisons the correction runs over (rows of compare's table)."
    ),
    correction: str | None = typer.Option(None, help="holm, bh or none (default: holm)."),
    claim: str = typer.Option(
        "both", help="Size for: regression (catch the drop), pass (show no drop), or both."
    ),
    policy: Path | None = typer.Option(
        None, "--policy", help="A gate policy: margin, alpha, correction and slices from it."
    ),
    suite: str | None = typer.Option(None, "--suite", help="With --policy: which suite."),
    corpus: Path | None = typer.Option(
        None, "--corpus", help="With --policy: the corpus to count a suite's slices from."
    ),
    items: int | None = typer.Option(
        None, "--items", min=1, help="Instead of sizing: the chances at this many items per slice."
    ),
    alpha: float | None = typer.Option(None, help="Significance level (default 0.05)."),
    power_: float = typer.Option(0.8, "--power", help="Wanted chance of each claim."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """How many items per slice `eval compare` needs, sized for its own rule: a regression
    past the margin after the correction across slices, or a pass (non-inferiority) on every
    slice when nothing dropped. Pass/fail power is exact (only the discordant items count);
    score power is the paired t's. Says which claim it sized and what each one needs."""
    from tripwire.stats import Scenario, plan
    from tripwire.stats._power import MAX_ITEMS

    if claim not in _CLAIMS:
        raise BadInputError("--claim", f"expected regression, pass or both, got {claim!r}")
    if correction is not None and correction not in ("holm", "bh", "none"):
        raise BadInputError("--correction", f"expected holm, bh or none, got {correction!r}")
    if alpha is not None and not 0 < alpha < 0.5:
        raise BadInputError("--alpha", f"must lie between 0 and 0.5, got {alpha:g}")
    if items is not None and items > MAX_ITEMS:
        # the exact pass/fail chances take time linear in the items: 1e11 would never return
        raise BadInputError("--items", f"at most {MAX_ITEMS} items per slice, got {items}")
    if not 0 < power_ < 1:
        raise BadInputError("--power", f"must lie between 0 and 1, got {power_:g}")
    _check_numbers(base_rate=base_rate, drop=drop, discordance=discordance, shift=shift, sd=sd,
                   correlation=correlation, mean=mean)  # fmt: skip
    show = not quiet(json_path)
    rule = _rule(metric, margin, alpha, correction, slices, policy, suite, corpus)
    claims = _CLAIMS[claim] if items is None else ("regression", "pass")
    s = _scenario(rule, base_rate, drop, discordance, shift, sd, correlation, mean, claims)
    corr: Any = rule.correction
    try:
        if items is not None:
            detect = Scenario(s.metric, s.margin, None, s.base_rate, s.discordance, s.sd_diff)
            data = _at_items(s, detect, items, rule, power_, show)
        else:
            p = plan(
                s,
                claims=claims,
                slices=rule.slices,
                alpha=rule.alpha,  # type: ignore[arg-type]
                correction=corr,
                power=power_,
            )
            if show:
                _print(p, rule)
            b = p.claims[p.binding]
            data = {
                "paired_items": p.items,
                "unpaired_items_per_model": b.unpaired_items,
                "ratio": b.unpaired_items / p.items,
                "detects": b.scenario,
                **p.to_dict(),
            }
            data["suite"] = _suite_check(rule, s, power_, show)
    except OverflowError as exc:
        # a level so small that 1 - level rounds to 1 has an infinite z
        raise BadInputError("--alpha", f"alpha {rule.alpha:g} over {rule.slices} slice(s) is "
                            "too small a significance level to size for")  from exc  # fmt: skip
    except ValueError as exc:
        text = str(exc)
        drop_option = "--drop" if rule.kind == "pass" else "--shift"
        where = (
            drop_option if "drop" in text else "--discordance" if "discordance" in text else "power"
        )
        raise BadInputError(where, str(exc)) from exc
    data.update({"metric_name": rule.metric, "policy": str(policy) if policy else None})
    emit_json(json_path, data)


def _check_numbers(**values: float | None) -> None:
    """Each number option finite and in its range, named as the user typed it: NaN would
    otherwise surface as a conversion error deep in the sizing, naming nothing."""
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise BadInputError(
                f"--{name.replace('_', '-')}", f"must be a finite number, got {value}"
            )
    if not 0 < values["base_rate"] < 1:  # type: ignore[operator]
        raise BadInputError(
            "--base-rate", f"must lie strictly between 0 and 1, got {values['base_rate']:g}"
        )
    if values["discordance"] is not None and not 0 < values["discordance"] <= 1:
        raise BadInputError("--discordance", f"must lie in (0, 1], got {values['discordance']:g}")
    if values["sd"] <= 0:  # type: ignore[operator]
        raise BadInputError("--sd", f"must be above 0, got {values['sd']:g}")
    if not -1 < values["correlation"] < 1:  # type: ignore[operator]
        raise BadInputError(
            "--correlation", f"must lie strictly between -1 and 1, got {values['correlation']:g}"
        )


def _at_items(
    s: Scenario, detect: Scenario, n: int, rule: _Rule, power_: float, show: bool
) -> dict[str, Any]:
    """The chances of each claim at ``n`` items per slice, and the drop they would catch."""
    from tripwire.stats import chances_at, detectable_drop

    corr: Any = rule.correction
    chances = chances_at(s, n, slices=rule.slices, alpha=rule.alpha, correction=corr)
    mde = detectable_drop(
        detect, n, slices=rule.slices, alpha=rule.alpha, correction=corr, power=power_
    )
    if show:
        out.print(
            f"at {n} items per slice ({rule.slices} slice comparison(s), margin "
            f"{s.margin:g}, alpha {rule.alpha:g}, {rule.correction}):",
            highlight=False,
        )
        for k, v in chances.items():
            out.print(f"  {k:<10} chance {v:.3f}", highlight=False)
        out.print(
            f"  catches a drop of {mde:.4g} with chance {power_:g}"
            if mde < 1
            else "  catches no drop with that chance",
            highlight=False,
        )
    return {
        "items": n,
        "chances": chances,
        # none (a score slice under 10 items): null, as JSON has no Infinity
        "detectable_drop": mde if math.isfinite(mde) else None,
        "slices": rule.slices,
        "alpha": rule.alpha,
        "correction": rule.correction,
        "margin": s.margin,
        "power": power_,
    }
