"""What the tree-sitter hazard rules ask of a parsed record: its nodes by type, node text,
whether a value is written out in full (a literal) or built at run time, and whether the code
around a node is about passwords.

"Built" follows values through the record's own assignments: a variable assigned only literals
is a literal (``cmd = "ls"; exec(cmd)`` is not built), anything else (a parameter, a
concatenation with one, an interpolated string) is. That is what lets a rule see a hazard split
across lines or passed through a helper function's parameter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tripwire.data._parsing import parse_tree

LITERAL_TYPES = frozenset(
    {
        "string",
        "string_literal",
        "interpreted_string_literal",
        "raw_string_literal",
        "char_literal",
        "character_literal",
        "number",
        "number_literal",
        "integer_literal",
        "float_literal",
        "decimal_integer_literal",
        "int_literal",
        "true",
        "false",
        "null",
        "null_literal",
        "nil",
        "none",
        "raw_string",
        "word",
        "string_content",
        "string_fragment",
        "concatenation",
    }
)
# Inside these a string is built from values: an interpolation, an expansion.
_INTERPOLATIONS = frozenset(
    {
        "template_substitution",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "interpolation",
        "arithmetic_expansion",
    }
)
_DECLARATIONS = {
    "variable_declarator": ("name", "value"),
    "init_declarator": ("declarator", "value"),
    "let_declaration": ("pattern", "value"),
    "assignment_expression": ("left", "right"),
    "variable_assignment": ("name", "value"),
    "const_spec": ("name", "value"),
    "var_spec": ("name", "value"),
    "short_var_declaration": ("left", "right"),
    "assignment_statement": ("left", "right"),
    "assignment": ("left", "right"),
    "augmented_assignment": ("left", "right"),
    "augmented_assignment_expression": ("left", "right"),
    "compound_assignment_expr": ("left", "right"),
}
PASSWORD = re.compile(r"pass(?:wd|word|phrase)?|pwd|\bpw\b|credential", re.IGNORECASE)
SQL = re.compile(
    r"(?is)\b(?:select\s(?:(?:(?![.!?]\s|\n[ \t]*\n)[^;]){0,300}?\s)?from\s|delete\s+from\s"
    r"|(?:insert|replace)\s+into\s|update\s+\S+\s+set\s)"
)
"""A string that reads as an SQL statement (the shape flake8-bandit's and ruff's S608 use),
its select list not crossing the end of a sentence or a paragraph: a help text that says
"Select a timezone. ... ask for a selection from ..." is prose."""


class Tree:
    """One parsed record: nodes by type, text of a node, literal-ness of values."""

    def __init__(self, code: str, language: str) -> None:
        self.code = code
        self.data = code.encode("utf-8", "replace")
        self.language = language
        self.root = parse_tree(code, language).root_node
        self.by_type: dict[str, list[Any]] = defaultdict(list)
        self.bindings: dict[str, list[Any]] = defaultdict(list)
        """Name -> the value nodes the record assigns to it (``None`` for ``+=``)."""
        self.read_vars: set[str] = set()
        """Shell: variables the script fills with ``read``."""
        self._walk()

    def _walk(self) -> None:
        cursor = self.root.walk()
        by_type = self.by_type
        while True:
            node = cursor.node
            by_type[node.type].append(node)
            if node.type in _DECLARATIONS:
                self._bind(node)
            if cursor.goto_first_child() or cursor.goto_next_sibling():
                continue
            while cursor.goto_parent():
                if cursor.goto_next_sibling():
                    break
            else:
                return

    def _bind(self, node: Any) -> None:
        name_field, value_field = _DECLARATIONS[node.type]
        name, value = node.child_by_field_name(name_field), node.child_by_field_name(value_field)
        if name is None:
            return
        names = [c for c in name.named_children] if name.type == "expression_list" else [name]
        values = (
            [c for c in value.named_children]
            if value is not None and (value.type == "expression_list")
            else [value]
        )
        op = node.child_by_field_name("operator")
        compound = node.type.startswith(("augmented", "compound")) or (
            op is not None and self.text(op) not in ("=", ":=")
        )
        for k, n in enumerate(names):
            v = values[k] if k < len(values) else None
            self.bindings[self.text(n)].append(None if compound else v)

    def text(self, node: Any) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def line(self, node: Any) -> int:
        return int(node.start_point[0]) + 1

    def nodes(self, *types: str) -> list[Any]:
        out: list[Any] = []
        for t in types:
            out += self.by_type.get(t, [])
        return out

    def is_literal(self, node: Any, depth: int = 0) -> bool:
        """Whether ``node``'s value is written out in the record (not built at run time)."""
        if node is None or depth > 4:
            return False
        t = node.type
        if t in ("parenthesized_expression", "argument", "arguments", "literal_element"):
            kids = node.named_children
            return len(kids) == 1 and self.is_literal(kids[0], depth + 1)
        if t in ("binary_expression", "concatenation"):
            return all(self.is_literal(c, depth + 1) for c in node.named_children)
        if t in ("template_string", "string", "string_literal", "interpreted_string_literal"):
            return not any(c.type in _INTERPOLATIONS for c in node.named_children)
        if t in LITERAL_TYPES:
            return True
        if t == "identifier" or t == "variable_name":
            values = self.bindings.get(self.text(node))
            return bool(values) and all(self.is_literal(v, depth + 1) for v in values)
        return False

    def enclosing(self, node: Any, *types: str) -> Any:
        parent = node.parent
        while parent is not None and parent.type not in types:
            parent = parent.parent
        return parent

    def about_passwords(self, node: Any) -> bool:
        """The code around ``node`` handles a password: its line, its statement or its
        function's name and parameters say so, or the function is called with one."""
        start, end = node.start_point[0], node.end_point[0]
        lines = self.code.splitlines()
        if any(PASSWORD.search(ln) for ln in lines[start : end + 1]):
            return True
        func = self.enclosing(node, *_FUNCTIONS)
        if func is None:
            return False
        body = func.child_by_field_name("body")
        head = self.data[func.start_byte : body.start_byte if body else func.end_byte]
        if PASSWORD.search(head.decode("utf-8", "replace")):
            return True
        name = func.child_by_field_name("name") or _declarator_name(func)
        if name is None:
            return False
        called = re.compile(rf"\b{re.escape(self.text(name))}\s*\(([^\n]*)")
        return any(PASSWORD.search(m.group(1)) for m in called.finditer(self.code))


