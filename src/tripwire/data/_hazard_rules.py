"""The well-known hazards of JavaScript/TypeScript, Go, Java, Rust, C/C++ and shell, found on
the tree-sitter tree of a record (Python's are ruff's).

Each rule is named after the field's own catalogue where one has it (ESLint and
eslint-plugin-security for JavaScript, gosec for Go, FindSecBugs for Java, rustc's lints,
ShellCheck, the CWE), links to that rule's documentation, and fires on the shape of the code,
not on names: a shell or SQL command is "built" when it is joined from values, interpolated or
formatted with arguments, whatever the variables are called and however many lines or helper
parameters it passes through (``_hazard_tree.Tree.is_literal``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tripwire.data._hazard_tree import PASSWORD, Tree, built_sql, call_args, callee_name
from tripwire.data._policy import Action, RuleDefault, register_defaults


@dataclass(frozen=True)
class HazardRule:
    id: str
    kind: str
    action: Action
    url: str
    summary: str


_CWE = "https://cwe.mitre.org/data/definitions/{}.html"
_GOSEC = "https://github.com/securego/gosec#available-rules"
_FSB = "https://find-sec-bugs.github.io/bugs.htm#{}"
_ESL = "https://eslint.org/docs/latest/rules/{}"
_ESLSEC = "https://github.com/eslint-community/eslint-plugin-security/blob/main/docs/rules/{}.md"

_D, _F = Action.DROP, Action.FLAG
RULES: dict[str, HazardRule] = {
    r.id: r
    for r in [
        HazardRule("js/no-eval", "injection", _D, _ESL.format("no-eval"), "eval of a value"),
        HazardRule("js/no-new-func", "injection", _D, _ESL.format("no-new-func"),
                   "new Function from a value"),
        HazardRule("js/no-implied-eval", "injection", _D, _ESL.format("no-implied-eval"),
                   "setTimeout/setInterval with a built string"),
        HazardRule("js/detect-child-process", "injection", _D,
                   _ESLSEC.format("detect-child-process"), "shell command built from values"),
        HazardRule("js/sql-injection", "injection", _D, _CWE.format(89), "SQL built from values"),
        HazardRule("js/unsafe-deserialization", "deserialization", _D, _CWE.format(502),
                   "node-serialize unserialize"),
        HazardRule("js/weak-password-hash", "weak_hash", _D, _CWE.format(916),
                   "MD5/SHA-1 for a password"),
        HazardRule("js/tls-reject-unauthorized", "tls", _D, _CWE.format(295),
                   "TLS certificate verification off"),
        HazardRule("go/G204", "injection", _D, _GOSEC, "shell command built from values"),
        HazardRule("go/G201", "injection", _D, _GOSEC, "SQL built from values"),
        HazardRule("go/G401", "weak_hash", _D, _GOSEC, "MD5/SHA-1 for a password"),
        HazardRule("go/G402", "tls", _D, _GOSEC, "TLS InsecureSkipVerify"),
        HazardRule("java/COMMAND_INJECTION", "injection", _D, _FSB.format("COMMAND_INJECTION"),
                   "command built from values"),
        HazardRule("java/SQL_INJECTION", "injection", _D, _FSB.format("SQL_INJECTION_JDBC"),
                   "SQL built from values"),
        HazardRule("java/SCRIPT_ENGINE_INJECTION", "injection", _D,
                   _FSB.format("SCRIPT_ENGINE_INJECTION"), "script engine eval of a value"),
        HazardRule("java/OBJECT_DESERIALIZATION", "deserialization", _D,
                   _FSB.format("OBJECT_DESERIALIZATION"), "ObjectInputStream/XMLDecoder"),
        HazardRule("java/WEAK_MESSAGE_DIGEST", "weak_hash", _D,
                   _FSB.format("WEAK_MESSAGE_DIGEST_MD5"), "MD5/SHA-1 for a password"),
        HazardRule("java/WEAK_TRUST_MANAGER", "tls", _D, _FSB.format("WEAK_TRUST_MANAGER"),
                   "trust manager or hostname verifier that accepts anything"),
        HazardRule("rust/unused_unsafe", "unsafe", _D,
                   "https://doc.rust-lang.org/rustc/lints/listing/warn-by-default.html#unused-unsafe",
                   "unsafe block with no unsafe operation"),
        HazardRule("rust/command-injection", "injection", _D, _CWE.format(78),
                   "shell command built from values"),
        HazardRule("rust/sql-injection", "injection", _D, _CWE.format(89),
                   "SQL built from values"),
        HazardRule("rust/tls-verify-off", "tls", _D, _CWE.format(295),
                   "TLS certificate verification off"),
        HazardRule("rust/weak-password-hash", "weak_hash", _D, _CWE.format(916),
                   "MD5/SHA-1 for a password"),
        HazardRule("c/gets", "memory", _D, _CWE.format(242), "gets (no bound)"),
        HazardRule("c/strcpy", "memory", _D, _CWE.format(120),
                   "strcpy/strcat/sprintf of a value into a buffer"),
        HazardRule("c/scanf-unbounded", "memory", _D, _CWE.format(120), "%s without a width"),
        HazardRule("c/system", "injection", _D, _CWE.format(78),
                   "system/popen of a built command"),
        HazardRule("c/sql-injection", "injection", _D, _CWE.format(89), "SQL built from values"),
        HazardRule("c/tls-verify-off", "tls", _D, _CWE.format(295),
                   "TLS certificate verification off"),
        HazardRule("c/weak-password-hash", "weak_hash", _D, _CWE.format(916),
                   "MD5/SHA-1 for a password"),
        HazardRule("sh/eval", "injection", _D, "https://www.shellcheck.net/wiki/SC2294",
                   "eval of the script's arguments or input"),
        HazardRule("sh/eval-variable", "injection", _F, "https://www.shellcheck.net/wiki/SC2294",
                   "eval of a variable (a common idiom; review)"),
        HazardRule("sh/shell-c", "injection", _D, _CWE.format(78),
                   "sh -c with an expansion"),
        HazardRule("sh/curl-pipe-shell", "injection", _D, _CWE.format(494),
                   "downloaded script run unchecked"),
        HazardRule("sh/sql-injection", "injection", _D, _CWE.format(89),
                   "SQL built from expansions"),
        HazardRule("sh/tls-verify-off", "tls", _D, _CWE.format(295),
                   "TLS certificate verification off"),
        HazardRule("sh/weak-password-hash", "weak_hash", _D, _CWE.format(916),
                   "MD5/SHA-1 for a password"),
        HazardRule("py/sql-injection", "injection", _D, _CWE.format(89),
                   "SQL built from values"),
        HazardRule("py/weak-password-hash", "weak_hash", _D, _CWE.format(916),
                   "MD5/SHA-1 for a password"),
        HazardRule("py/indirect-command", "injection", _D, _CWE.format(78),
                   "os.system/popen reached through getattr or __import__"),
        HazardRule("py/indirect-deserialization", "deserialization", _D, _CWE.format(502),
                   "pickle/marshal loads reached through __import__ or import_module"),
        HazardRule("py/tls-verify-off", "tls", _D, _CWE.format(295),
                   "verify=False passed in a keyword dictionary"),
    ]
}  # fmt: skip
register_defaults({r.id: RuleDefault(r.action, r.kind) for r in RULES.values()})

Hit = tuple[str, Any, str]
"""(rule id, node, message)."""
_SHELLS = re.compile(
    r"""^["']?(?:/usr)?(?:/bin/)?(?:ba|z|da|k)?sh["']?$|^["']?cmd(?:\.exe)?["']?$"""
)
_WEAK = re.compile(r"""^["'](?:md5|sha-?1|md4)["']$""", re.IGNORECASE)


