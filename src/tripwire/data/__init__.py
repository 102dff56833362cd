"""Fine-tuning data audit (the incident's bug 2): validate and clean a code fine-tuning set.

```python
from tripwire.data import AuditConfig, audit
from tripwire.report import render_data_audit_html

result, report = audit([Path("train.jsonl")], config=AuditConfig(workers=2),
                       findings=Path("findings.jsonl"), clean=Path("clean.jsonl"))
render_data_audit_html(result, report, Path("audit.html"))
```
"""

from tripwire.data._allowlist import Allowlist, load_allowlist
from tripwire.data._benchmarks import BenchmarkItem, load_benchmark
from tripwire.data._collect import SAMPLE_PER_STRATUM, ReportData
from tripwire.data._config import ENGINES, AuditConfig
from tripwire.data._contamination import ContaminationIndex, Match
from tripwire.data._dedup import DedupResult, deduplicate
from tripwire.data._languages import detect_language, normalize_language
from tripwire.data._lexer import ngram_hashes, strip_comments, token_ids, tokenize
from tripwire.data._minhash import BandIndex, signature
from tripwire.data._outputs import check_outputs
from tripwire.data._parsing import SyntaxAnalysis, analyse, leaves, parse_tree
from tripwire.data._pipeline import audit
from tripwire.data._policy import Action, RulePolicy
from tripwire.data._readers import Shard, input_files, plan_shards, read_shard
from tripwire.data._reasons import BLOCKING, FLAGS, QUALITY_REASONS, REASONS
from tripwire.data._reasons import MEANINGS as REASON_MEANINGS
from tripwire.data._records import (
    FieldMap,
    Record,
    chat_turns,
    extract_code,
    known_shape,
    parse_record,
)
from tripwire.data._result import AuditResult
from tripwire.data._secrets import find_secrets, redact, redact_obj

__all__ = [
    "BLOCKING",
    "ENGINES",
    "FLAGS",
    "QUALITY_REASONS",
    "REASONS",
    "REASON_MEANINGS",
    "SAMPLE_PER_STRATUM",
    "Action",
    "Allowlist",
    "AuditConfig",
    "AuditResult",
    "BandIndex",
    "BenchmarkItem",
    "ContaminationIndex",
    "DedupResult",
    "FieldMap",
    "Match",
    "Record",
    "ReportData",
    "RulePolicy",
    "Shard",
    "SyntaxAnalysis",
    "analyse",
    "audit",
    "chat_turns",
    "check_outputs",
    "deduplicate",
    "detect_language",
    "extract_code",
    "find_secrets",
    "input_files",
    "known_shape",
    "leaves",
    "load_allowlist",
    "load_benchmark",
    "ngram_hashes",
    "normalize_language",
    "parse_record",
    "parse_tree",
    "plan_shards",
    "read_shard",
    "redact",
    "redact_obj",
    "signature",
    "strip_comments",
    "token_ids",
    "tokenize",
]
