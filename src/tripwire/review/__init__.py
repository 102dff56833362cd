"""People in the loop: expert review of fine-tuning data and human evaluation of two models.

```python
from tripwire.review import DataPlan, Target, create_data_review, apply_data_review, ReviewStore

made = create_data_review("review/", [Path("train.jsonl")], Path("findings.jsonl"),
                          reviewers=["ana", "ben"], plan=DataPlan(target=Target(margin=0.02)))
# ... reviewers decide in the page (tripwire data review --serve), Label Studio or Argilla ...
results = apply_data_review(ReviewStore("review/"))   # clean copy + manifest honour them
```

A review is a directory holding one SQLite database (WAL): the items, each reviewer's token
hash and queue, and every decision with who made it, when and where.
"""

from tripwire.review._agreement import agreement, cohen_kappa, fleiss_kappa
from tripwire.review._answers import CHOICES, DECISIONS, DROP_REASONS, check_answer
from tripwire.review._data_result import apply_data_review, data_results
from tripwire.review._data_set import Created, DataPlan, create_data_review
from tripwire.review._estimate import Share, Stratum, clopper_pearson, recall, stratified_share
from tripwire.review._eval_result import eval_results
from tripwire.review._eval_set import EvalPlan, create_eval_review
from tripwire.review._exchange import reviewer_uuid
from tripwire.review._export import EXPORT_FORMATS, export_review
from tripwire.review._gate_suite import HumanSuite
from tripwire.review._importer import FORMATS, import_decisions
from tripwire.review._pairwise import QUESTIONS, gate_slices, sign_test, tally, wilson
from tripwire.review._sampling import Target, allocate, sample_size
from tripwire.review._store import Decision, Item, ReviewStore

__all__ = [
    "CHOICES",
    "DECISIONS",
    "DROP_REASONS",
    "EXPORT_FORMATS",
    "FORMATS",
    "QUESTIONS",
    "Created",
    "DataPlan",
    "Decision",
    "EvalPlan",
    "HumanSuite",
    "Item",
    "ReviewStore",
    "Share",
    "Stratum",
    "Target",
    "agreement",
    "allocate",
    "apply_data_review",
    "check_answer",
    "clopper_pearson",
    "cohen_kappa",
    "create_data_review",
    "create_eval_review",
    "data_results",
    "eval_results",
    "export_review",
    "fleiss_kappa",
    "gate_slices",
    "import_decisions",
    "recall",
    "reviewer_uuid",
    "sample_size",
    "sign_test",
    "stratified_share",
    "tally",
    "wilson",
]
