"""Generation speed of ``hf:`` on HumanEval against plain ``model.generate``, in the same run.

Both sides get the same prompts (the model's chat template around HumanEval's request, as
``eval run --suite humaneval`` sends them), greedy decoding, the same token limit and the same
end-of-turn token:

- ``tripwire``: ``HFBackend.generate`` (batches sized by the memory budget, KV cache, each
  sequence leaving its batch at its end-of-turn token or once its answer's code block is closed);
- ``generate x1``: ``model.generate`` one prompt at a time (KV cache, stops at end-of-turn).

Prints generated tokens, wall time and tokens/s of each, how many answers are identical, and
the load average. ``--problems`` limits the prompts (the one-at-a-time side is slow); the
tripwire side can also run all 164 problems (``--all``) to time a whole HumanEval generation.

    python benchmarks/generation.py [--model DIR] [--problems 24] [--max-new-tokens 512] [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="checkpoint (default: the smollm2 import)")
    ap.add_argument("--problems", type=int, default=24)
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--all", action="store_true", help="also time tripwire on all 164 problems")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from tripwire.evals import GenerationConfig, HFBackend, HumanEval
    from tripwire.evals._chat import chat_prompt_ids
    from tripwire.reference import import_model

    model_dir = args.model or import_model("smollm2").path
    tasks = HumanEval().tasks()
    backend = HFBackend(model_dir).with_config(GenerationConfig(args.max_new_tokens))
    tok, model = backend.tokenizer, backend.model
    eos = sorted(backend._eos_ids(chat=True))
    subset = tasks[: args.problems]
    rows = []

    def count(texts: list[str]) -> int:
        return sum(len(tok(t, add_special_tokens=False).input_ids) for t in texts)

    print(f"model {model_dir}; {len(subset)} problems; max {args.max_new_tokens} new tokens; "
          f"torch threads {torch.get_num_threads()}; load {_load()}", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    ours = {s.task_id: s.completion for s in backend.generate(subset, 1)}
    ours_s = time.perf_counter() - t0
    rows.append(("tripwire", len(subset), count(list(ours.values())), ours_s, _load()))
    print(f"tripwire done in {ours_s:.0f}s (load {_load()})", flush=True)

    plain: dict[str, str] = {}
    t0 = time.perf_counter()
    with torch.inference_mode():
        for task in subset:
            ids = torch.tensor([chat_prompt_ids(tok, task.instruction)])
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=args.max_new_tokens, eos_token_id=eos,
                                 pad_token_id=tok.pad_token_id)  # fmt: skip
            plain[task.task_id] = tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
    plain_s = time.perf_counter() - t0
    rows.append(("generate x1", len(subset), count(list(plain.values())), plain_s, _load()))
    # tripwire may stop earlier (once the answer's code block is closed): compare what each
    # answer holds up to there
    same = sum(plain[k].startswith(v) for k, v in ours.items())

    if args.all:
        t0 = time.perf_counter()
        everything = list(backend.generate(tasks, 1))
        all_s = time.perf_counter() - t0
        rows.append(("tripwire, all 164", len(tasks), count([s.completion for s in everything]),
                     all_s, _load()))  # fmt: skip

    print("\n| method | prompts | generated tokens | wall s | tokens/s | load after |")
    print("|---|---|---|---|---|---|")
    for name, n, toks, secs, load in rows:
        print(f"| {name} | {n} | {toks} | {secs:.0f} | {toks / secs:.1f} | {load} |")
    print(f"\nanswers identical up to tripwire's stop: {same}/{len(subset)}; speed-up "
          f"{plain_s / ours_s:.1f}x in wall time on the same {len(subset)} prompts")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "identical": same}, indent=2))


if __name__ == "__main__":
    main()
