"""Online per-event checks on real completions."""

from __future__ import annotations

from tripwire.monitor import Event, check_event, code_blocks, unexpected_characters


def _event(text: str, **kw) -> Event:
    base = {"completion": text, "prompt_hash": "p1", "model_version": "v1", "deployment": "d",
            "hardware": "h", "route": "chat", "latency_ms": 10.0, "prompt_tokens": 5,
            "completion_tokens": 20}  # fmt: skip
    return Event(**{**base, **kw})


def test_code_blocks_with_tags_and_unclosed_fence() -> None:
    text = "Try:\n```python\nx = 1\n```\nand\n```js\nlet y = 2;\n"
    blocks = code_blocks(text)
    assert [(b.language, b.closed) for b in blocks] == [("python", True), ("javascript", False)]
    assert blocks[0].code == "x = 1\n"
    assert code_blocks("no code here") == []
    assert code_blocks("print(1)\n", "python")[0].language == "python"


def test_syntax_error_per_language() -> None:
    good = _event("Here:\n```python\ndef f(x):\n    return x\n```\n")
    bad_py = _event("Here:\n```python\ndef f(x)\n    return x\n```\n")
    bad_js = _event("```javascript\nfunction f(x) {\n  return [x;\n}\n```\n")
    prose = _event("Use a dictionary for constant-time lookups.")
    assert check_event(good).flags["syntax_error"] is False
    r = check_event(bad_py)
    assert (
        r.flags["syntax_error"] is True and r.details["syntax"][0]["line"] == 3
    )  # line in the completion
    assert check_event(bad_js).flags["syntax_error"] is True
    assert check_event(prose).flags["syntax_error"] is None  # nothing to parse


def test_unexpected_scripts_and_corruption() -> None:
    assert unexpected_characters("total = sum(x)  # ok, naïve café") == []
    assert unexpected_characters("area = π * r ** 2  ✓ 🚀") == []  # Greek and symbols are fine
    assert unexpected_characters("return toกtal") == ["ก"]
    assert unexpected_characters("x = 1\x00") == ["\x00"]
    assert unexpected_characters("bad \ufffd byte") == ["\ufffd"]
    r = check_event(_event("```python\nreturn 你好\n```\n"))
    assert r.flags["unexpected_script"] is True
    assert r.details["characters"][0].startswith("U+4F60 CJK")
    assert unexpected_characters("привет", frozenset({"LATIN", "CYRILLIC"})) == []


def test_truncation_refusal_and_empty() -> None:
    assert check_event(_event("```python\ndef f():\n")).flags["truncated"] is True
    assert check_event(_event("x", finish_reason="length")).flags["truncated"] is True
    at_limit = _event("x = 1", completion_tokens=64, max_tokens=64)
    assert check_event(at_limit).flags["truncated"] is True
    assert (
        check_event(_event("I'm sorry, but I can't help with that.")).flags["empty_or_refusal"]
        is True
    )
    assert check_event(_event("   ")).flags["empty_or_refusal"] is True
    assert check_event(_event("Sure, here it is.")).flags["empty_or_refusal"] is False


def test_sampler_health_from_logprobs() -> None:
    greedy_ok = _event("x", temperature=0.0, top1=[True] * 4, logprobs=[-0.01] * 4)
    greedy_bad = _event("x", temperature=0.0, top1=[True, False, True, True],
                        logprobs=[-0.01, -6.0, -0.01, -0.01])  # fmt: skip
    sampled = _event("x", temperature=0.8, top1=[True, False], logprobs=[-0.1, -0.2])
    assert check_event(greedy_ok).flags["not_top1"] is False
    assert check_event(greedy_ok).flags["low_prob"] is False
    assert check_event(greedy_bad).flags["not_top1"] is True
    assert check_event(greedy_bad).flags["low_prob"] is True
    assert check_event(sampled).flags["not_top1"] is None  # not top-1 is normal when sampling
    assert check_event(_event("x")).flags["low_prob"] is None
