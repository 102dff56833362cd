"""`tripwire data`: audit and clean a code fine-tuning set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from tripwire.cli._output import emit_json, err, out, progress_bar, quiet
from tripwire.findings import Verdict

if TYPE_CHECKING:
    from tripwire.data import AuditResult

app = typer.Typer(
    no_args_is_help=True, help="Fine-tuning data: validate, deduplicate, decontaminate."
)


def _shown(ids: list[object]) -> Text:
    """Record ids as plain text: an id is the data's, so neither Rich markup (``[/bold]``
    fails to render, ``[link=...]`` makes a hyperlink) nor a terminal's control sequences
    (a colour, a window title) in it may take effect; those characters are shown escaped."""
    shown = (
        "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in str(i))
        for i in ids
    )
    return Text(", ".join(shown))


def render_table(result: AuditResult) -> Table:
    from tripwire.data import FLAGS, REASONS

    t = Table(
        title=f"data audit: {result.kept} of {result.records} records kept "
        f"({result.throughput()['records_per_s']} records/s)"
    )
    t.add_column("reason")
    t.add_column("records", justify="right")
    t.add_column("first ids")
    for reason in REASONS:
        n = result.by_reason.get(reason, 0)
        if n:
            t.add_row(reason, str(n), _shown(result.ids_by_reason.get(reason, [])[:3]))
    for flag in FLAGS:
        n = result.by_flag.get(flag, 0)
        if n:
            t.add_row(
                f"{flag} (kept, flagged)", str(n), _shown(result.ids_by_reason.get(flag, [])[:3])
            )
    return t


@app.command(
    "audit",
    epilog="Example: tripwire data audit train.jsonl --findings findings.jsonl "
    "--clean clean.jsonl --report audit.html --json audit.json",
)
def audit_cmd(
    inputs: list[Path] = typer.Argument(..., help="JSONL or Parquet files, or folders of them."),
    findings: Path | None = typer.Option(
        None, "--findings", help="One JSON line per input record: keep, reasons, details."
    ),
    clean: Path | None = typer.Option(
        None, "--clean", help="The kept records, byte for byte as they came in."
    ),
    report: Path | None = typer.Option(None, "--report", help="HTML report for a reviewer."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Summary counts, throughput, configuration ('-': stdout)."
    ),
    benchmark: list[str] = typer.Option(
        [],
        "--benchmark",
        help="Benchmark name or JSONL/Parquet file (repeatable; HumanEval always).",
    ),
    allow_source: list[str] = typer.Option(
        [], "--allow-source", help="Glob a record's 'source' must match (repeatable)."
    ),
    near_dup_threshold: float = typer.Option(
        0.8, "--near-dup-threshold", help="Shingle Jaccard similarity of near duplicates."
    ),
    workers: int = typer.Option(0, "--workers", help="Worker processes (0: one per core)."),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (processes) or ray (the cluster at --ray-address / $RAY_ADDRESS, else a "
        "local Ray instance; every node must see the input and output paths at the same path).",
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="--engine ray: the cluster (default: $RAY_ADDRESS)."
    ),
    field: list[str] = typer.Option(
        [], "--field", help="Column mapping NAME=COLUMN, e.g. --field text=content (repeatable)."
    ),
    no_tests: bool = typer.Option(False, "--no-tests", help="Do not run records' tests."),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Local causal LM folder (reference or base model): flag answers that fit their "
        "instruction less than the set's others do (off_topic, kept for review).",
    ),
    out_of_domain_z: float = typer.Option(
        3.5,
        "--out-of-domain-z",
        help="Robust z-score of distance from the set above which a record is flagged "
        "out_of_domain (kept, for review); 0 turns the check off.",
    ),
    rule: list[str] = typer.Option(
        [],
        "--rule",
        help="Static-analysis policy override RULE=drop|flag|ignore, e.g. --rule S608=drop, "
        "--rule F401=ignore, --rule js/=flag (repeatable; a rule id or prefix).",
    ),
    allow_secrets: Path | None = typer.Option(
        None,
        "--allow-secrets",
        help="Accepted secrets: JSON of SHA-1s and rules, or a detect-secrets baseline.",
    ),
) -> None:
    """Check every record: does it parse, is it whole, is it code in the declared language, do
    its own tests pass, is it a duplicate, a benchmark in disguise, a leaked secret, low quality,
    malformed, or from a source not allowed; static analysis (ruff for Python, tree-sitter rules
    for JavaScript/TypeScript, Go, Java, Rust, C/C++ and shell) removes insecure code and code
    that cannot work and flags style-level findings for review (--rule overrides the policy).
    Exit 1 when benchmark items or secrets are found.
    Secrets are looked for in every string of a record and redacted in every output.
    """
    from tripwire.data import AuditConfig, FieldMap, RulePolicy, audit, check_outputs, input_files

    outputs = {"--findings": findings, "--clean": clean, "--report": report, "--json": json_path}
    check_outputs(input_files(inputs), outputs)  # before the run, not after it
    config = AuditConfig(
        benchmarks=tuple(benchmark),
        allow_sources=tuple(allow_source),
        near_dup_threshold=near_dup_threshold,
        fields=FieldMap.parse(field),
        run_tests=not no_tests,
        rules=RulePolicy.parse(rule).overrides,
        model=str(model) if model is not None else None,
        out_of_domain_z=out_of_domain_z,
        allow_secrets=str(allow_secrets) if allow_secrets is not None else None,
        workers=workers,
        engine=engine,
        ray_address=ray_address,
    )
    with progress_bar(not quiet(json_path)) as progress:
        result, data = audit(
            inputs, config=config, findings=findings, clean=clean, progress=progress
        )
    if report is not None:
        # its own module: the report package's gate pages import scipy (a second of start-up)
        from tripwire.report._data_audit import render_data_audit_html

        render_data_audit_html(result, data, report)
        result.outputs["report"] = str(report)
    if result.tests.get("skipped"):
        err.print(f"[yellow]notice:[/] failing_tests not checked: {result.tests['skipped']}")
    if not quiet(json_path):
        out.print(render_table(result))
        if result.shards_resumed:
            out.print(f"resumed {result.shards_resumed} of {result.shards} shards")
    d = result.to_dict()
    emit_json(json_path, d)
    raise typer.Exit(Verdict(d["verdict"]).exit_code)


def _register_review() -> None:
    """`tripwire data review` lives in its own module (people in the loop, issue #27)."""
    from tripwire.cli.data_review import app as review_app

    app.add_typer(review_app, name="review")


_register_review()
