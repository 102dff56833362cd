"""The release gate: what changed (lineage), the checks that change calls for (tokens audit,
training-data audit, eval suites on both models), one verdict and the finding that decided it.

```python
from tripwire.gate import Policy, gate

result = gate("models/v1", "models/v2", policy=Policy.from_toml("gate.toml"))
print(result.verdict, result.root_cause.remedy if result.root_cause else "")
for suite in result.evals:  # typed: SuiteOutcome, its RunComparison and SliceComparisons
    print(suite.suite, suite.verdict, [c.label for c in suite.slices if c.status == "regressed"])
```
"""

from tripwire.gate._attribution import RootCause, attribute
from tripwire.gate._bisect import BisectResult, bisect, chain_between
from tripwire.gate._evals import SuiteOutcome
from tripwire.gate._gate import GATE_VERSION, GateResult, gate
from tripwire.gate._lineage import Change, Lineage, lineage
from tripwire.gate._policy import Policy, SuitePolicy

__all__ = [
    "GATE_VERSION",
    "BisectResult",
    "Change",
    "GateResult",
    "Lineage",
    "Policy",
    "RootCause",
    "SuiteOutcome",
    "SuitePolicy",
    "attribute",
    "bisect",
    "chain_between",
    "gate",
    "lineage",
]