_REQUIRE_CP = re.compile(r"""^require\(\s*["'`](?:node:)?child_process["'`]\s*\)$""")
_JS_VM_RUN = frozenset({"runInNewContext", "runInThisContext", "runInContext", "compileFunction"})
_JS_EVALS = frozenset({"eval", "window.eval", "globalThis.eval", "global.eval", "self.eval"})
"""``eval`` itself and reached through the global object (the same function)."""


def _sql(tree: Tree, rule: str, types: tuple[str, ...]) -> Iterator[Hit]:
    for s in tree.nodes(*types):
        if built_sql(tree, s):
            yield rule, s, "SQL statement built from values"


def _javascript(tree: Tree) -> Iterator[Hit]:
    cp_objects, cp_funcs, serializers = set(), set(), set()
    for call in tree.nodes("call_expression"):
        args = call_args(call)
        if callee_name(tree, call) == "require" and args:
            module = tree.text(args[0]).strip("'\"`")
            holder = call.parent
            name = holder.child_by_field_name("name") if holder is not None else None
            if name is None:
                continue
            if module in ("child_process", "node:child_process"):
                if name.type == "object_pattern":
                    cp_funcs.update(_pattern_names(tree, name))
                else:
                    cp_objects.add(tree.text(name))
            elif module == "node-serialize":
                serializers.add(tree.text(name))
    for imp in tree.nodes("import_statement"):
        src = imp.child_by_field_name("source")
        module = tree.text(src).strip("'\"") if src is not None else ""
        names = [tree.text(n) for n in imp.children if n.type == "import_clause"]
        ids = re.findall(r"[A-Za-z_$][\w$]*", " ".join(names))
        if module in ("child_process", "node:child_process"):
            cp_funcs.update(i for i in ids if i != "as")
            # `import { exec as run }`: the alias is exec
            aliases = re.findall(r"\b(exec\w*)\s+as\s+([A-Za-z_$][\w$]*)", " ".join(names))
            cp_funcs.update(f"exec:{alias}" for _, alias in aliases)
            cp_objects.update(ids)
        elif module == "node-serialize":
            serializers.update(ids)
    for call in tree.nodes("call_expression", "new_expression"):
        name = callee_name(tree, call) or tree.text(call.child_by_field_name("constructor") or call)
        args = call_args(call)
        first = args[0] if args else None
        short = name.rsplit(".", 1)[-1]
        obj = name.rsplit(".", 1)[0] if "." in name else ""
        if call.type == "new_expression":
            if name.startswith("Function") and args and not all(map(tree.is_literal, args)):
                yield "js/no-new-func", call, "new Function from a built string"
            continue
        if name in _JS_EVALS and first is not None and not tree.is_literal(first):
            yield "js/no-eval", call, "eval of a value"
        elif (
            short in _JS_VM_RUN and obj == "vm" and first is not None and not tree.is_literal(first)
        ):
            yield "js/no-eval", call, f"vm.{short} of a value"
        elif (
            name in ("setTimeout", "setInterval")
            and first is not None
            and (
                first.type in ("binary_expression", "template_string", "string")
                and not tree.is_literal(first)
            )
        ):
            yield "js/no-implied-eval", call, f"{name} with a built string"
        elif (
            first is not None
            and not tree.is_literal(first)
            and (
                (
                    short in ("exec", "execSync")
                    and (obj in cp_objects or obj == "child_process" or _REQUIRE_CP.match(obj))
                )
                or (not obj and name in cp_funcs and name.startswith("exec"))
                or (not obj and f"exec:{name}" in cp_funcs)
                or (
                    short in ("spawn", "spawnSync", "execFile") and "shell: true" in tree.text(call)
                )
            )
        ):
            yield "js/detect-child-process", call, f"{name} of a built command"
        elif short == "unserialize" and (obj in serializers or not obj):
            yield "js/unsafe-deserialization", call, "node-serialize unserialize"
        elif (
            short == "createHash"
            and first is not None
            and _WEAK.match(tree.text(first))
            and tree.about_passwords(call)
        ):
            yield "js/weak-password-hash", call, f"{tree.text(first)} hash of a password"
    for pair in tree.nodes("pair"):
        key = pair.child_by_field_name("key")
        value = pair.child_by_field_name("value")
        if (
            key is not None
            and tree.text(key).strip("'\"") == "rejectUnauthorized"
            and (value is not None and value.type == "false")
        ):
            yield "js/tls-reject-unauthorized", pair, "rejectUnauthorized: false"
    for a in tree.nodes("assignment_expression"):
        if "NODE_TLS_REJECT_UNAUTHORIZED" in tree.text(a.child_by_field_name("left") or a):
            yield "js/tls-reject-unauthorized", a, "NODE_TLS_REJECT_UNAUTHORIZED = 0"
    yield from _sql(tree, "js/sql-injection", ("string", "template_string"))


