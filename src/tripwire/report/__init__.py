"""HTML reports: one jinja2 environment (autoescaped: record text and model output are
untrusted), a base layout every report extends, and shared macros (tables, bars, code).

The gate's outputs (``render_gate_html``, ``gate_markdown``, ``gate_junit``) and the demo's
incident report take the plain dicts ``tripwire gate --json`` and ``tripwire demo`` write.
"""

from tripwire.report._data_audit import render_data_audit_html
from tripwire.report._gate_html import render_gate_html, write_gate_html
from tripwire.report._html import render_html, scrub, write_html
from tripwire.report._incident import render_incident_html, write_incident_html
from tripwire.report._junit import gate_junit
from tripwire.report._markdown import gate_markdown

__all__ = [
    "gate_junit",
    "gate_markdown",
    "render_data_audit_html",
    "render_gate_html",
    "render_html",
    "render_incident_html",
    "scrub",
    "write_gate_html",
    "write_html",
    "write_incident_html",
]
