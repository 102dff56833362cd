"""Evaluation: suites (what is measured), backends (where completions come from), runs
(resumable, recorded in the registry) and pass@k.

```python
from tripwire.evals import backend_from_spec, get_suite, run_eval
from tripwire.sandbox import Sandbox

with Sandbox() as box:
    run = run_eval(get_suite("humaneval"), backend_from_spec("samples:out.jsonl"), box)
print(run.summary["pass_at_k"])
```
"""

from tripwire.evals import (  # noqa: F401 - register the built-ins
    _canaries,
    _completion,
    _hf,
    _humaneval,
    _openai,
    _retention,
    _samples,
    _vllm,
)
from tripwire.evals._backend import BACKENDS, Backend, backend_from_spec, register_backend
from tripwire.evals._compare import RunComparison, compare_runs, load_run
from tripwire.evals._cpu_limits import CpuLimits
from tripwire.evals._generation import GenerationConfig
from tripwire.evals._hf import HFBackend
from tripwire.evals._humaneval import HumanEval
from tripwire.evals._openai import OpenAIBackend
from tripwire.evals._passk import mean_pass_at_k, pass_at_k
from tripwire.evals._results import ResultsLog
from tripwire.evals._run import (
    RESULTS_FILE,
    RUN_FILE,
    SUMMARY_FILE,
    EvalRun,
    ReferenceCheck,
    ReferenceCheckFailed,
    cached_eval,
    cached_run_dir,
    check_references,
    default_run_dir,
    run_eval,
    run_identity,
    summarize,
)
from tripwire.evals._samples import SamplesBackend, read_samples
from tripwire.evals._suite import SUITES, ExecutionSuite, Suite, get_suite, register_suite
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task

__all__ = [
    "BACKENDS",
    "RESULTS_FILE",
    "RUN_FILE",
    "SUITES",
    "SUMMARY_FILE",
    "Backend",
    "CpuLimits",
    "EvalRun",
    "ExecutionSuite",
    "GenerationConfig",
    "HFBackend",
    "HumanEval",
    "MetricSpec",
    "OpenAIBackend",
    "ReferenceCheck",
    "ReferenceCheckFailed",
    "ResultsLog",
    "RunComparison",
    "Sample",
    "SampleResult",
    "SamplesBackend",
    "Suite",
    "Task",
    "backend_from_spec",
    "cached_eval",
    "cached_run_dir",
    "check_references",
    "compare_runs",
    "default_run_dir",
    "get_suite",
    "load_run",
    "mean_pass_at_k",
    "pass_at_k",
    "read_samples",
    "register_backend",
    "register_suite",
    "run_eval",
    "run_identity",
    "summarize",
]
