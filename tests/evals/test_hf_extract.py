"""The code taken from a chat answer: the fenced block defining the entry point, else the
whole answer; and where generation may stop without changing what is taken."""

from __future__ import annotations

from tripwire.evals._extract import answer_complete, extract_code

ANSWER = """Here is a helper first:

```python
def helper(x):
    return x + 1
```

And the function:

```python
from typing import List


def below_zero(operations: List[int]) -> bool:
    return any(x < 0 for x in operations)
```

It works because any() stops early."""


def test_the_block_defining_the_entry_point_is_taken() -> None:
    got = extract_code(ANSWER, "below_zero")
    assert got.method == "fenced_block" and got.block == 1 and got.blocks == 2 and got.closed
    assert got.code.startswith("from typing import List") and "helper" not in got.code
    assert got.to_dict() == {"method": "fenced_block", "block": 1, "blocks": 2, "closed": True}


def test_without_such_a_block_the_whole_answer_is_taken() -> None:
    got = extract_code(ANSWER, "truncate_number")
    assert got.method == "whole_answer" and got.code == ANSWER and got.blocks == 2
    assert extract_code("    return 1\n", "f").code == "    return 1\n"


def test_an_unclosed_block_is_taken_to_the_end() -> None:
    answer = "Sure:\n```python\ndef f(x):\n    return x"
    got = extract_code(answer, "f")
    assert got.method == "fenced_block" and not got.closed
    assert got.code == "def f(x):\n    return x"


def test_generation_may_stop_once_the_block_is_closed() -> None:
    head = ANSWER[: ANSWER.index("It works")]
    end = answer_complete(head, "below_zero")
    assert end is not None and head[:end].rstrip().endswith("```")
    # what is taken from the answer cut there is what the whole answer gives
    assert extract_code(head[:end], "below_zero").code == extract_code(ANSWER, "below_zero").code
    assert answer_complete(ANSWER[: ANSWER.index("operations)")], "below_zero") is None
    assert answer_complete(ANSWER, None) is None
