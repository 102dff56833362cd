"""`tripwire gate`: one release decision for a candidate model against its baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.artifacts import cannot_write, write_text_atomic
from tripwire.cli import _memory, _pair
from tripwire.cli._output import context, emit_json, err, out, progress_bar, quiet
from tripwire.errors import BadInputError

if TYPE_CHECKING:
    from tripwire.gate import GateResult

GATE_EPILOG = (
    "Example: tripwire gate --baseline ./models/v1 --candidate ./models/v2 --policy gate.toml "
    "--report gate.html --json gate.json --junit gate.xml --markdown gate.md"
)
_BASE_HELP = "The model in production (local HF directory)."
_CAND_HELP = "The model that would replace it."
_COLOUR = {"pass": "green", "warn": "yellow", "block": "red"}


def _safe(value: Any) -> str:
    """Untrusted text for rich: markup escaped, and what no terminal encoding can write (a lone
    surrogate from a directory name that is not UTF-8) replaced."""
    from tripwire.report import scrub

    return escape(scrub(str(value)))


def render_summary(result: dict[str, Any]) -> None:
    """The verdict, what changed, the root cause and the slices that decided it. Names,
    messages and paths are escaped: rich would read ``[/]`` in a model's name as markup."""
    verdict = result["verdict"]
    cached = "  (cached)" if result["cached"] else ""
    names = _safe(f"{result['candidate']['name']} vs {result['baseline']['name']}")
    out.rule(f"[bold {_COLOUR[verdict]}]{verdict.upper()}[/]  {names}{cached}")
    changes = result["lineage"]["changes"]
    out.print(_safe("changed: " + ("; ".join(f"{c['component']} ({c['detail']})" for c in changes)
                                    or "nothing")), highlight=False)  # fmt: skip
    out.print(_safe(f"checks: {', '.join(result['checks_run'])}"), highlight=False)
    rc = result["root_cause"]
    if rc:
        cause = _safe(f"({rc['source']}, {rc['code']}): {rc['message']}")
        out.print(f"[bold]root cause[/] {cause}", highlight=False)
        out.print(f"[bold]remedy:[/] {_safe(rc['remedy'])}", highlight=False, soft_wrap=True)
    rows = [
        (e["suite"], s)
        for e in result["evals"]
        for s in e["slices"]
        if s["status"] != "pass" or s["slice"] == "all"
    ]
    if rows:
        t = Table(title="eval slices (all, and any not passing)")
        for col in ("suite", "metric", "slice", "n", "baseline", "candidate", "delta [CI]", "MDE",
                    "status"):  # fmt: skip
            t.add_column(col)
        for suite, s in rows:
            look = f" (look {s['look']})" if s.get("look") else ""
            t.add_row(_safe(suite), _safe(s["metric"]), _safe(s["slice"]), f"{s['n']}{look}",
                      f"{s['baseline']:.4g}", f"{s['candidate']:.4g}",
                      f"{s['delta']:+.3g} [{s['ci_low']:+.3g}, {s['ci_high']:+.3g}]",
                      f"{s.get('mde', float('nan')):.3g}", s["status"])  # fmt: skip
        out.print(t)
    for e in result["evals"]:
        if e["slices"]:
            seq = e.get("sequential")
            why = f"; sequential: {seq['why']}" if seq else ""
            corpus = e.get("corpus")
            on = f" of {corpus['source']} ({corpus['path']})" if corpus else ""
            out.print(_safe(f"{e['suite']}: {e.get('items', '?')} items{on}{why}"),
                      highlight=False)  # fmt: skip
    others = [f for f in result["findings"] if f["severity"] != "info"]
    if others:
        out.print(f"{len(others)} finding(s):")
        for f in others[:20]:
            out.print(_safe(f"  {f['severity']:<5} {f['code']}: {f['message']}"), highlight=False)


def report_crashes(result: dict[str, Any], debug: bool) -> None:
    """Checks that crashed (a tripwire bug) are findings, so the outputs are still written; say
    so on stderr too, with the traceback under --debug."""
    for f in result["findings"]:
        if f["code"].endswith(".internal_error"):
            err.print(f"[red]internal error:[/] {_safe(f['code'])}: "
                      f"{_safe(str(f['evidence']['error']))}",
                      highlight=False, soft_wrap=True)  # fmt: skip
            if debug:
                err.print(f["evidence"]["traceback"], highlight=False, markup=False, soft_wrap=True)


