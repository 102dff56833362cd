"""`tripwire data review`: people review a sample of an audited set; their decisions come back
into the clean copy and its manifest, with the kept data's estimated defect rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.cli._output import command_line, emit_json, out, progress_bar, quiet
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
from tripwire.errors import BadInputError

app = typer.Typer(
    cls=DefaultGroup,
    no_args_is_help=True,
    help="Expert review of fine-tuning data: make a review set from an audit (the default "
    "command), serve it, export it, import decisions.",
)
CREATE_EPILOG = (
    "Example: tripwire data review train.jsonl --findings findings.jsonl --clean clean.jsonl "
    "--out review/ --reviewer ana --reviewer ben --margin 0.02 --serve"
)


def _audit_config(path: Path | None, field: list[str]) -> Any:
    from tripwire.data import AuditConfig, FieldMap

    fields = FieldMap.parse(field)
    if path is None:
        return AuditConfig(fields=fields)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))["config"]
        return AuditConfig(
            benchmarks=tuple(config.get("benchmarks", ("humaneval",))),
            allow_sources=tuple(config.get("allow_sources", ())),
            near_dup_threshold=float(config.get("near_dup_threshold", 0.8)),
            contamination_threshold=float(config.get("contamination_threshold", 0.7)),
            fields=FieldMap(**config["fields"]) if config.get("fields") and not field else fields,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(path, f"not a data audit --json summary ({exc})") from exc


def render_results(r: dict[str, Any]) -> None:
    from tripwire.review._agreement import kappa_text

    def share(s: dict[str, Any]) -> str:
        if s["estimate"] != s["estimate"]:  # NaN: nothing reviewed yet
            return "not reviewed yet"
        return f"{s['estimate']:.1%} [{s['low']:.1%}, {s['high']:.1%}]"

    d = r["kept_defect_rate"]
    out.print(f"decided {r['decided']} of {r['items']} items", highlight=False)
    t = Table(title=f"data review ({d['confidence']:.0%} intervals)")
    t.add_column("what")
    t.add_column("estimate [interval]")
    t.add_column("reviewed", justify="right")
    t.add_row("defect rate of the kept data", share(d), str(d["reviewed"]))
    c = r["checks"]
    t.add_row(
        "precision of the checks (removed records reviewers drop)",
        share(c["precision"]),
        str(c["precision"]["reviewed"]),
    )
    rec = c["recall"]
    t.add_row(
        "recall of the checks (bad records they removed)",
        "not reviewed yet"
        if rec["estimate"] != rec["estimate"]
        else f"{rec['estimate']:.1%} [{rec['low']:.1%}, {rec['high']:.1%}]",
        "",
    )
    for reason, s in c["precision_by_reason"].items():
        t.add_row(f"  precision: {escape(reason)}", share(s), str(s["reviewed"]))
    out.print(t)
    for p in r["agreement"]["cohen"]:
        out.print(
            f"agreement {p['reviewers'][0]}/{p['reviewers'][1]}: Cohen's kappa "
            f"{kappa_text(p)} on {p['items']} items",
            highlight=False,
            markup=False,
        )
    if "clean" in r:
        cl = r["clean"]
        out.print(
            f"clean copy: {cl['path']} ({cl['records']} records; restored "
            f"{len(cl['restored'])}, dropped {len(cl['dropped'])} by reviewers)",
            highlight=False,
            markup=False,
        )


@app.command("create", epilog=CREATE_EPILOG)
def create_cmd(
    inputs: list[Path] = typer.Argument(..., help="The audited JSONL/Parquet files or folders."),
    findings: Path = typer.Option(..., help="The audit's --findings file."),
    out_dir: Path = typer.Option(..., "--out", help="The review directory (made, or resumed)."),
    reviewer: list[str] = typer.Option(..., help="A reviewer's name (repeatable)."),
    clean: Path | None = typer.Option(
        None, help="The clean copy that import rewrites (default: DIR/clean.jsonl)."
    ),
    audit_json: Path | None = typer.Option(
        None, "--audit", help="The audit's --json summary (its thresholds and fields)."
    ),
    margin: float = typer.Option(0.02, help="Target half-width of the defect rate's interval."),
    confidence: float = typer.Option(0.95, help="Confidence of that interval."),
    expected_rate: float = typer.Option(
        0.5, help="The defect rate you expect among kept records (0.5: worst case)."
    ),
    per_reason: int = typer.Option(20, help="Removed records sampled per reason."),
    borderline: int = typer.Option(20, help="Least-sure records reviewed in full."),
    near_misses: bool = typer.Option(
        True, help="Look for kept records a looser audit would remove (a second audit)."
    ),
    overlap: float = typer.Option(0.0, help="Share of items a second reviewer also sees."),
    seed: int = typer.Option(0, help="Seed of the random sample and order."),
    field: list[str] = typer.Option([], help="Column mapping NAME=COLUMN, as for data audit."),
    serve: bool = typer.Option(False, "--serve", help="Then serve the review page."),
    port: int = port_option("--serve: loopback port (0: any free one)."),
    json_path: Path | None = typer.Option(None, "--json", help="Summary and tokens as JSON."),
) -> None:
    """Make a review set from an audit: the records the checks were least sure about, a
    stratified random sample of kept records (by source and language) as large as the
    precision target needs, and a sample of removed records per reason. Reviewers see no
    audit verdict. Rerunning with the same inputs resumes the review.
    """
    from tripwire.review import DataPlan, Target, create_data_review
    from tripwire.review._store import database_files

    # the clean copy is only written at import, where a clash would surface too late
    own = {
        **database_files(out_dir),
        **dict.fromkeys(inputs, "data the review is made from"),
        findings: "the findings the review is made from",
        **({audit_json: "the audit summary the review reads"} if audit_json else {}),
    }
    check_outputs({"--clean": clean, "--json": json_path}, own)
    try:
        target = Target(margin=margin, confidence=confidence, expected=expected_rate)
    except ValueError as exc:
        raise BadInputError("--margin/--confidence/--expected-rate", str(exc)) from exc
    plan = DataPlan(
        target=target,
        per_reason=per_reason,
        borderline=borderline,
        near_misses=near_misses,
        overlap=overlap,
        seed=seed,
    )
    with progress_bar(not quiet(json_path)) as progress:
        made = create_data_review(
            out_dir,
            inputs,
            findings,
            reviewers=reviewer,
            plan=plan,
            clean=clean,
            audit_config=_audit_config(audit_json, field),
            progress=progress,
        )
    s = made.summary
    if not quiet(json_path):
        verb = "resumed" if made.resumed else "made"
        out.print(
            f"{verb} {out_dir}: {s['items']} items ({s['borderline']} least sure, "
            f"{s['kept_sample']} kept, {s['removed_sample']} removed) from {s['records']} "
            f"records, {s['kept']} kept",
            highlight=False,
            markup=False,
        )
        print_tokens(made.tokens, out_dir)
    emit_json(
        json_path, {"directory": str(out_dir), "resumed": made.resumed, **s, "tokens": made.tokens}
    )
    if serve:
        serve_review(out_dir, port, made.tokens)


add_common(app, "data")


@app.command("import", epilog="Example: tripwire data review import review/ export.json")
def import_cmd(
    directory: Path = typer.Argument(..., help="The review directory."),
    files: list[Path] = typer.Argument(
        None,
        help="Label Studio JSON exports, Argilla dataset folders or tripwire JSONL "
        "(none: apply the decisions made in the page).",
    ),
    fmt: str = typer.Option("auto", "--format", help="auto, labelstudio, argilla or jsonl."),
    user: list[str] = users_option(),
    clean: Path | None = typer.Option(None, help="Write the clean copy here instead."),
    report: Path | None = typer.Option(None, help="HTML report of the review."),
    json_path: Path | None = typer.Option(None, "--json", help="Results as JSON ('-': stdout)."),
) -> None:
    """Bring decisions back (all or nothing: a bad line, an unknown item or reviewer is an
    error naming it, and nothing is applied), then rewrite the clean copy honouring them and
    its manifest (who decided what, when), and report the kept data's defect rate with its
    interval and the checks' precision and recall against the reviewers' labels."""
    from tripwire.review import apply_data_review, import_decisions
    from tripwire.review._data_result import _clean_target, check_apply

    store = open_review(directory, "data")
    # the default clean copy too: a --report or --json there would be replaced by it
    target = _clean_target(store, store.meta(), clean)
    check_outputs({"--clean": target, "--report": report, "--json": json_path}, store.own_files())
    check_apply(store, clean)  # before the import: a copy that cannot be made applies nothing
    imported = import_decisions(store, list(files or []), users=parse_users(user), fmt=fmt)
    results = apply_data_review(store, clean, command_line())
    results["imported"] = imported
    write_report(report, "review_data.html.j2", results)
    if not quiet(json_path):
        for f in imported["files"]:
            what = "already imported, skipped" if f["skipped"] else f"{f['decisions']} decisions"
            out.print(f"{f['file']}: {what}", highlight=False, markup=False)
        render_results(results)
    emit_json(json_path, results)


@app.command("report", epilog="Example: tripwire data review report review/ --report review.html")
def report_cmd(
    directory: Path = typer.Argument(..., help="The review directory."),
    report: Path | None = typer.Option(None, help="HTML report of the review."),
    json_path: Path | None = typer.Option(None, "--json", help="Results as JSON ('-': stdout)."),
) -> None:
    """Progress and estimates so far, without changing the clean copy."""
    from tripwire.review import data_results

    store = open_review(directory, "data")
    check_outputs({"--report": report, "--json": json_path}, store.own_files())
    results = data_results(store)
    write_report(report, "review_data.html.j2", results)
    if not quiet(json_path):
        render_results(results)
    emit_json(json_path, results)
