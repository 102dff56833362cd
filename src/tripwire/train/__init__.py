"""Fine-tuning with forgetting control (the incident's bug 3): replay, EWC, LwF, L2-SP, LoRA,
and a measurement of what the fine-tune forgot.

```python
from tripwire.train import TrainConfig, finetune, forgetting_report

result = finetune("base/", "python.jsonl", "tuned/",
                  TrainConfig(learning_rate=1e-3, regularizer="lwf", replay_ratio=0.1))
for c in forgetting_report("base/", "tuned/"):
    print(c.slice, c.delta, c.status)
```
"""

from tripwire.train._batches import IGNORE, Batch, PackedStream, make_batch, replay_rows_at
from tripwire.train._config import METHODS, PROMPT_FORMATS, REGULARIZERS, TrainConfig
from tripwire.train._data import TrainRecord, read_records, reference_language_data
from tripwire.train._distributed import Launch, launched
from tripwire.train._finetune import DataSummary, FinetuneResult, finetune
from tripwire.train._forgetting import (
    Chunk,
    RetentionScorer,
    chunk_bits_per_byte,
    compare_languages,
    forgetting_report,
    heldout_chunks,
    retention_findings,
)
from tripwire.train._formats import Example, segments, to_example
from tripwire.train._guards import STAMP_KEY, check_audit, check_tokenizer, tokenizer_sha256
from tripwire.train._loop import LoopResult, lr_factor, train_loop
from tripwire.train._model import load_tuned, merged_checkpoint
from tripwire.train._regularizers import (
    EWC,
    FISHER_ESTIMATOR,
    L2SP,
    LwF,
    Regularizer,
    estimate_fisher,
    token_loss,
)

__all__ = [
    "EWC",
    "FISHER_ESTIMATOR",
    "IGNORE",
    "L2SP",
    "METHODS",
    "PROMPT_FORMATS",
    "REGULARIZERS",
    "STAMP_KEY",
    "Batch",
    "Chunk",
    "DataSummary",
    "Example",
    "FinetuneResult",
    "Launch",
    "LoopResult",
    "LwF",
    "PackedStream",
    "Regularizer",
    "RetentionScorer",
    "TrainConfig",
    "TrainRecord",
    "check_audit",
    "check_tokenizer",
    "chunk_bits_per_byte",
    "compare_languages",
    "estimate_fisher",
    "finetune",
    "forgetting_report",
    "heldout_chunks",
    "launched",
    "load_tuned",
    "lr_factor",
    "make_batch",
    "merged_checkpoint",
    "read_records",
    "reference_language_data",
    "replay_rows_at",
    "retention_findings",
    "segments",
    "to_example",
    "token_loss",
    "tokenizer_sha256",
    "train_loop",
]
