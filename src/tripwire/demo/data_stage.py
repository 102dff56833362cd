"""Demo stage 2: a contaminated fine-tuning set is audited and every planted fault is found."""

from __future__ import annotations

import json
from collections import Counter

from tripwire.data import AuditConfig
from tripwire.data import audit as run_audit
from tripwire.demo._gating import gate_line, gate_pair, tuned
from tripwire.demo._stage import StageContext, StageResult
from tripwire.demo.review_data import review_sample
from tripwire.faults import FAULT_KINDS, build_contaminated_set
from tripwire.reference import load_reference_corpus
from tripwire.report import render_data_audit_html
from tripwire.train import TrainConfig

# A careful-looking fine-tune (low rate, half the batches replayed from general code): the only
# thing wrong with the bad release is its data.
MILD = TrainConfig(
    learning_rate=5e-4,
    steps=40,
    batch_size=8,
    context=128,
    warmup_steps=5,
    checkpoint_every=20,
    replay_ratio=0.5,
)

RECALL_REQUIRED = 0.95
FALSE_REMOVAL_ALLOWED = 0.01


def run(ctx: StageContext) -> StageResult:
    """Build the contaminated set from the reference corpus, audit it, compare with the truth."""
    corpus = load_reference_corpus(ctx.reference, "train")
    for lang, files in load_reference_corpus(ctx.reference, "heldout").items():
        corpus.setdefault(lang, []).extend(files)
    ctx.progress("data", 0, 3)
    planted = build_contaminated_set(corpus, clean=400, per_fault=30, seed=0)
    work = ctx.workdir / "data"
    dataset = planted.write_jsonl(work / "contaminated.jsonl")
    ctx.progress("data", 1, 3)
    config = AuditConfig(allow_sources=planted.allow_sources)
    result, report = run_audit(
        [dataset],
        config=config,
        findings=work / "findings.jsonl",
        clean=work / "clean.jsonl",
        progress=ctx.progress,
    )
    render_data_audit_html(result, report, work / "audit.html")
    # people in the loop (#27): a reviewed sample's estimate of what the checks left behind
    reviewed = review_sample(ctx, work, dataset, planted, work / "findings.jsonl", config)
    ctx.progress("data", 2, 3)
    with open(work / "findings.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_removals = clean = 0
    for item, row in zip(planted.items, rows, strict=True):
        if item.fault is None:
            clean += 1
            false_removals += not row["keep"]
        else:
            total[item.fault] += 1
            found[item.fault] += item.fault in row["reasons"]
    table = [
        [fault, str(total[fault]), str(found[fault]), f"{found[fault] / max(1, total[fault]):.0%}"]
        for fault in FAULT_KINDS
    ]
    recall_ok = all(found[f] >= RECALL_REQUIRED * total[f] and total[f] for f in FAULT_KINDS)
    removal_ok = false_removals <= FALSE_REMOVAL_ALLOWED * clean
    ctx.progress("data", 3, 3)
    # The incident: the experimental set trained on as it was (the lines that did not even parse
    # were dropped by the loader), bypassing the audit. The remedy: retrain on the audited copy.
    trainable = work / "experimental.jsonl"
    trainable.write_text(
        "".join(i.line + "\n" for i in planted.items if i.fault != "bad_format"), encoding="utf-8"
    )
    bad = tuned(ctx, trainable, work / "v2-data", MILD, allow_unaudited=True)
    fixed = tuned(ctx, work / "clean.jsonl", work / "v2-data-clean", MILD)
    gates = {"candidate": gate_pair(ctx, ctx.reference, bad),
             "remedy": gate_pair(ctx, ctx.reference, fixed)}  # fmt: skip
    rc = gates["candidate"]["root_cause"] or {}
    gated = (
        gates["candidate"]["verdict"] == "block"
        and rc.get("source") == "data"
        and gates["remedy"]["verdict"] != "block"
    )
    return StageResult(
        name="data",
        title="Training on broken, duplicated and benchmark-leaking code",
        ok=recall_ok and removal_ok and gated and reviewed.ok,
        lines=[
            f"{len(planted.items)} records: {clean} clean, {sum(total.values())} with a planted "
            f"fault; the audit kept {result.kept}",
            f"planted faults found: {sum(found.values())}/{sum(total.values())}; clean records "
            f"wrongly removed: {false_removals}/{clean}",
            f"report: {work / 'audit.html'}  clean set: {work / 'clean.jsonl'}",
            gate_line("on the fine-tune on the experimental set", gates["candidate"]),
            gate_line("on the retrain on the audited set", gates["remedy"]),
            *reviewed.lines,
        ],
        columns=["planted fault", "planted", "found", "recall"],
        rows=table,
        data={
            "gates": gates,
            "injected": (
                f"fine-tune on an experimental set of {len(planted.items)} records, "
                f"{sum(total.values())} of them broken, duplicated, mislabelled or leaking "
                "benchmark items (audit bypassed)"
            ),
            "remedy": (
                f"tripwire data audit {trainable} --clean {work / 'clean.jsonl'} && "
                f"tripwire train finetune {ctx.reference} --data {work / 'clean.jsonl'} "
                f"--out {fixed}"
            ),
            "records": len(planted.items),
            "clean": clean,
            "false_removals": false_removals,
            "recall": {f: found[f] / max(1, total[f]) for f in FAULT_KINDS},
            "audit": result.to_dict()["summary"],
            "throughput": result.throughput(),
            "report": str(work / "audit.html"),
            "shortfalls": planted.shortfalls,
            "review": reviewed.data,
        },
    )