def _pattern_names(tree: Tree, pattern: Any) -> set[str]:
    out = set()
    for c in pattern.named_children:
        if c.type == "shorthand_property_identifier_pattern":
            out.add(tree.text(c))
        elif c.type == "pair_pattern":
            value = c.child_by_field_name("value")
            if value is not None:
                out.add(tree.text(value))
    return out


def _go(tree: Tree) -> Iterator[Hit]:
    for call in tree.nodes("call_expression"):
        name = callee_name(tree, call)
        args = call_args(call)
        if name == "exec.Command" and args:
            if _SHELLS.match(tree.text(args[0])) and len(args) >= 3:
                if tree.text(args[1]).strip('"') in ("-c", "/c", "/C") and not all(
                    map(tree.is_literal, args[2:])
                ):
                    yield "go/G204", call, "shell -c with a built command"
            elif args[0].type in ("binary_expression", "call_expression") and not tree.is_literal(
                args[0]
            ):
                yield "go/G204", call, "command built from values"
        elif name in ("md5.Sum", "sha1.Sum", "md5.New", "sha1.New") and tree.about_passwords(call):
            yield "go/G401", call, f"{name} of a password"
    for kv in tree.nodes("keyed_element"):
        text = tree.text(kv).replace(" ", "")
        if text.startswith("InsecureSkipVerify:true"):
            yield "go/G402", kv, "InsecureSkipVerify: true"
    for a in tree.nodes("assignment_statement"):
        if tree.text(a).replace(" ", "").endswith("InsecureSkipVerify=true"):
            yield "go/G402", a, "InsecureSkipVerify = true"
    yield from _sql(tree, "go/G201", ("interpreted_string_literal", "raw_string_literal"))


