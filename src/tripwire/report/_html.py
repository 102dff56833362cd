"""Render a template from ``tripwire/report/templates`` with autoescaping always on."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from tripwire import __version__
from tripwire.artifacts import write_text_atomic
from tripwire.report._evidence import evidence_sentences
from tripwire.report._gate_display import TEMPLATE_GLOBALS


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("tripwire.report", "templates"),
        autoescape=True,  # every template, whatever its name: record text is untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["tripwire_version"] = __version__
    env.globals.update(TEMPLATE_GLOBALS, evidence_sentences=evidence_sentences)
    return env


def render_html(template: str, **context: Any) -> str:
    """The rendered page; ``template`` names a file in ``tripwire/report/templates``."""
    return _env().get_template(template).render(**context)


def write_html(path: Path, template: str, **context: Any) -> None:
    """Render and write atomically (no partial report on failure)."""
    write_text_atomic(path, render_html(template, **context))