def check_outputs(paths: dict[str, Path | None], inputs: list[tuple[str, Path | None]]) -> None:
    """Every file the gate was asked to write can be written, checked before the gate runs
    (minutes of evals) rather than after, so a bad path is exit 2 with nothing written, not
    a crash that CI reads as exit 1 (block); and none of them overwrites one of its
    ``inputs`` (the policy, the data, a model's files)."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None or str(path) == "-":
            continue
        where = path.resolve()
        if where in seen:
            raise BadInputError(path, f"given to both {seen[where]} and {option}")
        seen[where] = option
        for what, given in inputs:
            if given is not None and overwrites(where, given):
                raise BadInputError(path, f"{option} would overwrite {what} ({given})")
        if path.is_dir():
            raise BadInputError(path, f"{option}: is a directory, not a file to write")
        if path.exists() and not path.is_file():
            continue  # /dev/null, a pipe: written through (see tripwire.artifacts.atomic_path)
        _probe(option, path)


def overwrites(output: Path, given: Path) -> bool:
    """``output`` (resolved) is the input file, or a file already in the input folder (a
    model's config or manifest); a new file next to a model's files is the user's choice."""
    inside = given.is_dir() and output.is_relative_to(given.resolve()) and output.exists()
    return output == given.resolve() or inside


def _probe(option: str, path: Path) -> None:
    problem = cannot_write(path)
    if problem is not None:
        raise BadInputError(path, f"{option}: {problem}")


def write_outputs(
    result: GateResult,
    report: Path | None,
    junit: Path | None,
    markdown: Path | None,
) -> None:
    from tripwire.report import gate_junit, gate_markdown, render_gate_html

    # every document rendered before any is written: a failure leaves none of them behind
    renderers = ((report, render_gate_html), (junit, gate_junit), (markdown, gate_markdown))
    documents = [(path, render(result)) for path, render in renderers if path]
    for path, text in documents:
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise BadInputError(path, f"cannot write here ({exc.strerror or exc})") from exc


def gate(
    ctx: typer.Context,
    baseline_arg: Path | None = _pair.argument("baseline", _BASE_HELP),
    candidate_arg: Path | None = _pair.argument("candidate", _CAND_HELP),
    baseline: Path | None = _pair.option("baseline", _BASE_HELP),
    candidate: Path | None = _pair.option("candidate", _CAND_HELP),
    data: list[Path] = typer.Option(
        [],
        help="Training data to audit (JSONL/Parquet); repeatable. The candidate's recorded "
        "training data is audited anyway when it still exists.",
    ),
    policy: Path | None = typer.Option(None, help="Policy TOML (suites, margins, alpha, codes)."),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
    junit: Path | None = typer.Option(None, help="Write JUnit XML here (for CI)."),
    markdown: Path | None = typer.Option(None, help="Write a markdown summary (PR comment)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-run every check."),
    sequential: bool = typer.Option(
        False, "--sequential", help="Score suites in batches; stop once every slice is decided."
    ),
    looks: int = typer.Option(5, "--looks", min=2, help="--sequential: batches (looks)."),
    order_seed: int = typer.Option(0, "--order-seed", help="--sequential: the items' order."),
    max_memory: str | None = _memory.option(),
) -> None:
    """Decide whether CANDIDATE may replace BASELINE: pass, warn or block, with the root cause.

    BASELINE and CANDIDATE are given positionally or as --baseline/--candidate.

    Reads both manifests to see what changed (tokenizer, weights, config, training data and
    configuration), runs the tokens audit when the tokenizer or embeddings changed, audits the
    training data, runs the policy's eval suites on both models and compares them slice by slice.
    Exit 0 on pass or warn, 1 on block, 2 on bad input. Results are cached by artifact hash.
    With --sequential both models score each suite in seeded batches and a suite stops once
    every slice is decided (group-sequential levels; see `eval compare-models`).
    """
    from tripwire.gate import Policy
    from tripwire.gate import gate as run_gate

    base, cand = _pair.resolve((baseline_arg, candidate_arg), baseline, candidate)
    assert cand is not None
    ctx.with_resource(_memory.budget(max_memory))  # every model the gate loads, one at a time

    pol = Policy.from_toml(policy) if policy else Policy()
    inputs = [("the policy", policy), ("the baseline", base), ("the candidate", cand),
              *(("the training data", p) for p in data)]  # fmt: skip
    check_outputs({"--report": report, "--junit": junit, "--markdown": markdown,
                   "--json": json_path}, inputs)  # fmt: skip
    registry = context(ctx).registry()
    plan = None
    if sequential:
        from tripwire.evals import SequentialPlan

        plan = SequentialPlan(looks=looks, seed=order_seed)
    with progress_bar(not quiet(json_path)) as progress:
        result = run_gate(
            base, cand, data=data, policy=pol, registry=registry, progress=progress,
            use_cache=not no_cache, sequential=plan,
        )  # fmt: skip
    d = result.to_dict()
    write_outputs(result, report, junit, markdown)
    report_crashes(d, context(ctx).debug)
    if not quiet(json_path):
        render_summary(d)
        for label, path in (("report", report), ("junit", junit), ("markdown", markdown)):
            if path:
                err.print(f"{label}: {_safe(path)}", highlight=False)
    emit_json(json_path, d)
    raise typer.Exit(result.exit_code)
