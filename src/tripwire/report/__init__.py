"""HTML reports: one jinja2 environment (autoescaped: record text and model output are
untrusted), a base layout every report extends, and shared macros (tables, bars, code)."""

from tripwire.report._html import render_html, write_html

__all__ = ["render_html", "write_html"]