def _java(tree: Tree) -> Iterator[Hit]:
    runtimes = {tree.text(n) for n, vs in _bound(tree, "getRuntime()")}
    ois = "ObjectInputStream" in tree.code or "XMLDecoder" in tree.code
    for call in tree.nodes("method_invocation"):
        name = tree.text(call.child_by_field_name("name") or call)
        obj = call.child_by_field_name("object")
        obj_text = tree.text(obj) if obj is not None else ""
        args = call_args(call)
        if name == "exec" and args and ("getRuntime()" in obj_text or obj_text in runtimes):
            if not all(map(tree.is_literal, args)):
                yield "java/COMMAND_INJECTION", call, "Runtime.exec of a built command"
        elif name == "eval" and args and not tree.is_literal(args[0]) and obj is not None:
            yield "java/SCRIPT_ENGINE_INJECTION", call, "ScriptEngine.eval of a value"
        elif name == "readObject" and ois and not args:
            yield "java/OBJECT_DESERIALIZATION", call, "readObject from a stream"
        elif name == "getInstance" and obj_text == "MessageDigest" and args:
            if _WEAK.match(tree.text(args[0])) and tree.about_passwords(call):
                yield "java/WEAK_MESSAGE_DIGEST", call, f"{tree.text(args[0])} of a password"
        elif (
            name in ("setHostnameVerifier", "setDefaultHostnameVerifier")
            and args
            and re.search(r"->\s*true|ALLOW_ALL|Noop", tree.text(args[0]))
        ):
            yield "java/WEAK_TRUST_MANAGER", call, "hostname verifier accepts any host"
    for new in tree.nodes("object_creation_expression"):
        args = call_args(new)
        type_ = tree.text(new.child_by_field_name("type") or new)
        if type_ == "ProcessBuilder" and len(args) >= 3 and _SHELLS.match(tree.text(args[0])):
            if not all(map(tree.is_literal, args[2:])):
                yield "java/COMMAND_INJECTION", new, "sh -c with a built command"
        elif type_ == "NoopHostnameVerifier":
            yield "java/WEAK_TRUST_MANAGER", new, "NoopHostnameVerifier"
    for m in tree.nodes("method_declaration"):
        name = tree.text(m.child_by_field_name("name") or m)
        body = m.child_by_field_name("body")
        if name == "checkServerTrusted" and body is not None and not body.named_children:
            yield "java/WEAK_TRUST_MANAGER", m, "checkServerTrusted accepts any certificate"
    yield from _sql(tree, "java/SQL_INJECTION", ("string_literal",))


def _bound(tree: Tree, needle: str) -> Iterator[tuple[Any, list[Any]]]:
    for decl in tree.nodes("variable_declarator"):
        value = decl.child_by_field_name("value")
        if value is not None and needle in tree.text(value):
            yield decl.child_by_field_name("name") or decl, [value]


_RUST_WEAK = re.compile(r"(?:^|::)(?:md5::compute|Md5::(?:new|digest)|Sha1::(?:new|digest))$")
# Methods of the standard library's safe types that are never `unsafe fn`: calling them needs
# no `unsafe` block (anything else called inside one might be an unsafe fn: not judged).
_RUST_SAFE_METHODS = frozenset(
    [
        "len",
        "is_empty",
        "iter",
        "iter_mut",
        "push",
        "pop",
        "clone",
        "to_string",
        "as_str",
        "get",
        "insert",
        "contains",
        "unwrap",
        "expect",
        "map",
        "collect",
        "sum",
        "min",
        "max",
        "abs",
    ]
)


