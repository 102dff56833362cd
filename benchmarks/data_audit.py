"""`tripwire data audit` next to datatrove's MinHash deduplication, on the same real code.

Corpus: top-level functions and classes of every ``.py`` file in the standard library and the
installed site-packages (at least 50k records by default), written once as JSONL. Both tools get
the same 2 workers and the same shingling: 5-token shingles and the same LSH banding (the bands
and rows tripwire uses at its threshold, which are datasketch's choice, passed to datatrove's
MinhashConfig; datatrove's other settings are its defaults). tripwire runs its whole audit
(syntax, truncation, language, prose, secrets in every string of each record, quality, static
analysis: one ruff run per shard with the F, B, S, E7 and PERF rules, decontamination against
every HumanEval item on its three streams, exact + near dedup, the out-of-domain flags);
datatrove runs only its four MinHash dedup stages. Both write the records they keep.

Reports records/s, MB/s, peak memory (resident set of the whole process tree, sampled), and how
far the two duplicate sets agree. datatrove's English word tokenizer is spaCy's blank ``en``
pipeline, which works offline (no model download), so nothing here touches the network.

    python benchmarks/data_audit.py --records 50000 --workers 2

Needs ``pip install 'tripwire[bench]'`` (datatrove and spaCy).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

_DEF = re.compile(r"^(?:@[^\n]*\n)*(?:async\s+def|def|class)\s", re.MULTILINE)


def build_corpus(path: Path, records: int) -> int:
    """Top-level definitions of installed Python files, in a stable order."""
    roots = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]})
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        for root in roots:
            for file in sorted(Path(root).rglob("*.py")):
                try:
                    text = file.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                starts = [m.start() for m in _DEF.finditer(text)]
                for a, b in zip(starts, [*starts[1:], len(text)], strict=False):
                    chunk = text[a:b].rstrip() + "\n"
                    if not 80 <= len(chunk) <= 20_000:
                        continue
                    rec = {
                        "id": f"{file}:{text.count(chr(10), 0, a) + 1}",
                        "text": chunk,
                        "language": "python",
                        "source": "installed",
                    }
                    out.write(json.dumps(rec) + "\n")
                    n += 1
                    if n >= records:
                        return n
    return n


def _tree(pid: int) -> tuple[int, dict[int, float]]:
    """Resident bytes of ``pid`` and its descendants, and each one's CPU seconds so far."""
    children: dict[int, list[int]] = {}
    stat: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stat[int(entry)] = fields
    rss, cpu, todo = 0, {}, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        if p in stat:
            rss += int(stat[p][21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[p] = (int(stat[p][11]) + int(stat[p][12])) / tick  # utime + stime
        todo += children.get(p, [])
    return rss, cpu


def measure(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the whole tree, peak tree RSS bytes, stdout) of a command.

    CPU seconds are the kernel's account of the command and every descendant it waited for
    (both tools reap their worker processes), or the /proc samples if those add up to more;
    memory is sampled from /proc every 0.2 s. CPU seconds hold up better than wall time on a
    machine shared with other work."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    cpu: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            rss, now = _tree(proc.pid)
            peak = max(peak, rss)
            cpu.update(now)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{output[-3000:]}")
    reaped = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, max(reaped, sum(cpu.values())), peak, output


def run_datatrove(data: Path, work: Path, workers: int, bands: int, rows: int) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    cfg = MinhashConfig(n_grams=5, num_buckets=bands, hashes_per_bucket=rows)
    # datatrove shards by input file: split the corpus so both workers get work.
    shards = work / "input"
    shards.mkdir()
    with open(data, encoding="utf-8") as f:
        lines = f.readlines()
    per = (len(lines) + workers - 1) // workers
    for k in range(workers):
        (shards / f"part{k}.jsonl").write_text("".join(lines[k * per : (k + 1) * per]))

    def reader() -> JsonlReader:
        return JsonlReader(str(shards), text_key="text", id_key="id")

    stages = [
        [reader(), MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
        [
            MinhashDedupBuckets(
                input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=cfg
            )
        ],
        [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"), output_folder=str(work / "ids"), config=cfg
            )
        ],
        [
            reader(),
            MinhashDedupFilter(input_folder=str(work / "ids")),
            JsonlWriter(str(work / "out"), compression=None),
        ],
    ]
    tasks = [workers, bands, 1, workers]
    for n, (pipeline, t) in enumerate(zip(stages, tasks, strict=True)):
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=t, workers=min(workers, t), logging_dir=str(work / f"logs{n}")
        ).run()


def datatrove_kept(work: Path) -> set[str]:
    kept = set()
    for f in sorted((work / "out").glob("*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            kept |= {json.loads(line)["id"] for line in fh}
    return kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--_datatrove", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._datatrove:
        data, work, workers, bands, rows = args._datatrove
        run_datatrove(Path(data), Path(work), int(workers), int(bands), int(rows))
        return
    from tripwire.data._minhash import bands_and_rows

    bands, rows_per_band = bands_and_rows(args.threshold, 128)
    work = args.work or Path(tempfile.mkdtemp(prefix="tripwire-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "corpus.jsonl"
    n = build_corpus(data, args.records)
    mb = data.stat().st_size / 1e6
    print(f"corpus: {n} records, {mb:.1f} MB of real Python (stdlib + site-packages)")

    tw = work / "tripwire"
    shutil.rmtree(tw, ignore_errors=True)
    tw.mkdir()
    # The machine may be shared: the 1-minute load average around each run shows how much.
    load = [os.getloadavg()[0]]
    t_tw, cpu_tw, rss_tw, _ = measure(
        [
            str(Path(sys.executable).parent / "tripwire"),
            "data",
            "audit",
            str(data),
            "--findings",
            str(tw / "findings.jsonl"),
            "--clean",  # datatrove writes its kept records too
            str(tw / "clean.jsonl"),
            "--json",
            str(tw / "summary.json"),
            "--workers",
            str(args.workers),
            "--near-dup-threshold",
            str(args.threshold),
            "--no-tests",
        ]
    )
    load.append(os.getloadavg()[0])
    summary = json.loads((tw / "summary.json").read_text())
    dups_tw = set()
    with open(tw / "findings.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if {"exact_duplicate", "near_duplicate"} & set(row["reasons"]):
                dups_tw.add(row["id"])

    dt = work / "datatrove"
    shutil.rmtree(dt, ignore_errors=True)
    dt.mkdir()
    t_dt, cpu_dt, rss_dt, _ = measure(
        [
            sys.executable,
            __file__,
            "--_datatrove",
            str(data),
            str(dt),
            str(args.workers),
            str(bands),
            str(rows_per_band),
        ]
    )
    load.append(os.getloadavg()[0])
    with open(data, encoding="utf-8") as f:
        all_ids = {json.loads(line)["id"] for line in f}
    dups_dt = all_ids - datatrove_kept(dt)

    both = dups_tw & dups_dt
    union = dups_tw | dups_dt
    rows = [
        ("tripwire data audit (all checks)", t_tw, cpu_tw, rss_tw, len(dups_tw)),
        ("datatrove MinHash dedup only", t_dt, cpu_dt, rss_dt, len(dups_dt)),
    ]
    print(
        f"\n{args.workers} workers, 5-token shingles, LSH {bands} bands x {rows_per_band} rows "
        f"(threshold {args.threshold})\n"
    )
    print("| tool | wall s | CPU s | records/s | MB/s | peak RSS (MB) | duplicates removed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, t, cpu, rss, d in rows:
        print(
            f"| {name} | {t:.1f} | {cpu:.1f} | {n / t:.0f} | {mb / t:.2f} | {rss / 1e6:.0f} | {d} |"
        )
    print(f"\nspeed-up, datatrove / tripwire: {t_dt / t_tw:.1f}x wall, {cpu_dt / cpu_tw:.1f}x CPU")
    print(
        f"duplicate sets: both {len(both)}, tripwire only {len(dups_tw - dups_dt)}, "
        f"datatrove only {len(dups_dt - dups_tw)}, Jaccard {len(both) / max(1, len(union)):.3f}"
    )
    print(
        f"1-minute load average ({os.cpu_count()} cores): {load[0]:.1f} before, "
        f"{load[1]:.1f} between, {load[2]:.1f} after"
    )
    reasons = {k: v for k, v in summary["summary"]["by_reason"].items() if v}
    print(f"tripwire reasons: {json.dumps(reasons)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "records": n,
                    "mb": mb,
                    "workers": args.workers,
                    "load_average": load,
                    "bands": bands,
                    "rows": rows_per_band,
                    "tripwire": {
                        "seconds": t_tw,
                        "cpu_seconds": cpu_tw,
                        "peak_rss": rss_tw,
                        "duplicates": len(dups_tw),
                        "by_reason": summary["summary"]["by_reason"],
                    },
                    "datatrove": {
                        "seconds": t_dt,
                        "cpu_seconds": cpu_dt,
                        "peak_rss": rss_dt,
                        "duplicates": len(dups_dt),
                    },
                    "agreement": {
                        "both": len(both),
                        "tripwire_only": len(dups_tw - dups_dt),
                        "datatrove_only": len(dups_dt - dups_tw),
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
