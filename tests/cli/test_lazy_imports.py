"""Loading the CLI must not load the libraries behind its commands: every invocation, `--help`
included, imports all command modules, and torch alone takes seconds."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "torch",
    "transformers",
    "datasketch",
    "scipy",
    "numpy",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "tripwire.data",
    "tripwire.tokens",
    "tripwire.evals",
    "tripwire.sandbox",
    "tripwire.stats",
    "tripwire.train",
    "tripwire.reference",
    "tripwire.monitor",
    "tripwire.gate",
    "tripwire.report",
)


def test_importing_the_cli_loads_no_command_library() -> None:
    # a fresh interpreter: this test process has imported all of these already
    code = f"import sys, tripwire.cli\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == []
