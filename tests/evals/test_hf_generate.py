"""hf: generation: batched with a KV cache, every sequence stopping on its own, the same text
as one prompt at a time through model.generate; a chat template where the model has one,
recorded in the run, with completions and the code taken from them kept with the results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tripwire.evals import GenerationConfig, HFBackend, HumanEval, run_eval
from tripwire.evals._decode import DecodeJob, decode, kv_batches
from tripwire.sandbox import Limits, Sandbox

PROMPTS = [
    "def add(a, b):\n",
    "import os\n\nclass Config:\n    def __init__(self",
    "#include <",
    "x",
]


def _generate_one(model, tok, text: str, new: int) -> str:
    ids = tok(text, return_tensors="pt").input_ids
    out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new,
                         do_sample=False, pad_token_id=tok.pad_token_id)  # fmt: skip
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def test_batched_greedy_decoding_equals_generate_one_prompt_at_a_time(tiny_reference) -> None:
    backend = HFBackend(tiny_reference)
    tok, model = backend.tokenizer, backend.model
    jobs = [DecodeJob(i, tok(p).input_ids, 20) for i, p in enumerate(PROMPTS)]
    got = {d.key: d.text for d in decode(model, tok, jobs, eos_ids={tok.eos_token_id},
                                         pad_id=tok.pad_token_id)}  # fmt: skip
    with torch.inference_mode():
        want = {i: _generate_one(model, tok, p, 20) for i, p in enumerate(PROMPTS)}
    assert got == want


def test_each_sequence_stops_on_its_own(tiny_reference) -> None:
    backend = HFBackend(tiny_reference)
    tok, model = backend.tokenizer, backend.model

    # one job stops at its first newline, one after 3 tokens, one runs to its limit of 12
    def newline(text: str) -> int | None:
        return text.find("\n") if "\n" in text else None

    jobs = [
        DecodeJob("newline", tok(PROMPTS[1]).input_ids, 40, stop=newline),
        DecodeJob("short", tok(PROMPTS[0]).input_ids, 3),
        DecodeJob("long", tok(PROMPTS[0]).input_ids, 12),
    ]  # fmt: skip
    done = {d.key: d for d in decode(model, tok, jobs, eos_ids=set(), pad_id=tok.pad_token_id)}
    assert done["short"].new_tokens == 3 and done["short"].reason == "length"
    assert done["long"].new_tokens == 12
    assert done["newline"].reason == "stop" and "\n" not in done["newline"].text
    # a sequence that left the batch does not change those still running
    alone = list(decode(model, tok, jobs[2:], eos_ids=set(), pad_id=tok.pad_token_id))
    assert alone[0].text == done["long"].text


def test_kv_batches_keep_to_the_budget_longest_first() -> None:
    jobs = [DecodeJob(i, [1] * n, 10) for i, n in enumerate([5, 50, 20, 49, 6])]
    batches = kv_batches(jobs, kv_bytes_per_token=100, act_bytes_per_token=0, budget=12_000)
    assert sorted(i for b in batches for i in b) == list(range(5))
    assert batches[0] == [1, 3]  # 2 x (50 + 10) x 100 = 12,000: the two longest together
    for b in batches:
        width = max(len(jobs[i].prompt_ids) for i in b) + 10
        assert len(b) * width * 100 <= 12_000 or len(b) == 1


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture
def chat_model(tiny_reference, tmp_path) -> Path:
    """The tiny reference with two of its reserved special tokens named as ChatML's and a chat
    template: an instruct model's tokenizer, on a model small enough for a test."""
    out = tmp_path / "chat"
    shutil.copytree(tiny_reference, out, ignore=shutil.ignore_patterns("tripwire.json"))
    names = {"<|reserved_0|>": "<|im_start|>", "<|reserved_1|>": "<|im_end|>"}
    for name in ("tokenizer.json", "tokenizer_config.json"):
        text = (out / name).read_text(encoding="utf-8")
        for old, new in names.items():
            text = text.replace(old, new)
        (out / name).write_text(text, encoding="utf-8")
    config = json.loads((out / "tokenizer_config.json").read_text())
    config["chat_template"] = CHATML
    (out / "tokenizer_config.json").write_text(json.dumps(config))
    return out


class TwoProblems(HumanEval):
    def tasks(self):  # type: ignore[no-untyped-def]
        return super().tasks()[:2]


def test_a_chat_model_gets_the_chat_request_and_the_run_records_it(chat_model, tmp_path) -> None:
    backend = HFBackend(chat_model).with_config(GenerationConfig(max_new_tokens=12))
    assert backend._eos_ids(chat=True) >= {3}  # <|im_end|>, read from the template
    described = backend.describe()["prompt_format"]
    assert described["used"] == "chat" and len(described["chat_template_sha256"]) == 64
    with Sandbox(workers=2, limits=Limits(wall_s=5.0, cpu_s=5.0)) as box:
        run = run_eval(TwoProblems(), backend, box, out=tmp_path / "he", n=1, ks=(1,))
    identity = json.loads((tmp_path / "he" / "run.json").read_text())["identity"]
    assert identity["model"]["prompt_format"]["used"] == "chat"
    lines = [json.loads(x) for x in (tmp_path / "he" / "results.jsonl").read_text().splitlines()]
    for line in lines:
        # what the model wrote is kept; nothing fenced in a 12-token answer: the whole answer
        assert line["completion"] and line["extraction"]["method"] == "whole_answer"
    # the same model asked for completions is another run
    raw = HFBackend(chat_model).with_config(
        GenerationConfig(max_new_tokens=12, prompt_format="completion")
    )
    assert raw.identity() != backend.identity()
    assert raw.describe()["prompt_format"] == {"setting": "completion", "used": "completion"}
    assert all(r.completion for r in run.results)


def test_completions_are_kept_with_results_for_completion_models(tiny_reference, tmp_path) -> None:
    backend = HFBackend(tiny_reference).with_config(GenerationConfig(max_new_tokens=8))
    assert backend.describe()["prompt_format"]["used"] == "completion"
    with Sandbox(workers=2, limits=Limits(wall_s=5.0, cpu_s=5.0)) as box:
        run = run_eval(TwoProblems(), backend, box, out=tmp_path / "he", n=1, ks=(1,))
    lines = [json.loads(x) for x in (tmp_path / "he" / "results.jsonl").read_text().splitlines()]
    assert [x["completion"] for x in lines] == [r.completion for r in run.results]
    assert all(x["extraction"] == {} for x in lines)
