"""Where tripwire keeps its registry and caches (overridable for tests and CI)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Registry and long-lived state: ``$TRIPWIRE_HOME`` or the user's data dir."""
    env = os.environ.get("TRIPWIRE_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("tripwire"))


def cache_dir() -> Path:
    """Rebuildable caches (reference models, eval results): ``$TRIPWIRE_CACHE`` or user cache."""
    env = os.environ.get("TRIPWIRE_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("tripwire"))


def default_registry_url() -> str:
    """``$TRIPWIRE_REGISTRY`` or a SQLite file in the data dir."""
    env = os.environ.get("TRIPWIRE_REGISTRY")
    return env or f"sqlite:///{data_dir() / 'registry.db'}"
