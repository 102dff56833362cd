"""Render a template from ``tripwire/report/templates`` with autoescaping always on."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from tripwire import __version__
from tripwire.artifacts import write_text_atomic
from tripwire.report._evidence import evidence_sentences
from tripwire.report._gate_display import TEMPLATE_GLOBALS

# Control characters a page or comment must not carry (NUL, terminal escapes) and lone
# surrogates, which a JSON document can hold ("\ud800") but no UTF-8 file can: writing one
# would fail after the work was done. Tab, newline, form feed and carriage return stay.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def scrub(text: str) -> str:
    """``text`` with every character no report should carry replaced by U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", text)


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
    return scrub(_env().get_template(template).render(**context))


def write_html(path: Path, template: str, **context: Any) -> None:
    """Render and write atomically (no partial report on failure)."""
    write_text_atomic(path, render_html(template, **context))
