"""`tripwire monitor`: the production monitor service, offline replay, and canaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tripwire.cli._output import check_output, context, emit_json, err, out, progress_bar, quiet

app = typer.Typer(no_args_is_help=True, help="Production monitoring: ingest, detect, alert.")

_ARL = typer.Option(100_000.0, "--arl", help="Mean events of one metric on one slice between "
                    "false alarms (sets the CUSUM threshold).")  # fmt: skip
_FAMILY = typer.Option(
    None, "--family-arl", help="Mean events of all traffic between false alarms on any slice, "
    "language and metric: every stream then gets --arl = this x metrics x slice levels (each "
    "event feeds one stream per metric and level, so the number of slices does not enter). "
    "Overrides --arl. Example: 1e6.",
)  # fmt: skip
_WARMUP = typer.Option(2000, help="Events per route that set the baseline rates (per metric and "
                       "answer language); they then stay frozen. A longer warm-up resolves "
                       "smaller rises (coverage lists the smallest watched per language). At "
                       "least 50: a metric needs 50 warm-up events where it applies before it "
                       "is watched.")  # fmt: skip
_SLICE_BY = typer.Option(
    ["language"], "--slice-by", help="Attributes that refine every slice (model version x "
    "deployment x hardware x route) into streams of their own, comma-separated: 'language' (the "
    "answer's), or a key of the events' 'attributes'. Repeatable: each adds one level of streams "
    "(and counts in --family-arl). 'none': the four dimensions only.",
)  # fmt: skip
_METHOD = typer.Option("cusum", help="cusum (threshold from --arl) or msprt (BH across slices).")
_FDR = typer.Option(0.01, help="msprt: false discovery rate across slices and metrics.")
_DETECTION = """