def _rust(tree: Tree) -> Iterator[Hit]:
    for block in tree.nodes("unsafe_block"):
        if not _unsafe_ops(tree, block) and not re.search(
            r"\b[A-Z][A-Z0-9_]+\b",
            tree.text(block),  # a `static mut` is named like a constant
        ):
            yield "rust/unused_unsafe", block, "unsafe block with no unsafe operation"
    for call in tree.nodes("call_expression"):
        name = callee_name(tree, call)
        args = call_args(call)
        if name.endswith("Command::new") and args and _SHELLS.match(tree.text(args[0])):
            chain = _method_chain(tree, call)
            values = [a for m, a in chain if m in ("arg", "args")]
            flat = [v for group in values for v in group]
            texts = [tree.text(v) for v in flat]
            if any('"-c"' in t for t in texts) and not all(map(tree.is_literal, flat)):
                yield "rust/command-injection", call, "sh -c with a built command"
        short = name.rsplit(".", 1)[-1]
        if short in ("danger_accept_invalid_certs", "danger_accept_invalid_hostnames") and (
            args and tree.text(args[0]) == "true"
        ):
            yield "rust/tls-verify-off", call, f"{short}(true)"
        elif short == "set_verify" and args and "NONE" in tree.text(args[0]):
            yield "rust/tls-verify-off", call, "set_verify(NONE)"
        elif _RUST_WEAK.search(name) and tree.about_passwords(call):
            yield "rust/weak-password-hash", call, f"{name} of a password"
    yield from _sql(tree, "rust/sql-injection", ("string_literal", "raw_string_literal"))


def _unsafe_ops(tree: Tree, block: Any) -> bool:
    """Whether ``block`` holds something that may need ``unsafe``: a dereference, a macro
    (``asm!``), or a call other than a safe standard method."""
    todo = list(block.named_children)
    while todo:
        n = todo.pop()
        if n.type == "macro_invocation" or (
            n.type == "unary_expression" and tree.text(n).startswith("*")
        ):
            return True
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            field = fn.child_by_field_name("field") if fn is not None else None
            if field is None or tree.text(field) not in _RUST_SAFE_METHODS:
                return True
        todo += n.named_children
    return False


def _has_descendant(node: Any, types: frozenset[str]) -> bool:
    todo = list(node.named_children)
    while todo:
        n = todo.pop()
        if n.type in types:
            return True
        todo += n.named_children
    return False


def _method_chain(tree: Tree, call: Any) -> list[tuple[str, list[Any]]]:
    """``.m(args)`` calls chained on ``call`` (``Command::new(..).arg(..).arg(..)``)."""
    out = []
    node = call
    while node.parent is not None and node.parent.type == "field_expression":
        field = node.parent.child_by_field_name("field")
        outer = node.parent.parent
        if outer is None or outer.type != "call_expression" or field is None:
            break
        args = call_args(outer)
        if len(args) == 1 and args[0].type == "array_expression":
            args = list(args[0].named_children)
        out.append((tree.text(field), args))
        node = outer
    return out


def _c_literal(tree: Tree, node: Any) -> bool:
    """``tree.is_literal``, seeing through C++'s ``s.c_str()``/``s.data()``."""
    if node.type == "call_expression" and not call_args(node):
        fn = node.child_by_field_name("function")
        field = fn.child_by_field_name("field") if fn is not None else None
        if field is not None and tree.text(field) in ("c_str", "data"):
            return tree.is_literal(fn.child_by_field_name("argument"))
    return tree.is_literal(node)


def _c(tree: Tree) -> Iterator[Hit]:
    for call in tree.nodes("call_expression"):
        name = callee_name(tree, call).removeprefix("std::").removeprefix("::")
        args = call_args(call)
        if name == "gets":
            yield "c/gets", call, "gets has no bound"
        elif name in ("strcpy", "strcat") and len(args) == 2 and not tree.is_literal(args[1]):
            yield "c/strcpy", call, f"{name} of a value of unknown length"
        elif name in ("sprintf", "vsprintf") and len(args) >= 2 and "%s" in tree.text(args[1]):
            yield "c/strcpy", call, f"{name} of a string of unknown length"
        elif (
            name in ("scanf", "fscanf", "sscanf")
            and args
            and re.search(
                r"%s", tree.text(args[1 if name != "scanf" else 0] if len(args) > 1 else args[0])
            )
        ):
            yield "c/scanf-unbounded", call, f"{name} with %s and no width"
        elif name in ("system", "popen") and args and not _c_literal(tree, args[0]):
            yield "c/system", call, f"{name} of a built command"
        elif name.startswith("execl") and len(args) >= 4 and tree.text(args[2]) == '"-c"':
            if not tree.is_literal(args[3]):
                yield "c/system", call, "sh -c with a built command"
        elif name == "curl_easy_setopt" and len(args) == 3 and "SSL_VERIFY" in tree.text(args[1]):
            if tree.text(args[2]).rstrip("lL") in ("0", "FALSE", "false"):
                yield "c/tls-verify-off", call, f"{tree.text(args[1])} off"
        elif (
            name == "SSL_CTX_set_verify" and len(args) >= 2 and "VERIFY_NONE" in tree.text(args[1])
        ):
            yield "c/tls-verify-off", call, "SSL_VERIFY_NONE"
        elif name in ("MD5", "SHA1", "MD5_Update", "SHA1_Update") and tree.about_passwords(call):
            yield "c/weak-password-hash", call, f"{name} of a password"
    yield from _sql(tree, "c/sql-injection", ("string_literal",))


