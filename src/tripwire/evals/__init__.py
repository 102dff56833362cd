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

import importlib
from typing import TYPE_CHECKING, Any

# Loaded on first use: `eval run samples:...` needs neither the comparison statistics (scipy)
# nor the model backends (torch, transformers), and every CLI call pays for what it imports.
# Suites and backends register themselves when their module loads; get_suite and
# backend_from_spec load the built-in ones by name.
if TYPE_CHECKING:
    from tripwire.evals._backend import (
        BACKENDS,
        BUILTIN_BACKENDS,
        Backend,
        backend_class,
        backend_from_spec,
        register_backend,
    )
    from tripwire.evals._compare import RunComparison, compare_runs, load_run
    from tripwire.evals._cpu_limits import CpuLimits
    from tripwire.evals._generation import GenerationConfig
    from tripwire.evals._hf import HFBackend
    from tripwire.evals._humaneval import HumanEval
    from tripwire.evals._lm_eval import lm_eval_results
    from tripwire.evals._openai import OpenAIBackend
    from tripwire.evals._passk import mean_pass_at_k, pass_at_k
    from tripwire.evals._results import ResultsLog
    from tripwire.evals._run import (
        RESULTS_FILE,
        RUN_FILE,
        SUMMARY_FILE,
        EvalRun,
        cached_eval,
        cached_run_dir,
        default_run_dir,
        run_eval,
        run_identity,
        summarize,
    )
    from tripwire.evals._samples import SamplesBackend, read_samples
    from tripwire.evals._self_test import ReferenceCheck, ReferenceCheckFailed, check_references
    from tripwire.evals._sequential_run import ScoringFailed, SequentialPlan, compare_models
    from tripwire.evals._suite import (
        BUILTIN_SUITES,
        SUITES,
        ExecutionSuite,
        Suite,
        get_suite,
        register_suite,
        suite_class,
        suite_options,
    )
    from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
    from tripwire.evals.multilang import MultiLangHumanEval

_WHERE = {
    "BACKENDS": "_backend",
    "Backend": "_backend",
    "CpuLimits": "_cpu_limits",
    "EvalRun": "_run",
    "ExecutionSuite": "_suite",
    "GenerationConfig": "_generation",
    "HFBackend": "_hf",
    "HumanEval": "_humaneval",
    "MetricSpec": "_types",
    "MultiLangHumanEval": "multilang",
    "OpenAIBackend": "_openai",
    "RESULTS_FILE": "_run",
    "RUN_FILE": "_run",
    "ReferenceCheck": "_self_test",
    "ReferenceCheckFailed": "_self_test",
    "ResultsLog": "_results",
    "ScoringFailed": "_sequential_run",
    "SequentialPlan": "_sequential_run",
    "compare_models": "_sequential_run",
    "RunComparison": "_compare",
    "SUITES": "_suite",
    "SUMMARY_FILE": "_run",
    "Sample": "_types",
    "SampleResult": "_types",
    "SamplesBackend": "_samples",
    "Suite": "_suite",
    "Task": "_types",
    "backend_from_spec": "_backend",
    "cached_eval": "_run",
    "cached_run_dir": "_run",
    "check_references": "_self_test",
    "compare_runs": "_compare",
    "default_run_dir": "_run",
    "get_suite": "_suite",
    "load_run": "_compare",
    "lm_eval_results": "_lm_eval",
    "mean_pass_at_k": "_passk",
    "pass_at_k": "_passk",
    "read_samples": "_samples",
    "register_backend": "_backend",
    "register_suite": "_suite",
    "suite_class": "_suite",
    "suite_options": "_suite",
    "BUILTIN_SUITES": "_suite",
    "BUILTIN_BACKENDS": "_backend",
    "backend_class": "_backend",
    "run_eval": "_run",
    "run_identity": "_run",
    "summarize": "_run",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"tripwire.evals.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tripwire.evals' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "BUILTIN_BACKENDS",
    "BUILTIN_SUITES",
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
    "MultiLangHumanEval",
    "OpenAIBackend",
    "ReferenceCheck",
    "ReferenceCheckFailed",
    "ResultsLog",
    "RunComparison",
    "Sample",
    "SampleResult",
    "SamplesBackend",
    "ScoringFailed",
    "SequentialPlan",
    "Suite",
    "Task",
    "backend_class",
    "backend_from_spec",
    "cached_eval",
    "cached_run_dir",
    "check_references",
    "compare_models",
    "compare_runs",
    "default_run_dir",
    "get_suite",
    "lm_eval_results",
    "load_run",
    "mean_pass_at_k",
    "pass_at_k",
    "read_samples",
    "register_backend",
    "register_suite",
    "run_eval",
    "run_identity",
    "suite_class",
    "suite_options",
    "summarize",
]
