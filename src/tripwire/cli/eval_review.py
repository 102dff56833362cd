"""`tripwire eval review`: people judge two models' answers side by side, blinded and in random
order; their judgements give win/tie/loss with intervals, agreement, per-slice results, and a
suite the gate can take (`name = "human"` in the policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.cli import _pair
from tripwire.cli._output import emit_json, out, progress_bar, quiet
from tripwire.cli._review import (
    DefaultGroup,
    add_common,
    check_outputs,
    open_review,
    parse_users,
    port_option,
    print_tokens,
    serve_review,
    users_option,
    write_report,
)

app = typer.Typer(
    cls=DefaultGroup,
    no_args_is_help=True,
    help="Human evaluation of two models: make blinded pairs (the default command), serve "
    "them, export them, import judgements.",
)
CREATE_EPILOG = (
    "Example: tripwire eval review hf:./base hf:./candidate --suite completion --corpus ./base "
    "--items 60 --out review/ --reviewer ana --reviewer ben --serve"
)


def render_results(r: dict[str, Any]) -> None:
    from tripwire.review._agreement import kappa_text

    out.print(
        f"{r['decided']} of {r['items']} pairs judged: {r['models']['candidate']} "
        f"(candidate) against {r['models']['baseline']} (baseline)",
        highlight=False,
        markup=False,
    )
    t = Table(title=f"candidate wins / ties / losses ({r['confidence']:.0%} Wilson intervals)")
    for col in ("question", "slice", "n", "win", "tie", "loss", "net", "sign test p"):
        t.add_column(col)
    for q, d in r["questions"].items():
        for key, s in d["slices"].items():
            if not s["items"]:
                continue
            cell = [
                f"{s[k]['share']:.0%} [{s[k]['low']:.0%}, {s[k]['high']:.0%}]"
                for k in ("win", "tie", "loss")
            ]
            t.add_row(
                escape(q),
                escape(key),
                str(s["items"]),
                *cell,
                f"{s['net_preference']:+.2f}",
                f"{s['sign_test_p']:.3g}",
            )
    out.print(t)
    for q, d in r["questions"].items():
        a = d["agreement"]
        fleiss = a["fleiss"]
        kappas = ", ".join(
            f"{p['reviewers'][0]}/{p['reviewers'][1]} {kappa_text(p)} ({p['items']} items)"
            for p in a["cohen"]
        )
        if kappas or fleiss:
            more = f"; Fleiss {kappa_text(fleiss)} ({fleiss['items']} items)" if fleiss else ""
            out.print(
                f"agreement on {q}: Cohen's kappa {kappas or '-'}{more}",
                highlight=False,
                markup=False,
            )


@app.command("create", epilog=CREATE_EPILOG)
def create_cmd(
    base_arg: str | None = _pair.argument("baseline", "The baseline MODEL spec (hf:DIR, ...)"),
    cand_arg: str | None = _pair.argument("candidate", "The candidate MODEL spec"),
    base_opt: str | None = _pair.option("baseline", "The baseline MODEL spec"),
    cand_opt: str | None = _pair.option("candidate", "The candidate MODEL spec"),
    suite: str = typer.Option(..., help="Where the prompts come from: humaneval, completion, ..."),
    corpus: Path | None = typer.Option(None, help="Corpus for the completion suite."),
    out_dir: Path = typer.Option(..., "--out", help="The review directory (made, or resumed)."),
    reviewer: list[str] = typer.Option(..., help="A reviewer's name (repeatable)."),
    items: int = typer.Option(60, help="Prompts to judge, stratified by language (0: all)."),
    overlap: float = typer.Option(0.25, help="Share of pairs a second reviewer also judges."),
    seed: int = typer.Option(0, help="Seed of the sample, the order and the A/B sides."),
    max_new_tokens: int | None = typer.Option(None, help="Generation budget per answer."),
    serve: bool = typer.Option(False, "--serve", help="Then serve the review page."),
    port: int = port_option("--serve: loopback port (0: any free one)."),
    json_path: Path | None = typer.Option(None, "--json", help="Summary and tokens as JSON."),
) -> None:
    """Both models answer the same prompts; each pair is shown as A and B in a random order
    that is recorded and never shown. Reviewers judge correctness, readability and idiomatic
    style. Rerunning with the same models and settings resumes the review."""
    from tripwire.evals import GenerationConfig, backend_from_spec, get_suite
    from tripwire.review import EvalPlan, create_eval_review
    from tripwire.review._store import database_files

    own = database_files(out_dir)
    if corpus is not None:
        own[corpus] = "the corpus the prompts come from"
    check_outputs({"--json": json_path}, own)
    baseline, candidate = _pair.resolve((base_arg, cand_arg), base_opt, cand_opt)
    options: dict[str, Any] = {"corpus": corpus} if corpus is not None else {}
    s = get_suite(suite, **options)
    backends = [backend_from_spec(spec) for spec in (baseline, candidate)]
    if max_new_tokens is not None:
        backends = [
            b.with_config(GenerationConfig(max_new_tokens=max_new_tokens)) for b in backends
        ]
    with progress_bar(not quiet(json_path)) as progress:
        made = create_eval_review(
            out_dir,
            s,
            backends[0],
            backends[1],
            reviewers=reviewer,
            plan=EvalPlan(items=items, overlap=overlap, seed=seed),
            progress=progress,
        )
    if not quiet(json_path):
        verb = "resumed" if made.resumed else "made"
        out.print(
            f"{verb} {out_dir}: {made.summary['items']} blinded pairs",
            highlight=False,
            markup=False,
        )
        print_tokens(made.tokens, out_dir)
    emit_json(
        json_path,
        {"directory": str(out_dir), "resumed": made.resumed, **made.summary, "tokens": made.tokens},
    )
    if serve:
        serve_review(out_dir, port, made.tokens)


add_common(app, "eval")


@app.command("import", epilog="Example: tripwire eval review import review/ export.json")
def import_cmd(
    directory: Path = typer.Argument(..., help="The review directory."),
    files: list[Path] = typer.Argument(
        None, help="Label Studio JSON exports, Argilla dataset folders or tripwire JSONL."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto, labelstudio, argilla or jsonl."),
    user: list[str] = users_option(),
    report: Path | None = typer.Option(None, help="HTML report of the review."),
    json_path: Path | None = typer.Option(None, "--json", help="Results as JSON ('-': stdout)."),
) -> None:
    """Bring judgements back (all or nothing: an unknown item or reviewer, or an answer that is
    not A, tie or B, is an error naming it and nothing is applied) and report wins, ties and
    losses with intervals, agreement between reviewers and per-slice results."""
    from tripwire.review import eval_results, import_decisions

    store = open_review(directory, "eval")
    check_outputs({"--report": report, "--json": json_path}, store.own_files())
    imported = import_decisions(store, list(files or []), users=parse_users(user), fmt=fmt)
    results = {**eval_results(store), "imported": imported}
    write_report(report, "review_eval.html.j2", results)
    if not quiet(json_path):
        render_results(results)
    emit_json(json_path, results)


@app.command("report", epilog="Example: tripwire eval review report review/ --json results.json")
def report_cmd(
    directory: Path = typer.Argument(..., help="The review directory."),
    report: Path | None = typer.Option(None, help="HTML report of the review."),
    json_path: Path | None = typer.Option(None, "--json", help="Results as JSON ('-': stdout)."),
) -> None:
    """Results so far."""
    from tripwire.review import eval_results

    store = open_review(directory, "eval")
    check_outputs({"--report": report, "--json": json_path}, store.own_files())
    results = eval_results(store)
    write_report(report, "review_eval.html.j2", results)
    if not quiet(json_path):
        render_results(results)
    emit_json(json_path, results)
