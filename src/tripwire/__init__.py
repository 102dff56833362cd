"""tripwire: a regression firewall for code LLMs."""

from tripwire.errors import BadInputError
from tripwire.findings import Finding, Severity, Verdict, verdict_of

__version__ = "0.1.0"

__all__ = ["BadInputError", "Finding", "Severity", "Verdict", "__version__", "verdict_of"]