Detection: per metric and slice (model version x deployment x hardware x route, and the same
per answer language), risk-adjusted CUSUMs score each event against the baseline rate of its own
language, so a change in the prompt mix raises no alarm. Baselines come from each route's first
--warmup events, taken at a robust upper bound (never optimistic for rare events), and then stay
frozen (a new model version is a new slice judged against them); to accept a new normal, start
again on a fresh database once the release is known good."""


def _detector(
    arl: float, warmup: int, method: str, fdr: float, family_arl: float | None,
    slice_by: list[str],
) -> Any:  # fmt: skip
    import math

    from tripwire.errors import BadInputError
    from tripwire.monitor import MIN_BASELINE, DetectorConfig, parse_slice_by

    if method not in ("cusum", "msprt"):
        raise BadInputError("--method", f"unknown method {method!r} (cusum, msprt)")
    if warmup < MIN_BASELINE:
        why = "a baseline needs that many events, so no detector would start"
        raise BadInputError("--warmup", f"{warmup} is below the minimum of {MIN_BASELINE}: {why}")
    finite = all(math.isfinite(v) for v in (arl, fdr, family_arl or 2.0))
    if not finite or arl <= 1 or not 0 < fdr < 1 or (family_arl is not None and family_arl <= 1):
        raise BadInputError("--arl/--family-arl/--fdr",
                            "need finite arl > 1, family-arl > 1, 0 < fdr < 1")  # fmt: skip
    levels = tuple(dict.fromkeys(level for spec in slice_by if (level := parse_slice_by(spec))))
    return DetectorConfig(arl0=arl, warmup=warmup, method=method, fdr=fdr,  # type: ignore[arg-type]
                          family_arl=family_arl, slice_by=levels)  # fmt: skip


def _tokens(token_file: Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The server's own tokens: from ``--token-file`` (TOML ``write = [...]``, ``read =
    [...]``) or the environment, never from its command line (which any local user can read
    in the process list)."""
    import os
    import tomllib

    from tripwire.errors import BadInputError

    def split(values: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in values.split(",") if t.strip())

    if token_file is None:
        return (split(os.environ.get("TRIPWIRE_MONITOR_WRITE_TOKENS", "")),
                split(os.environ.get("TRIPWIRE_MONITOR_READ_TOKENS", "")))  # fmt: skip
    try:
        data = tomllib.loads(token_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(token_file, f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(token_file, f"not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise BadInputError(token_file, "TOML nested too deeply to read") from exc
    unknown = set(data) - {"write", "read"}
    if unknown or not all(isinstance(data.get(k, []), (list, str)) for k in ("write", "read")):
        raise BadInputError(token_file, "expected only write = [...] and read = [...]")

    def listed(key: str) -> tuple[str, ...]:
        values = data.get(key, [])
        if isinstance(values, str):  # one string: comma-separated, as in the environment
            return split(values)
        if not all(isinstance(v, str) for v in values):
            raise BadInputError(token_file, f"{key}: tokens are strings (quoted)")
        # a listed token is whole: a comma in it must not make two shorter valid tokens
        return tuple(t.strip() for t in values if t.strip())

    return listed("write"), listed("read")


@app.command(
    help="Run the monitor service: POST /v1/events, /v1/feedback, /v1/deploys; dashboard at /, "
    "Prometheus text at /metrics. Clients send tokens in the Authorization header (Bearer, or "
    "Basic with the token as password for a browser). The server's own tokens come from "
    "--token-file or the environment (TRIPWIRE_MONITOR_WRITE_TOKENS, "
    "TRIPWIRE_MONITOR_READ_TOKENS, comma-separated), never the command line. Without tokens "
    "the service is open: keep it on loopback. Replicas: start several on one PostgreSQL --db "
    "(same detector options) behind a load balancer; each ingests, one at a time detects "
    "(the others take over if it dies). SQLite serves one process only." + _DETECTION,
    epilog="Example: tripwire monitor serve --db postgresql+psycopg://mon@db/monitor "
    "--token-file /etc/tripwire/tokens.toml --family-arl 1e6 --port 8080",
)
def serve(
    ctx: typer.Context,
    db: str | None = typer.Option(None, help="Database URL (default: SQLite in the data dir; "
        "PostgreSQL for several replicas)."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8080, min=1, max=65535, help="TCP port."),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="TOML with write = [\"...\"] and read = [\"...\"] tokens "
        "(default: the environment variables)."),
    arl: float = _ARL,
    family_arl: float | None = _FAMILY,
    warmup: int = _WARMUP,
    method: str = _METHOD,
    fdr: float = _FDR,
    slice_by: list[str] = _SLICE_BY,
    triage_engine: str = typer.Option("model", "--triage", help="How free-text feedback is "
        "categorised: model (tripwire's learned triage, loaded at start: reads meaning, answers "
        "needs_review when unsure; see `monitor triage`) or rules (regular expressions: no "
        "model in memory)."),
    check_workers: int | None = typer.Option(None, "--check-workers", min=0, help="Processes "
        "that run the online checks (parsing every code block) of batches of 32 events or more, "
        "beside the request thread (default: one per core beyond the first; 0: none)."),
) -> None:  # fmt: skip
    import uvicorn

    from tripwire.artifacts import data_dir, default_registry_url, shown_url
    from tripwire.errors import BadInputError
    from tripwire.monitor import ServerConfig, create_app

    if triage_engine not in ("model", "rules"):
        raise BadInputError("--triage", f"unknown engine {triage_engine!r} (model, rules)")
    url = db or f"sqlite:///{data_dir() / 'monitor.db'}"
    write_tokens, read_tokens = _tokens(token_file)
    config = ServerConfig(
        db_url=url,
        write_tokens=write_tokens,
        read_tokens=read_tokens,
        detector=_detector(arl, warmup, method, fdr, family_arl, slice_by),
        # the URL only: a registry that cannot be read must not keep the service from starting
        registry_url=context(ctx).registry_url or default_registry_url(),
        triage=triage_engine,
        check_workers=check_workers,
    )
    if triage_engine == "model":  # loaded now, not by the first report (seconds, once)
        from tripwire.triage import triager

        triager()
    if not config.write_tokens and not config.read_tokens:
        err.print("[yellow]notice:[/] no tokens given: anyone who can reach the port can write")
    application = create_app(config)
    err.print(f"monitor on http://{host}:{port}/ (database {shown_url(url)})", markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@app.command(
    help="Run the monitor's checks and detectors offline over a recorded stream. Exit 1 when "
    "any alert is raised. What was not watched (routes still in their warm-up, metrics that "
    "applied to too few warm-up events) is listed on stderr and under 'coverage' in --json."
    + _DETECTION,
    epilog="Example: tripwire monitor replay events.jsonl --json alerts.json --family-arl 1e6",
)
def replay(
    ctx: typer.Context,
    events: Path = typer.Argument(
        ..., help="Recorded stream (JSONL of events, deploys, feedback)."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
    arl: float = _ARL,
    family_arl: float | None = _FAMILY,
    warmup: int = _WARMUP,
    method: str = _METHOD,
    fdr: float = _FDR,
    slice_by: list[str] = _SLICE_BY,
) -> None:
    from rich.markup import escape

    from tripwire.monitor import replay as run_replay

    config = _detector(arl, warmup, method, fdr, family_arl, slice_by)
    check_output("--json", json_path)
    with progress_bar(not quiet(json_path)) as progress:
        report = run_replay(events, config, context(ctx).registry(), progress)
    if not quiet(json_path):
        cov = report["coverage"]
        warming = cov["routes_warming_up"]
        out.print(f"{report['events']} events, {report['judged_events']} judged by "
                  f"{report['streams']} detector streams ({cov['metrics_watched']} route "
                  f"metrics watched, {cov['metrics_unwatched']} unwatched, {warming} "
                  f"route{'' if warming == 1 else 's'} warming up), "
                  f"{len(report['alerts'])} alerts", highlight=False)  # fmt: skip
        if report["alerts"]:
            t = Table()
            for col in ("metric", "slice", "change at", "alarm at", "rate", "rollback to"):
                t.add_column(col)
            for a in report["alerts"]:
                target = a["rollback_target"]["version"] if a["rollback_target"] else "-"
                rate = f"{a['baseline_rate']:.4f} -> {a['rate_after_change']:.4f}"
                # names come from the stream and the registry: shown, never read as markup
                t.add_row(a["metric"], escape(a["slice_label"]), str(a["change_index"]),
                          str(a["event_index"]), rate, escape(target))  # fmt: skip
            out.print(t)
    _coverage_notices(report)
    emit_json(json_path, report)
    # nothing watched is a warning, not a regression: exit 1 is kept for evidence of one
    if report["alerts"]:
        raise typer.Exit(1)


def _coverage_notices(report: dict[str, Any]) -> None:
    """Every gap in coverage on stderr (shown even with --json -: these are warnings)."""
    from rich.markup import escape

    if not report["watched"]:
        err.print(f"[bold yellow]warning:[/] no detector judged any of the {report['events']} "
                  "events: no alert means nothing was checked, not that nothing changed",
                  highlight=False, soft_wrap=True)  # fmt: skip
    if report["duplicates"]:
        repeats = f"{report['duplicates']} events repeat an earlier event_id"
        err.print(f"[yellow]notice:[/] {repeats} and were skipped, as the server skips them",
                  highlight=False, soft_wrap=True)  # fmt: skip
    late = report.get("out_of_order") or {}
    if late.get("records"):
        err.print(f"[yellow]notice:[/] {late['records']} records are more than 5 minutes "
                  f"earlier than a record before them (first at line {late['first_line']}, up to "
                  f"{late['most_behind_seconds']} s behind): replay judges the file in its own "
                  "order, as the server judges arrivals; sort it by ts to judge it as served",
                  highlight=False, soft_wrap=True)  # fmt: skip
    for line in report["coverage_notices"]:
        err.print(f"[yellow]notice:[/] {escape(line)}", highlight=False, soft_wrap=True)


@app.command(
    epilog="Example: tripwire monitor canary --endpoint east=openai:http://10.0.0.5:8000/v1#coder"
    " --endpoint west=openai:http://10.1.0.5:8000/v1#coder --rounds 12 --every 300"
    " --out canaries.jsonl"
)
def canary(
    endpoint: list[str] = typer.Option(..., help="NAME=openai:URL#MODEL (repeatable)."),
    rounds: int = typer.Option(1, min=1, help="How many rounds to run."),
    every: float = typer.Option(
        300.0, min=0, help="Seconds between round starts (at most a week)."
    ),
    out_path: Path | None = typer.Option(None, "--out", help="Append each round to this JSONL."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Send the canary prompts at temperature 0 to every endpoint on a schedule; check answers
    and compare them across endpoints and rounds. Exit 1 on any failed or differing answer."""
    from rich.markup import escape

    from tripwire.errors import BadInputError
    from tripwire.findings import report_dict
    from tripwire.monitor import Endpoint, run_canaries

    endpoints = [Endpoint.parse(e) for e in endpoint]
    # before the first round: rounds may run for hours before anything is written
    check_output("--out", out_path)
    check_output("--json", json_path)

    def record(rnd: Any) -> None:
        if out_path is not None:
            try:
                with out_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rnd.to_dict()) + "\n")
            except OSError as exc:
                raise BadInputError(out_path, f"--out: cannot append ({exc.strerror})") from exc
        if not quiet(json_path):
            ok = sum(a.ok for a in rnd.answers)
            out.print(f"{rnd.at}: {ok}/{len(rnd.answers)} canary answers pass, "
                      f"{len(rnd.findings)} findings", highlight=False)  # fmt: skip
            for f in rnd.findings:  # the message names endpoints: shown, not read as markup
                out.print(f"  \\[{f.severity}] {escape(f.message)}", highlight=False)

    done = run_canaries(endpoints, rounds, every, record)
    findings = [f for r in done for f in r.findings]
    data = report_dict(findings, rounds=[r.to_dict() for r in done])
    emit_json(json_path, data)
    raise typer.Exit(1 if data["verdict"] == "block" else 0)


@app.command(
    help="Put user reports into the incident's categories: compilation, runtime, logic, "
    "incomplete code, incorrect API usage, instructions not followed, performance, other. "
    "REPORTS is JSONL (objects with a 'text' field, or JSON strings; '-': stdin). The model "
    "engine (MiniLM sentence embeddings, character grams and the rules' hits, in a logistic "
    "regression trained on the labelled reports tripwire ships) answers needs_review below its "
    "confidence threshold; the rules engine is the old regular expressions, kept for "
    "comparison. An unreadable line or report (not JSON, empty, 1 MB or more, binary) is "
    "'other' with its reason; the rest of the file is triaged as usual.",
    epilog="Example: tripwire monitor triage reports.jsonl --json triaged.json",
)
def triage(
    reports: Path = typer.Argument(..., help="JSONL of reports ('-': stdin)."),
    engine: str = typer.Option("model", help="model (learned) or rules (regular expressions)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
    clusters: bool = typer.Option(False, "--clusters", help="Also group the reports by "
        "meaning across categories: each cluster's label (error names, languages, the words "
        "its reports share), categories, slices (a report's model_version, deployment, "
        "hardware, route, language fields) and the deploys after which it grew (lines "
        "{\"type\": \"deploy\", \"ts\": ..., \"model_version\": ...}; reports need 'ts')."),
) -> None:  # fmt: skip
    import sys

    from rich.markup import escape

    from tripwire.errors import BadInputError
    from tripwire.triage._batch import ENGINES, clusters_of, read_stream, summary, triage_stream

    if engine not in ENGINES:
        raise BadInputError("--engine", f"unknown engine {engine!r} (model, rules)")
    if str(reports) == "-":
        text = sys.stdin.read()
    else:
        try:
            raw = reports.read_bytes()
        except OSError as exc:
            raise BadInputError(reports, f"cannot read ({exc.strerror or exc})") from exc
        # undecodable bytes stay in the text as U+FFFD: that line is then judged binary alone
        text = raw.decode("utf-8", errors="replace")
    # a byte order mark (Windows tools write one) is not part of the first report
    lines = text.removeprefix("\ufeff").splitlines()
    stream = read_stream(lines)
    results = triage_stream(stream, engine)  # type: ignore[arg-type]
    totals = summary(results)
    found = clusters_of(stream, results) if clusters else None
    if not quiet(json_path):
        t = Table()
        for col in ("line", "category", "confidence", "evidence"):
            t.add_column(col)
        for r in results:
            conf = r.get("confidence")
            shown = f"{conf:.2f}" if conf is not None and not r.get("reason") else ""
            label = r["category"] if r["category"] != "needs_review" else (
                f"needs_review ({r['guess']}?)")  # fmt: skip
            t.add_row(str(r["line"]), label, shown, escape("; ".join(r["evidence"][:4])))
        out.print(t)
        cats = ", ".join(f"{c} {n}" for c, n in totals["categories"].items())
        out.print(f"{totals['reports']} reports: {cats}; needs_review {totals['needs_review']}; "
                  f"unreadable {totals['unreadable']}", highlight=False)  # fmt: skip
        for c in found or []:
            grew = "; ".join(f"grew after {g['deploy']} ({g['before']} -> {g['after']}, "
                             f"p={g['p_value']})" for g in c["grew_after"])  # fmt: skip
            cats = ", ".join(f"{k} {v}" for k, v in c["categories"].items())
            out.print(f"cluster of {c['size']} ({escape(c['label'])}): {cats}"
                      + (f"; [bold red]{grew}[/]" if grew else ""), highlight=False)  # fmt: skip
    doc = {"engine": engine, "summary": totals, "results": results}
    emit_json(json_path, doc if found is None else doc | {"clusters": found})
