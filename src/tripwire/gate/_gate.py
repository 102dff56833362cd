"""The release gate: lineage, the checks the change calls for, one verdict with its root cause.

A check that cannot run on its input (a tokenizer that does not load, a model whose forward pass
would index past its table) is a finding, not a crash (see ``_guard``), so the gate always ends
with a verdict and the CLI writes every output it was asked for.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.artifacts import (
    ArtifactKind,
    Manifest,
    Registry,
    cache_dir,
    ensure_manifest,
    sha256_json,
    write_json_atomic,
)
from tripwire.documents import Fields
from tripwire.errors import BadInputError, UserError
from tripwire.findings import Finding, Severity, Verdict, verdict_of
from tripwire.gate._attribution import RootCause, attribute
from tripwire.gate._evals import PlannedSuite, SuiteOutcome, plan_suites, preflight, run_suites
from tripwire.gate._guard import cacheable, internal_error, not_runnable, role_of
from tripwire.gate._lineage import Lineage, lineage
from tripwire.gate._policy import Policy
from tripwire.progress import Progress, no_progress

if TYPE_CHECKING:
    from tripwire.evals import SequentialPlan

# Bump when what the gate checks changes, so cached results from older code are not reused.
GATE_VERSION = 5  # 3: each corpus suite says its corpus; 4: check_seconds; 5: adversaries' checks
# (tokens: loader encoding, config ids, reordered merges; compare: run integrity, suite_tasks)
READS_SCHEMA = 1  # the --json envelope's schema_version these documents are read at
# Records removed for these reasons mean the data itself is broken, not merely redundant.


@dataclass(frozen=True)
class GateResult:
    verdict: Verdict
    baseline: dict[str, str]
    """``path``, ``id`` (manifest hash) and ``name`` of each model."""
    candidate: dict[str, str]
    policy: Policy
    lineage: Lineage
    root_cause: RootCause | None
    findings: list[Finding]
    evals: list[SuiteOutcome]
    checks_run: list[str]
    cached: bool = False
    seconds: float = 0.0
    check_seconds: dict[str, float] = field(default_factory=dict)
    """Each check's wall time (CI shows them as JUnit testcase times)."""
    data_audit: dict[str, Any] | None = None
    """The training-data audit's summary, when it ran."""

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "exit_code": self.exit_code,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "policy": self.policy.to_dict(),
            "lineage": self.lineage.to_dict(),
            "root_cause": self.root_cause.to_dict() if self.root_cause else None,
            "findings": [{"source": f.source or f.code, **f.to_dict()} for f in self.findings],
            "evals": [o.to_dict() for o in self.evals],
            "checks_run": self.checks_run,
            "cached": self.cached,
            "seconds": round(self.seconds, 2),
            **({"data_audit": self.data_audit} if self.data_audit is not None else {}),
            **({"check_seconds": self.check_seconds} if self.check_seconds else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "gate result") -> GateResult:
        """A result back from ``to_dict`` (a ``tripwire gate --json`` file, the gate's cache);
        a wrong shape is ``BadInputError`` naming the field."""
        f = Fields.of(d, doc)
        if not f.has("verdict"):
            raise BadInputError(f.doc, f"{f.where or 'the document'} has no 'verdict' (is this "
                                "a tripwire gate --json file?)")  # fmt: skip
        _check_envelope(f)
        try:
            return cls._read(f)
        except (TypeError, ValueError, OverflowError) as exc:
            # a value no field reader expected (a 400-digit integer): still the document's fault
            raise BadInputError(f.doc, f"a value cannot be read ({exc})") from None

    @classmethod
    def _read(cls, f: Fields) -> GateResult:
        rc = f.obj("root_cause")
        return cls(
            verdict=f.enum("verdict", Verdict),
            baseline=_model(f.obj("baseline")),
            candidate=_model(f.obj("candidate")),
            policy=Policy.from_document(f.obj("policy")),
            lineage=Lineage.from_dict(f.obj("lineage")),
            root_cause=RootCause.from_dict(rc) if rc.data else None,
            findings=[Finding.from_dict(x) for x in f.objects("findings")],
            evals=[SuiteOutcome.from_dict(x) for x in f.objects("evals")],
            checks_run=f.texts("checks_run"),
            cached=f.flag("cached"),
            seconds=f.number("seconds"),
            check_seconds=_seconds(f.mapping("check_seconds")),
            data_audit=f.mapping("data_audit") if f.has("data_audit") else None,
        )


def _check_envelope(f: Fields) -> None:
    """A ``--json`` document's envelope, where it has one (the cache's copies have none): a
    newer schema may mean other things by the same keys, and another command's document has
    a verdict too, but none of a gate's checks."""
    version = f.data.get("schema_version")
    if version is not None and version != READS_SCHEMA:
        raise BadInputError(f.doc, f"schema_version is {version!r}; this tripwire reads gate "
                            f"documents of schema_version {READS_SCHEMA}")  # fmt: skip
    command = f.data.get("command")
    if isinstance(command, str) and _subcommand(command) not in ("gate", None):
        raise BadInputError(f.doc, f"is the --json of `{_brief(command)}`, not of tripwire gate")


