"""The lineage graph (artifacts as boxes, parent -> child arrows) as hand-written inline SVG.

Columns are generations (longest path from a root), so the baseline sits left of the candidate
it was trained into. Names and ids are untrusted and pass through ``markupsafe.escape``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from tripwire.gate import Lineage

_W, _H, _GAP_X, _GAP_Y, _PAD = 190, 48, 60, 18, 12
_ROLE_STYLE = {
    "baseline": ("#e7f0fa", "#3e6fb0", 2.5),
    "candidate": ("#fdecea", "#b42318", 2.5),
    "input": ("#f4f6f8", "#98a2ad", 1.0),
    "ancestor": ("#ffffff", "#5f6b76", 1.0),
}
MAX_NODES = 80


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _depths(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest distance from a root; relaxation stops after len(ids) rounds, so a cycle in a
    corrupt registry cannot loop forever."""
    depth = dict.fromkeys(ids, 0)
    for _ in range(len(ids)):
        changed = False
        for parent, child in edges:
            if depth[child] < depth[parent] + 1:
                depth[child] = depth[parent] + 1
                changed = True
        if not changed:
            break
    # a root that only feeds later nodes (a dataset) sits just left of its first child, so its
    # arrow does not cross the columns in between
    has_parent = {child for _, child in edges}
    for node in ids:
        children = [depth[c] for p, c in edges if p == node]
        if node not in has_parent and children:
            depth[node] = max(depth[node], min(children) - 1)
    return depth


def _nodes_and_edges(lineage: Lineage) -> tuple[dict[str, dict[str, str]], list]:
    nodes: dict[str, dict[str, str]] = {}
    for raw in lineage.nodes:
        if isinstance(raw, dict) and raw.get("id") is not None:
            node = {k: str(raw.get(k) or "") for k in ("id", "name", "kind", "role")}
            nodes.setdefault(node["id"], node)
    edges: list[tuple[str, str]] = []
    for raw in lineage.edges:
        if isinstance(raw, list | tuple) and len(raw) == 2:
            parent, child = str(raw[0]), str(raw[1])
            for end in (parent, child):
                nodes.setdefault(end, {"id": end, "name": end, "kind": "", "role": "ancestor"})
            if parent != child:
                edges.append((parent, child))
    return nodes, edges


def lineage_svg(lineage: Lineage) -> Markup | None:
    """The graph as an ``<svg>`` element, or None when the lineage has no nodes."""
    nodes, edges = _nodes_and_edges(lineage)
    if not nodes or len(nodes) > MAX_NODES:
        return None
    depth = _depths(list(nodes), edges)
    columns: dict[int, list[str]] = {}
    for node_id in nodes:
        columns.setdefault(depth[node_id], []).append(node_id)
    pos: dict[str, tuple[int, int]] = {}
    for col, members in columns.items():
        for row, node_id in enumerate(members):
            pos[node_id] = (_PAD + col * (_W + _GAP_X), _PAD + row * (_H + _GAP_Y))
    width = _PAD * 2 + (max(columns) + 1) * (_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max(len(m) for m in columns.values()) * (_H + _GAP_Y) - _GAP_Y
    # marker ids are document-global; a content hash keeps two graphs on one page apart
    marker = "tw-arrow-" + hashlib.sha256(repr(sorted(edges)).encode()).hexdigest()[:10]
    parts = [
        f'<svg class="plot lineage" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="max-width:100%;height:auto" font-family="system-ui, sans-serif">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#5f6b76"/>'
        "</marker></defs>",
    ]
    for parent, child in edges:
        (x1, y1), (x2, y2) = pos[parent], pos[child]
        x1, y1, y2 = x1 + _W, y1 + _H // 2, y2 + _H // 2
        mid = (x1 + x2) // 2
        parts.append(
            f'<path d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" '
            f'stroke="#5f6b76" stroke-width="1.2" marker-end="url(#{marker})"/>'
        )
    for node_id, node in nodes.items():
        x, y = pos[node_id]
        fill, stroke, stroke_w = _ROLE_STYLE.get(node["role"], _ROLE_STYLE["ancestor"])
        role = f"{node['role']} · " if node["role"] in ("baseline", "candidate") else ""
        sub = f"{role}{node['kind']} · {node_id[:10]}"
        parts.append(
            f'<g class="node" data-role="{escape(node["role"])}">'
            f"<title>{escape(node['name'])} ({escape(node['kind'])} {escape(node_id)})</title>"
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{stroke_w}"/>'
            f'<text x="{x + 8}" y="{y + 19}" font-size="12" font-weight="600" fill="#1d2329">'
            f"{escape(_short(node['name'] or node_id, 26))}</text>"
            f'<text x="{x + 8}" y="{y + 37}" font-size="10" fill="#5f6b76">'
            f"{escape(_short(sub, 34))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # built here; every untrusted string escaped