_FUNCTIONS = (
    "function_declaration",
    "function_definition",
    "function_item",
    "method_declaration",
    "method_definition",
    "function_expression",
    "arrow_function",
    "function",
)


def _declarator_name(func: Any) -> Any:
    """A C function's name, inside its declarator."""
    d = func.child_by_field_name("declarator")
    while d is not None and d.type not in ("identifier", "field_identifier"):
        d = d.child_by_field_name("declarator")
    return d


def callee_name(tree: Tree, call: Any) -> str:
    """``a.b.c`` of a call's function, as written (``exec``, ``child_process.exec``)."""
    fn = call.child_by_field_name("function")
    if fn is None:
        fn = call.child_by_field_name("name")
        obj = call.child_by_field_name("object")
        if fn is not None and obj is not None:
            return f"{tree.text(obj)}.{tree.text(fn)}"
    return tree.text(fn) if fn is not None else ""


def call_args(call: Any) -> list[Any]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [a for a in args.named_children if a.type not in ("comment",)]


def built_sql(tree: Tree, string: Any) -> bool:
    """Whether an SQL-looking string literal is part of a string built at run time: joined
    with a value (``+``, ``+=``, ``.``), interpolated, or a format with arguments."""
    if not SQL.search(tree.text(string)):
        return False
    if any(c.type in _INTERPOLATIONS for c in string.named_children):
        return True
    node, parent = string, string.parent
    while parent is not None and parent.type in (
        "binary_expression",
        "binary_operator",
        "parenthesized_expression",
        "concatenated_string",
    ):
        node, parent = parent, parent.parent
    if node is not string and not tree.is_literal(node):
        return True
    if parent is not None and parent.type in ("arguments", "argument_list", "token_tree"):
        call = parent.parent
        fn = None
        if call is not None:
            fn = (
                call.child_by_field_name("function")
                or call.child_by_field_name("macro")
                or call.child_by_field_name("name")
            )
        short = re.split(r"[.:]+", tree.text(fn))[-1].lower() if fn is not None else ""
        if short in _FORMATTERS:
            rest = [a for a in parent.named_children if a.start_byte > string.start_byte]
            if any(not tree.is_literal(a) for a in rest):
                return True
            if call.type == "macro_invocation" and re.search(
                r"\{[A-Za-z_]\w*(?::[^}]*)?\}", tree.text(string)
            ):
                return True  # format!("... {name}")
    holder = _assigned_name(tree, node)
    if holder is not None:
        values = tree.bindings.get(holder, [])
        # q = "SELECT ..."; q += name (or q = q + name)
        return any(v is None or not tree.is_literal(v) for v in values)
    return False


_FORMATTERS = frozenset({"sprintf", "snprintf", "format", "formatted", "printf", "asprintf"})


def _assigned_name(tree: Tree, node: Any) -> str | None:
    parent, at = node.parent, 0
    if parent is not None and parent.type == "expression_list":  # Go: a, b := x, y
        at = [c.id for c in parent.named_children].index(node.id)
        parent = parent.parent
    if parent is not None and parent.type in _DECLARATIONS:
        name = parent.child_by_field_name(_DECLARATIONS[parent.type][0])
        if name is not None and name.type == "expression_list":
            kids = name.named_children
            name = kids[at] if at < len(kids) else None
        if name is not None:
            return tree.text(name)
    return None