def _subcommand(command: str) -> str | None:
    """The command group of a recorded ``tripwire ...`` command line (global options skipped)."""
    words = command.split()[1:]
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] == "--registry" else words[1:]
    return words[0] if words else None


def _brief(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cached(path: Path) -> GateResult | None:
    """The cached verdict, or None when there is none or it cannot be read (a cache file cut
    short or from another version is a miss, not the user's bad input)."""
    try:
        return GateResult.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError, BadInputError, RecursionError):
        return None


def _seconds(timed: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in timed.items() if isinstance(v, int | float)}


def _model(f: Fields) -> dict[str, str]:
    return {k: f.text(k, "") for k in ("path", "id", "name")}


def _apply_policy(findings: list[Finding], policy: Policy) -> list[Finding]:
    out = []
    for f in findings:
        if f.code in policy.ignore:
            continue
        if f.code in policy.block:
            f = replace(f, severity=Severity.BLOCK)
        elif f.code in policy.warn and f.severity is Severity.BLOCK:
            f = replace(f, severity=Severity.WARN)
        out.append(f)
    return out


def _tokens_findings(baseline: Path, candidate: Path, progress: Progress) -> list[Finding]:
    """The pair audit; when the baseline cannot be read, the candidate's single-model audit."""
    from tripwire.tokens import audit, audit_model

    models = {"baseline": baseline, "candidate": candidate}
    try:
        return audit(baseline, candidate, progress=progress).findings
    except UserError as exc:
        role = role_of(exc, models)
        refused = not_runnable("tokens", role, models[role], [str(exc)], kinds=[exc.kind],
                               what="the tokens audit")  # fmt: skip
    except Exception as exc:  # a bug: a blocking finding with its traceback (see _guard)
        return [internal_error("tokens", "the tokens audit", exc)]
    if role == "candidate":
        return [refused]
    try:
        return [refused, *audit_model(candidate, progress=progress).findings]
    except UserError as exc:
        return [refused, not_runnable("tokens", "candidate", candidate, [str(exc)],
                                      kinds=[exc.kind], what="the tokens audit")]  # fmt: skip
    except Exception as exc:
        return [refused, internal_error("tokens", "the single-model tokens audit", exc)]


def _data_findings(
    files: list[Path], policy: Policy, workdir: Path, progress: Progress
) -> tuple[list[Finding], dict[str, Any]]:
    from tripwire.data import QUALITY_REASONS, audit

    result, _ = audit(files, workdir=workdir, progress=progress)
    findings = result.findings()
    shares = {r: result.by_reason.get(r, 0) / max(result.records, 1) for r in QUALITY_REASONS}
    bad = sum(result.by_reason.get(r, 0) for r in QUALITY_REASONS)
    share = bad / max(result.records, 1)
    names = ", ".join(str(p) for p in files)
    if share > policy.data_max_bad_fraction:
        worst = max(shares, key=lambda r: shares[r])
        findings.append(
            Finding(
                code="data.quality",
                severity=Severity.BLOCK,
                message=(
                    f"{share:.0%} of the {result.records} training records in {names} are broken "
                    f"(worst: {shares[worst]:.0%} {worst.replace('_', ' ')}); the policy allows "
                    f"{policy.data_max_bad_fraction:.0%}"
                ),
                evidence={
                    "data": str(files[0]),
                    "records": result.records,
                    "bad_fraction": share,
                    "by_reason": {r: result.by_reason.get(r, 0) for r in QUALITY_REASONS},
                },
            )
        )
    return findings, result.to_dict()


def _guarded_data_findings(
    files: list[Path], policy: Policy, workdir: Path, progress: Progress
) -> tuple[list[Finding], dict[str, Any] | None]:
    """The data audit; data it cannot read blocks (it is what the candidate was trained on)."""
    try:
        return _data_findings(files, policy, workdir, progress)
    except UserError as exc:  # unreadable data, or a tool the audit needs is missing
        where = Path(exc.where)
        return [not_runnable("data", "candidate", where, [str(exc)], kinds=[exc.kind],
                             what="the training-data audit")], None  # fmt: skip
    except Exception as exc:
        return [internal_error("data", "the training-data audit", exc)], None


def _cache_key(identity: dict[str, Any], policy: Policy, planned: list[PlannedSuite]) -> str:
    """Content, not paths: the models' and data's ids, each suite's data hash, and the policy
    without corpus paths (the suites' hashes stand for the corpora)."""
    pol = policy.to_dict()
    for s in pol["suites"]:
        s["options"].pop("corpus", None)
    return sha256_json({**identity, "policy": pol, "suites": [p.key() for p in planned]})


def _identity(m: Manifest, path: Path) -> dict[str, str]:
    return {"path": str(path), "id": m.id, "name": m.name}


