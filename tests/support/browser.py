"""Test helper: render a page in headless Chromium (the Debian ``chromium`` binary) and return
the DOM after its scripts ran, optionally with a PNG screenshot. Skips loudly without Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def chromium() -> str:
    """The browser binary; skips the calling test when there is none."""
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "!!! BROWSER NOT TESTED: no chromium binary (install the Debian package 'chromium') !!!"
    )


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    # a private profile dir: concurrent runs (xdist) must not share a profile lock
    with tempfile.TemporaryDirectory(prefix="tripwire-chromium-") as profile:
        cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args]  # fmt: skip
        env = {**os.environ, "HOME": profile}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def render(url: str, screenshot: Path | None = None, timeout: float = 90.0) -> str:
    """The DOM of ``url`` after JavaScript ran (``--dump-dom``); with ``screenshot``, also a
    1280x2000 PNG of the page at that path."""
    result = _run(["--dump-dom", url], timeout)
    if result.returncode != 0 or "<html" not in result.stdout.lower():
        raise RuntimeError(f"chromium failed on {url}: {result.stderr[-2000:]}")
    if screenshot is not None:
        shot = _run([f"--screenshot={screenshot}", "--window-size=1280,2000", url], timeout)
        if shot.returncode != 0 or not screenshot.is_file():
            raise RuntimeError(f"chromium screenshot failed on {url}: {shot.stderr[-2000:]}")
    return result.stdout
