"""Test helper: run the installed `tripwire` console script in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TRIPWIRE = str(Path(sys.executable).with_name("tripwire"))


def tripwire(
    *args: str, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """The finished process (text stdout/stderr); ``env`` adds to the current environment."""
    return subprocess.run(
        [TRIPWIRE, *args], capture_output=True, text=True, check=False, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