_POSITIONAL = re.compile(r"(?<!\\)\$\{?([1-9@*])")


def _within(node: Any, types: tuple[str, ...]) -> Any:
    """The nearest enclosing node of one of ``types`` (None when there is none)."""
    up = node.parent
    while up is not None and up.type not in types:
        up = up.parent
    return up


def _positionals(text: str) -> set[str]:
    """Positional parameters expanded in ``text`` (not single-quoted, not escaped)."""
    return set(_POSITIONAL.findall(re.sub(r"'[^']*'", "", text)))


def _script_args_at(tree: Tree, node: Any, used: set[str]) -> bool:
    """Whether ``$1``/``$@`` at ``node`` are still the script's own arguments: not inside a
    function (there they are the function's: ucf's ``setq``, ``eval "$1=..."``) unless the script
    calls it with its own (``f "$@"``), and not after a ``set`` that assigns them (``set -- $i``
    in a loop)."""
    func = _within(node, ("function_definition",))
    if func is not None:  # the function's own: the script's only where it passes them on
        name = tree.text(func.child_by_field_name("name") or func)
        calls = [c for c in tree.nodes("command")
                 if tree.text(c.child_by_field_name("name") or c) == name
                 and _within(c, ("function_definition",)) is None]  # fmt: skip
        return any(_passes_on(tree, c, used) for c in calls)
    earlier = (c for c in tree.nodes("command") if c.start_byte < node.start_byte)
    return not any(_sets_positionals(tree, c) for c in earlier)


def _passes_on(tree: Tree, call: Any, used: set[str]) -> bool:
    """A call that puts the script's own arguments where the function's ``used`` ones are."""
    args = [tree.text(a) for a in call.children_by_field_name("argument")]
    spread = bool(used & {"@", "*"})
    return any((spread or str(i) in used) and _positionals(text)
               for i, text in enumerate(args, 1))  # fmt: skip


def _sets_positionals(tree: Tree, cmd: Any) -> bool:
    """``set -- a b`` or ``set a b`` (not ``set -e``): the positional parameters change."""
    if tree.text(cmd.child_by_field_name("name") or cmd) != "set":
        return False
    words = [tree.text(a) for a in cmd.children_by_field_name("argument")]
    return any(w == "--" or not w.startswith(("-", "+")) for w in words)


def _input_reaches(tree: Tree, arg: Any) -> bool:
    """The script's arguments or ``read`` input reach ``arg`` directly: a positional parameter
    in it (outside single quotes) where they are still the script's arguments, or a variable a
    ``read`` of the script's input fills. Through other variables, real scripts build commands
    from carefully quoted options (xzgrep, memusage): a flag, not a removal
    (``sh/eval-variable``)."""
    text = tree.text(arg)
    if arg.type == "raw_string":
        return False
    used = _positionals(text)
    if used and _script_args_at(tree, arg, used):
        return True
    return any(name in tree.read_vars for name in re.findall(r"\$\{?([A-Za-z_]\w*)", text))


def _reads_script_input(read: Any) -> bool:
    """A ``read`` of the script's own input, not of a command's output piped into its loop
    (``lsblk -P ... | while read vars; do eval "$vars"``: the command's, a flag for review)."""
    loop = _within(read, ("while_statement", "pipeline"))
    return (
        loop is None
        or loop.type != "while_statement"
        or loop.parent is None
        or (loop.parent.type != "pipeline")
    )


_SHELL_NAME = re.compile(r"(?:/usr)?(?:/bin/)?(?:ba|z|da|k)?sh")
_INTERPRETER = re.compile(r"(?:/usr)?(?:/bin/)?(?:python[23]?(?:\.\d+)?|perl|ruby|node)")


