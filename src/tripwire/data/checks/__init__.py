"""Record checks, one module each, applied in a fixed order (earlier reasons can make later
checks moot: prose has no syntax to check)."""

from __future__ import annotations

from tripwire.data.checks._base import (
    FLAGS,
    CheckRunner,
    CheckStats,
    Evidence,
    RecordCheck,
    RecordContext,
    compute_token_ids,
    record_check,
    registered_checks,
)
from tripwire.data.checks._contamination import BenchmarkContamination
from tripwire.data.checks._format import BadFormat
from tripwire.data.checks._language import LanguageMismatch
from tripwire.data.checks._not_code import NotCode
from tripwire.data.checks._quality import LowQuality
from tripwire.data.checks._secrets import Secret
from tripwire.data.checks._source import SourceNotAllowed
from tripwire.data.checks._static import StaticAnalysis
from tripwire.data.checks._syntax import SyntaxErrorCheck
from tripwire.data.checks._truncated import Truncated

__all__ = [
    "FLAGS",
    "BadFormat",
    "BenchmarkContamination",
    "CheckRunner",
    "CheckStats",
    "Evidence",
    "LanguageMismatch",
    "LowQuality",
    "NotCode",
    "RecordCheck",
    "RecordContext",
    "Secret",
    "SourceNotAllowed",
    "StaticAnalysis",
    "SyntaxErrorCheck",
    "Truncated",
    "compute_token_ids",
    "record_check",
    "registered_checks",
]