def _last_good(registry: Registry | None) -> str | None:
    good = registry.last_good() if registry is not None else None
    return good.id[:12] if good else None


def gate(
    baseline: str | Path,
    candidate: str | Path,
    *,
    data: list[Path] | tuple[Path, ...] = (),
    policy: Policy | None = None,
    registry: Registry | None = None,
    progress: Progress = no_progress,
    use_cache: bool = True,
    sequential: SequentialPlan | None = None,
) -> GateResult:
    """Decide whether ``candidate`` may replace ``baseline`` under ``policy``. ``sequential``:
    score each suite's models in batches and stop once every slice is decided."""
    t0 = time.perf_counter()
    policy = policy or Policy()
    baseline, candidate = Path(baseline), Path(candidate)
    for p in (baseline, candidate):
        if not p.is_dir():
            raise BadInputError(p, "not a model directory")
    if baseline.samefile(candidate):  # a CI variable set twice, not a release: it always passes
        raise BadInputError(candidate, f"the candidate is the baseline ({baseline}): a model "
                            "gated against itself always passes")  # fmt: skip
    progress("lineage", 0, 1)
    base_m = ensure_manifest(baseline, ArtifactKind.MODEL)
    cand_m = ensure_manifest(candidate, ArtifactKind.MODEL)
    line = lineage(base_m, cand_m, registry)
    progress("lineage", 1, 1)
    trained_on = line.training.data.path if line.training else ""
    data_files = [Path(p) for p in data]
    notes: list[Finding] = []
    if policy.data_audit and trained_on:
        recorded = Path(trained_on)
        if recorded.is_file():
            data_files.insert(0, recorded)
        else:
            notes.append(
                Finding(
                    "lineage.training_data_missing",
                    Severity.WARN,
                    f"the candidate was trained on {recorded}, which is no longer there; "
                    f"its data could not be audited",
                )
            )
    data_ids = [ensure_manifest(p, ArtifactKind.DATASET).id for p in data_files]
    models = preflight({"baseline": (baseline, base_m), "candidate": (candidate, cand_m)})
    planned = plan_suites(policy, models)
    identity = {"v": GATE_VERSION, "base": base_m.id, "cand": cand_m.id, "data": data_ids}
    if sequential is not None:  # a different design can stop at a different verdict
        identity["sequential"] = sequential.to_dict()
    key = _cache_key(identity, policy, planned)
    cache = cache_dir() / "gate" / f"{key[:24]}.json"
    result = _cached(cache) if use_cache else None
    if result is not None:
        # the cache is keyed by content: a byte-identical pair in other folders (or another
        # registry) reuses it, but the paths, and the remedy commands that name them, are this
        # run's; policy and lineage are the live ones (same hash)
        return replace(
            result,
            cached=True,
            seconds=round(time.perf_counter() - t0, 2),
            policy=policy,
            lineage=line,
            baseline=_identity(base_m, baseline),
            candidate=_identity(cand_m, candidate),
            root_cause=attribute(result.findings, line, baseline, candidate, _last_good(registry)),
        )

    findings = list(notes)
    checks = ["lineage"]
    data_audit = None
    tokens_needed = policy.tokens_audit == "always" or (
        policy.tokens_audit == "auto" and (line.changed("tokenizer") or line.changed("config"))
    )
    # each check's wall time, for CI (JUnit testcase times) and for seeing what a gate costs
    seconds = {"lineage": round(time.perf_counter() - t0, 3)}
    if tokens_needed:
        checks.append("tokens")
        started = time.perf_counter()
        findings += _tokens_findings(baseline, candidate, progress)
        seconds["tokens"] = round(time.perf_counter() - started, 3)
    if policy.data_audit and data_files:
        checks.append("data")
        started = time.perf_counter()
        workdir = cache.with_suffix(".data")
        found, summary = _guarded_data_findings(data_files, policy, workdir, progress)
        findings += found
        data_audit = summary
        seconds["data"] = round(time.perf_counter() - started, 3)
    outcomes, eval_findings = run_suites(policy, planned, models, progress, sequential)
    checks += [f"eval:{o.suite}" for o in outcomes]
    seconds |= {f"eval:{o.suite}": o.seconds for o in outcomes}
    unfiltered = findings + eval_findings
    findings = _apply_policy(unfiltered, policy)
    result = GateResult(
        verdict=verdict_of(findings),
        baseline=_identity(base_m, baseline),
        candidate=_identity(cand_m, candidate),
        policy=policy,
        lineage=line,
        root_cause=attribute(findings, line, baseline, candidate, _last_good(registry)),
        findings=findings,
        evals=outcomes,
        checks_run=checks,
        seconds=time.perf_counter() - t0,
        check_seconds=seconds,
        data_audit=data_audit,
    )
    if cacheable(unfiltered):  # a crash the policy ignores must still run again next time
        write_json_atomic(cache, result.to_dict())
    return result