def _runs_shell(tree: Tree, cmd: Any) -> bool:
    """``cmd`` is a shell reading its standard input: ``sh``, ``bash -s``, or one run
    through ``sudo``/``env`` with their options (``sudo -E bash -``)."""
    words = [tree.text(cmd.child_by_field_name("name") or cmd)]
    words += [tree.text(a) for a in cmd.children_by_field_name("argument")]
    while words and (words[0] in ("sudo", "env", "command", "exec") or words[0].startswith("-")):
        words.pop(0)
    if words and _INTERPRETER.fullmatch(words[0]):
        return words[1:] in ([], ["-"])  # the script on standard input, not `python -m json.tool`
    return bool(words) and _SHELL_NAME.fullmatch(words[0]) is not None


def _shell(tree: Tree) -> Iterator[Hit]:
    tree.read_vars = {
        tree.text(a)
        for c in tree.nodes("command")
        if tree.text(c.child_by_field_name("name") or c) == "read" and _reads_script_input(c)
        for a in c.children_by_field_name("argument")
        if not tree.text(a).startswith("-")
    }
    expansions = ("simple_expansion", "expansion", "command_substitution")
    for cmd in tree.nodes("command"):
        name_node = cmd.child_by_field_name("name")
        name = tree.text(name_node) if name_node is not None else ""
        args = [a for a in cmd.children_by_field_name("argument")]
        texts = [tree.text(a) for a in args]
        dynamic = [
            a for a in args if a.type in expansions or _has_descendant(a, frozenset(expansions))
        ]
        if name == "eval" and dynamic and texts[:1] != ["set"]:
            if any(_input_reaches(tree, a) for a in args):
                yield "sh/eval", cmd, "eval of the script's arguments or input"
            else:
                yield "sh/eval-variable", cmd, "eval of a variable"
        elif re.fullmatch(r"(?:/usr)?(?:/bin/)?(?:ba|z|da)?sh", name) and "-c" in texts:
            at = texts.index("-c")
            if any(a in dynamic for a in args[at + 1 : at + 2]):
                yield "sh/shell-c", cmd, f"{name} -c with an expansion"
        if name == "curl" and any(
            t in ("-k", "--insecure") or re.fullmatch(r"-[a-zA-Z]*k[a-zA-Z]*", t) for t in texts
        ):
            yield "sh/tls-verify-off", cmd, "curl --insecure"
        elif name == "wget" and "--no-check-certificate" in texts:
            yield "sh/tls-verify-off", cmd, "wget --no-check-certificate"
        elif name == "git" and any("sslVerify=false" in t for t in texts):
            yield "sh/tls-verify-off", cmd, "git http.sslVerify=false"
    for pipe in tree.nodes("pipeline"):
        cmds = [c for c in pipe.named_children if c.type == "command"]
        names = [tree.text(c.child_by_field_name("name") or c) for c in cmds]
        hashers = ("md5sum", "sha1sum", "md5", "shasum")
        if (
            names
            and names[0] in ("echo", "printf")
            and PASSWORD.search(tree.text(cmds[0]))
            and any(n in hashers for n in names[1:])
        ):
            yield "sh/weak-password-hash", pipe, "MD5/SHA-1 of a password"
        if names and names[0] in ("curl", "wget") and _runs_shell(tree, cmds[-1]):
            yield "sh/curl-pipe-shell", pipe, "downloaded script piped into a shell"
    for sub in tree.nodes("process_substitution"):
        holder = _within(sub, ("command",))
        inner = [c for c in sub.named_children if c.type == "command"]
        if (
            holder is not None
            and inner
            and tree.text(inner[0].child_by_field_name("name") or inner[0]) in ("curl", "wget")
            and (
                _SHELL_NAME.fullmatch(
                    name := tree.text(holder.child_by_field_name("name") or holder)
                )
                or name in ("source", ".")
            )
        ):
            yield "sh/curl-pipe-shell", holder, "downloaded script run by a shell"
    for s in tree.nodes("variable_assignment"):
        if tree.text(s).startswith("GIT_SSL_NO_VERIFY="):
            yield "sh/tls-verify-off", s, "GIT_SSL_NO_VERIFY"
    yield from _sql(tree, "sh/sql-injection", ("string",))


def python_sql(tree: Tree) -> Iterator[Hit]:
    """SQL built over several statements (``q = "SELECT ..."; q += name``), which ruff's S608
    (one expression at a time) does not see."""
    yield from _sql(tree, "py/sql-injection", ("string",))


