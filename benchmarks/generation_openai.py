"""Generation tokens/s through ``openai:`` against a local OpenAI-compatible server, one request
at a time vs many in flight, next to the in-process ``hf:`` backend on the same model, in one run.

The server is the test suite's stand-in (``tests/support/openai_server.py``): uvicorn + FastAPI
in its own process, serving the checkpoint through transformers with the same decoder as
``hf:``, greedy; requests that arrive while the model is busy are decoded together as one batch
(as vLLM and TGI batch them), so the client's window is what lets the server batch. Every side
gets the same prompts (the ``completion`` suite's, from the model's held-out corpus, each with
its stop sequence and token budget).

Speed: the sides take turns, round after round (``hf:``, then ``openai:`` at each concurrency,
against one warm server), and each side's best round is reported, so a machine shared with other
work slows every side alike. Memory: each side once more in a fresh child process, against a
fresh server process for ``openai:``, so peak resident memory (``VmHWM``) is each process's own:
the client's and the server's for ``openai:``, the one process's for ``hf:``.

Prints a markdown table: generated tokens, best wall time, tokens/s, the ratio to ``hf:`` and to
``openai:`` at concurrency 1, the server's batches in the best round, peak memory, and how many
completions equal ``hf:``'s.

    python benchmarks/generation_openai.py [--model DIR] [--per-language 40] [--n 1]
        [--concurrency 1,4,8,32] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.openai_server: the stand-in server


def _peak_rss(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _tasks(model: Path, per_language: int) -> list[Any]:
    from tripwire.evals import get_suite

    return get_suite("completion", corpus=model, max_per_language=per_language).tasks()


def _backend(args: argparse.Namespace, side: str, url: str | None) -> Any:
    from tripwire.evals import GenerationConfig, HFBackend, backend_from_spec

    cfg = GenerationConfig(args.max_new_tokens)
    if side == "hf":
        return HFBackend(args.model).with_config(cfg)
    spec = f"openai:{url}#bench?concurrency={side.removeprefix('openai-')}"
    return backend_from_spec(spec).with_config(cfg)


def child(args: argparse.Namespace) -> None:
    """One side once, in a fresh process: its peak memory, as one JSON line."""
    tasks = _tasks(args.model, args.per_language)
    list(_backend(args, args.child, args.url).generate(tasks, args.n))
    print(json.dumps({"peak": _peak_rss()}))


def _child_peak(args: argparse.Namespace, side: str, url: str | None = None) -> int:
    cmd = [sys.executable, __file__, "--child", side, "--model", str(args.model),
           "--per-language", str(args.per_language), "--n", str(args.n),
           "--max-new-tokens", str(args.max_new_tokens),
           *(["--url", url] if url else [])]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr[-3000:]}")
    return int(json.loads(done.stdout.strip().splitlines()[-1])["peak"])


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="checkpoint (default: the tiny reference model)")
    ap.add_argument("--per-language", type=int, default=40, help="completion prompts per language")
    ap.add_argument("--n", type=int, default=1, help="samples per prompt")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--concurrency", default="1,4,8,32", help="comma-separated windows")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds; each side's best counts")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.model is None:
        from tripwire.reference import build_reference

        args.model = build_reference("tiny").path
    if args.child:
        child(args)
        return

    import httpx
    import torch
    from transformers import AutoTokenizer

    from tests.support.openai_server import serve_process

    tasks = _tasks(args.model, args.per_language)
    sides = ["hf", *(f"openai-{c}" for c in args.concurrency.split(","))]
    print(f"model {args.model}; {len(tasks)} prompts x n={args.n}; max {args.max_new_tokens} new "
          f"tokens; best of {args.rounds} rounds; torch threads {torch.get_num_threads()}; cpus "
          f"{os.cpu_count()}; load {_load()}", flush=True)  # fmt: skip
    best: dict[str, float] = {}
    texts: dict[str, list[str]] = {}
    batches: dict[str, int] = {}
    with serve_process(args.model, "bench") as server:
        stats = server.url.removesuffix("/v1") + "/admin/stats"
        backends = {side: _backend(args, side, server.url) for side in sides}
        for backend in backends.values():  # warm: models loaded, connections open
            list(backend.generate(tasks[:8], 1))
        for r in range(args.rounds):
            for side, backend in backends.items():
                httpx.get(stats)  # resets the server's counters
                t0 = time.perf_counter()
                samples = list(backend.generate(tasks, args.n))
                took = time.perf_counter() - t0
                if took < best.get(side, float("inf")):
                    best[side] = took
                    batches[side] = httpx.get(stats).json()["batches"]
                texts[side] = [s.completion for s in samples]
            print(f"round {r + 1} done (load {_load()})", flush=True)
    peaks = {"hf": (_child_peak(args, "hf"), 0)}
    for side in sides[1:]:
        with serve_process(args.model, "bench") as server:
            client = _child_peak(args, side, server.url)
            peaks[side] = (client, server.peak_rss_bytes())
    print(f"memory pass done (load {_load()})", flush=True)

    tok = AutoTokenizer.from_pretrained(args.model)
    rows = []
    for side in sides:
        tokens = sum(len(tok(t, add_special_tokens=False).input_ids) for t in texts[side])
        same = sum(a == b for a, b in zip(texts[side], texts["hf"], strict=True))
        rows.append({"side": side, "samples": len(texts[side]), "tokens": tokens,
                     "seconds": best[side], "tokens_per_s": tokens / best[side],
                     "server_batches": batches[side] if side != "hf" else None,
                     "peak_bytes": peaks[side][0], "server_peak_bytes": peaks[side][1] or None,
                     "same_as_hf": same})  # fmt: skip
    hf_rate = rows[0]["tokens_per_s"]
    seq_rate = next((r["tokens_per_s"] for r in rows if r["side"] == "openai-1"), None)
    print(
        "\n| side | samples | tokens | best s | tokens/s | vs hf: | vs openai c=1 | server "
        "batches | client/process peak MiB | server peak MiB | same as hf: |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        label = "hf: in process" if r["side"] == "hf" else \
            f"openai: concurrency {r['side'].removeprefix('openai-')}"  # fmt: skip
        vs_seq = f"{r['tokens_per_s'] / seq_rate:.2f}x" if seq_rate and r["side"] != "hf" else ""
        server_mib = f"{r['server_peak_bytes'] / 2**20:.0f}" if r["server_peak_bytes"] else "-"
        print(f"| {label} | {r['samples']} | {r['tokens']} | {r['seconds']:.2f} | "
              f"{r['tokens_per_s']:.0f} | {r['tokens_per_s'] / hf_rate:.2f}x | {vs_seq} | "
              f"{r['server_batches'] if r['server_batches'] is not None else '-'} | "
              f"{r['peak_bytes'] / 2**20:.0f} | {server_mib} | "
              f"{r['same_as_hf']}/{r['samples']} |")  # fmt: skip
    if args.json:
        from tripwire.artifacts import write_json_atomic

        write_json_atomic(args.json, rows)


if __name__ == "__main__":
    main()
