"""hf: log-likelihood scores tokens, not windows: the same scores as full-window scoring, memory
bounded by a chunk of logits, and models that cannot fit the budget refused before loading."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from tripwire.cli import main
from tripwire.evals import HFBackend, get_suite
from tripwire.reference import stream_windows

ROOT = Path(__file__).resolve().parents[2]


def _full_window_scores(backend: HFBackend, texts: list[str]) -> list[tuple[float, int]]:
    """The scoring this replaced: every text padded to whole windows of context - 1 inputs,
    logits of the whole window at once."""
    tok, model = backend.tokenizer, backend.model
    bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    out = []
    with torch.inference_mode():
        for enc in tok.backend_tokenizer.encode_batch(texts):
            w = stream_windows([bos, *enc.ids], backend.context - 1)
            inputs, targets = w[:, :-1].clone(), w[:, 1:]
            valid = targets >= 0
            inputs[inputs < 0] = tok.pad_token_id
            logits = model(input_ids=inputs).logits.float()
            nll = torch.nn.functional.cross_entropy(
                logits.transpose(1, 2), targets.clamp(min=0), reduction="none"
            )
            out.append((float((nll * valid).sum()), int(valid.sum())))
    return out


def test_scores_equal_full_window_scoring_on_the_reference_model(tiny_reference) -> None:
    suite = get_suite("retention", corpus=tiny_reference, max_per_language=6)
    texts = [t.prompt for t in suite.tasks()]
    texts += ["x", "", "def f():\n    return 1\n" * 40]  # a 1-token, an empty and a long text
    backend = HFBackend(tiny_reference)
    got = backend.loglikelihood(texts)
    want = _full_window_scores(backend, texts)
    assert [n for _, n in got] == [n for _, n in want]
    np.testing.assert_allclose([x for x, _ in got], [x for x, _ in want], rtol=2e-5, atol=1e-4)
    # texts longer than the 127-token window were split: the comparison covered that case
    assert max(n for _, n in want) > 2 * 127


def test_overlap_scores_every_token_once_with_more_context(tiny_reference) -> None:
    backend = HFBackend(tiny_reference)
    text = "int main(void) { return 0; }\n" * 60
    (plain, n0), (overlapped, n1) = (
        backend.loglikelihood([text, text], window=64)[0],
        (backend.loglikelihood([text], window=64, overlap=32)[0]),
    )
    assert n0 == n1
    # a repetitive text is easier to predict with the previous window's tail in view
    assert overlapped < plain


def _one_layer_llama(tmp: Path, tokenizer_from: Path) -> Path:
    """A random one-layer Llama with SmolLM2's vocabulary (49,152) and context (8,192)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=49_152, hidden_size=64, intermediate_size=128,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=8192, tie_word_embeddings=True,
                         bos_token_id=0, eos_token_id=0, pad_token_id=1)  # fmt: skip
    torch.manual_seed(0)
    out = tmp / "llama-1layer"
    LlamaForCausalLM(config).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_from / name, out / name)
    return out


SCORE_AND_REPORT_PEAK = """
import json, re, sys
from tripwire.evals import HFBackend
texts = [f"def f{i}(x):\\n    return x * {i}\\n" * (1 + i) for i in range(8)]
scores = HFBackend(sys.argv[1]).loglikelihood(texts)
# VmHWM is this program's own peak: ru_maxrss also carries the parent's (the pytest worker's)
# peak across a vfork + exec
hwm = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())
peak = int(hwm.group(1)) * 1024
print(json.dumps({"peak": peak, "scores": scores}))
"""


def test_a_real_vocabulary_and_context_score_in_bounded_memory(tmp_path, tiny_reference) -> None:
    model = _one_layer_llama(tmp_path, tiny_reference)
    run = subprocess.run(
        [sys.executable, "-c", SCORE_AND_REPORT_PEAK, str(model)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # padding eight short texts to the 8,192-token context held 8 x 8,191 x 49,152 logits
    assert report["peak"] < 1_000_000_000, report["peak"]
    assert all(n > 0 and np.isfinite(x) for x, n in report["scores"])


def test_a_model_that_cannot_fit_the_budget_is_refused_before_loading(
    capsys, tmp_path, tiny_reference
) -> None:
    out = tmp_path / "run"
    code = main(["eval", "run", f"hf:{tiny_reference}", "--suite", "retention",
                 "--max-memory", "300MB", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--max-memory" in err and "needs about" in err
    assert not out.exists()


def test_a_bad_budget_is_bad_input(capsys, tiny_reference) -> None:
    code = main(["eval", "run", f"hf:{tiny_reference}", "--suite", "retention",
                 "--max-memory", "lots"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--max-memory" in err and "lots" in err