_PY_COMMANDS = frozenset({"system", "popen", "popen2", "popen3", "popen4"})
_PY_LOADERS = frozenset({"pickle", "cPickle", "_pickle", "marshal", "dill", "shelve"})


def _module_call(tree: Tree, node: Any) -> str:
    """The module ``__import__("m")`` or ``importlib.import_module("m")`` returns, else ""."""
    if node is None or node.type != "call":
        return ""
    args = call_args(node)
    name = callee_name(tree, node)
    if name in ("__import__", "import_module", "importlib.import_module") and args:
        return tree.text(args[0]).strip("'\"") if args[0].type == "string" else ""
    return ""


def python_evasions(tree: Tree) -> Iterator[Hit]:
    """What ruff's name-based rules do not see: ``getattr(os, "system")(cmd)``,
    ``__import__("pickle").loads(data)``, ``requests.get(url, **{"verify": False})``."""
    for call in tree.nodes("call"):
        fn = call.child_by_field_name("function")
        args = call_args(call)
        if fn is None or not args or all(map(tree.is_literal, args)):
            continue
        if fn.type == "call" and callee_name(tree, fn) == "getattr":
            inner = call_args(fn)
            target = tree.text(inner[0]) if inner else ""
            attr = tree.text(inner[1]).strip("'\"") if len(inner) == 2 else ""
            if (target == "os" or _module_call(tree, inner[0]) == "os") and attr in _PY_COMMANDS:
                yield "py/indirect-command", call, f"os.{attr} through getattr"
        elif fn.type == "attribute":
            obj = fn.child_by_field_name("object")
            attr = tree.text(fn.child_by_field_name("attribute") or fn)
            module = _module_call(tree, obj)
            if module == "os" and attr in _PY_COMMANDS:
                yield "py/indirect-command", call, f"os.{attr} through __import__"
            elif module in _PY_LOADERS and attr in ("load", "loads", "Unpickler", "open"):
                yield "py/indirect-deserialization", call, f"{module}.{attr} through __import__"
    for splat in tree.nodes("dictionary_splat"):
        value = splat.named_children[0] if splat.named_children else None
        bound = tree.bindings.get(tree.text(value), []) if value is not None else []
        for v in [value, *bound]:
            if v is not None and _keyword_true(tree, v, "verify", "False"):
                yield "py/tls-verify-off", splat, "verify=False in a keyword dictionary"
                break
            if (
                v is not None
                and _keyword_true(tree, v, "shell", "True")
                and _built_command(tree, splat)
            ):
                yield "py/indirect-command", splat, "shell=True in a keyword dictionary"
                break
    if "requests" in tree.code or "Session(" in tree.code:
        for a in tree.nodes("assignment"):
            left, right = a.child_by_field_name("left"), a.child_by_field_name("right")
            if (
                left is not None
                and right is not None
                and left.type == "attribute"
                and tree.text(left).endswith(".verify")
                and tree.text(right) == "False"
            ):
                yield "py/tls-verify-off", a, "a requests session's verify set to False"


def _keyword_true(tree: Tree, node: Any, key: str, value: str) -> bool:
    """A ``{"key": value}`` or ``dict(key=value)`` literal."""
    text = tree.text(node)
    return node.type in ("dictionary", "call") and (
        re.search(rf"""^\{{.*["']{key}["']\s*:\s*{value}\b""", text, re.DOTALL) is not None
        or re.search(rf"^dict\(.*\b{key}\s*=\s*{value}\b", text, re.DOTALL) is not None
    )


_SUBPROCESS_CALLS = frozenset({"Popen", "run", "call", "check_call", "check_output"})


def _built_command(tree: Tree, splat: Any) -> bool:
    """``splat`` is passed to a subprocess call whose command is built at run time."""
    call = splat.parent.parent if splat.parent is not None else None
    if call is None or call.type != "call":
        return False
    if callee_name(tree, call).rsplit(".", 1)[-1] not in _SUBPROCESS_CALLS:
        return False
    args = [a for a in call_args(call) if a.type not in ("dictionary_splat", "keyword_argument")]
    return bool(args) and not tree.is_literal(args[0])


FINDERS: dict[str, Callable[[Tree], Iterator[Hit]]] = {
    "javascript": _javascript,
    "typescript": _javascript,
    "go": _go,
    "java": _java,
    "rust": _rust,
    "c": _c,
    "cpp": _c,
    "shell": _shell,
}
"""The languages with hazard rules, each to its rules' finder."""
