"""Fault planting: transformations that turn a piece of real code into one fault each.

Every function takes code and a seeded ``random.Random`` and returns the faulty code (or None
when this code offers no place for the fault), so the builder in ``_faults`` stays about which
records get which fault, and tests and the demo plant the same faults.
"""

from __future__ import annotations

import io
import keyword
import random
import re
import string
import tokenize

from tripwire.data import leaves, ngram_hashes, parse_tree, strip_comments
from tripwire.data import tokenize as lex

TOP_LEVEL_DEFS = {
    "python": ("function_definition", "class_definition"),
    "javascript": ("function_declaration", "class_declaration"),
    "c": ("function_definition",),
    "perl": ("subroutine_declaration_statement",),
    "shell": ("function_definition",),
}
_OPENERS, _CLOSERS = "([{", ")]}"
_SHELL_ENDS = ("fi", "done", "esac", "then", "do")


def top_level_definitions(code: str, language: str) -> list[str]:
    """Source of each top-level function (or class) definition, in order."""
    kinds = TOP_LEVEL_DEFS.get(language)
    if not kinds:
        return []
    data = code.encode()
    root = parse_tree(code, language).root_node
    return [
        data[n.start_byte : n.end_byte].decode() + "\n"
        for n in root.children
        if n.type in kinds and not n.has_error
    ]


def _code_leaves(code: str, language: str, types: tuple[str, ...]) -> list[tuple[int, int]]:
    """Byte spans of anonymous grammar tokens of the given types (real code, not strings)."""
    return [
        (n.start_byte, n.end_byte)
        for n in leaves(parse_tree(code, language))
        if not n.is_named and n.type in types
    ]


def _cut_bytes(code: str, start: int, end: int, insert: str = "") -> str:
    data = code.encode()
    return (data[:start] + insert.encode() + data[end:]).decode()


def break_syntax(code: str, language: str, rng: random.Random) -> tuple[str, str] | None:
    """(broken code, how): delete a delimiter, a block keyword or a colon in the first 80%."""
    limit = int(len(code.encode()) * 0.8)
    choices: list[tuple[str, list[tuple[int, int]]]] = []
    # In shell, brackets are mostly test commands and globs, not syntax: only braces count.
    brackets = "{}" if language == "shell" else _OPENERS + _CLOSERS
    delims = [s for s in _code_leaves(code, language, tuple(brackets)) if s[1] < limit]
    if delims:
        choices.append(("deleted a bracket", delims))
    if language == "shell":
        ends = [s for s in _code_leaves(code, language, _SHELL_ENDS) if s[1] < limit]
        if ends:
            choices.append(("deleted a block keyword", ends))
    if language == "python":
        colons = [
            (m.start(), m.end()) for m in re.finditer(r":(?=[ \t]*\n)", code) if m.end() < limit
        ]
        if colons:
            choices.append(
                (
                    "deleted a block colon",
                    [(len(code[:a].encode()), len(code[:b].encode())) for a, b in colons],
                )
            )
    if not choices:
        return None
    how, spans = rng.choice(choices)
    start, end = rng.choice(spans)
    return _cut_bytes(code, start, end), how


def truncate(code: str, rng: random.Random) -> str | None:
    """Cut at a random point in the middle 40-90%, inside a line, like a length limit does."""
    if len(code) < 80:
        return None
    for _ in range(20):
        cut = rng.randint(int(len(code) * 0.4), int(len(code) * 0.9))
        head = code[:cut].rstrip(" \t")
        if head and not head.endswith("\n") and code[cut:].strip():
            return head
    return None


def rename_identifiers(code: str, rng: random.Random) -> str:
    """Python: consistently rename every local name (not keywords, builtins or attributes)."""
    import builtins

    toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
    kept = (
        set(keyword.kwlist)
        | set(dir(builtins))
        | {"self", "cls", "List", "Tuple", "Optional", "Dict", "Any", "typing", "math"}
    )
    imported = {
        t.string
        for i, t in enumerate(toks)
        if t.type == tokenize.NAME and i > 0 and toks[i - 1].string == "import"
    }
    mapping: dict[str, str] = {}
    pool = [
        "value",
        "items",
        "data",
        "result",
        "acc",
        "elem",
        "idx",
        "count",
        "buf",
        "tmp",
        "left",
        "right",
        "seq",
        "n_items",
        "total",
        "key",
        "val",
        "out",
        "xs",
        "k",
    ]
    rng.shuffle(pool)
    edits = []
    for i, t in enumerate(toks):
        if t.type != tokenize.NAME or t.string in kept or t.string in imported:
            continue
        if i > 0 and toks[i - 1].string == ".":
            continue
        if t.string not in mapping:
            base = pool[len(mapping) % len(pool)]
            mapping[t.string] = base if len(mapping) < len(pool) else f"{base}{len(mapping)}"
        edits.append((t.start, t.end, mapping[t.string]))
    lines = code.splitlines(keepends=True)
    for (row, col), (_, col_end), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col_end:]
    return "".join(lines)


def restyle(code: str, rng: random.Random, comment: str = "#") -> str:
    """Whitespace, comment and docstring edits that keep the code's meaning."""
    out = []
    docstring = re.compile(r'^(\s*)("""|\'\'\')[\s\S]*?\2', re.MULTILINE)
    code = docstring.sub(lambda m: f'{m.group(1)}"""Solution."""', code, count=1)
    for line in code.splitlines():
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 4 * 2 + (len(line) - len(stripped)) % 4
        line = " " * indent + stripped
        out.append(line.rstrip())
        if stripped and rng.random() < 0.25:
            out.append(" " * indent + f"{comment} step")
        if rng.random() < 0.1:
            out.append("")
    return "\n".join(out) + "\n"


def near_copy(code: str, rng: random.Random, comment: str = "#") -> str:
    """A near duplicate: re-commented and re-spaced, with one small literal edit."""
    text = restyle_light(code, rng, comment)
    numbers = list(re.finditer(r"(?<![\w.$])\d+(?![\w.])", text))
    if numbers:
        m = rng.choice(numbers)
        text = text[: m.start()] + str(int(m.group()) + 1) + text[m.end() :]
    return text


def shingle_jaccard(a: str, b: str, language: str | None, shingle: int = 5) -> float:
    """Exact Jaccard similarity of two texts' code shingles (what MinHash estimates)."""
    ga = set(ngram_hashes(lex(a, language), shingle).tolist())
    gb = set(ngram_hashes(lex(b, language), shingle).tolist())
    return len(ga & gb) / max(1, len(ga | gb))


def restyle_light(code: str, rng: random.Random, comment: str) -> str:
    """Add a comment line at the top and blank lines; never changes a token."""
    out = [f"{comment} reviewed copy"]
    for line in code.splitlines():
        out.append(line.rstrip())
        if not line.strip() and rng.random() < 0.3:
            out.append("")
    return "\n".join(out) + "\n"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def fake_secret(rng: random.Random) -> tuple[str, str]:
    """(kind, a line of code assigning a realistic but random credential)."""
    up, low, dig = string.ascii_uppercase, string.ascii_lowercase, string.digits
    kinds = [
        ("aws_access_key_id", f'AWS_ACCESS_KEY_ID = "AKIA{_rand(rng, up + dig, 16)}"'),
        (
            "aws_secret_access_key",
            f'aws_secret_access_key = "{_rand(rng, up + low + dig + "/+", 40)}"',
        ),
        ("github_token", f'GITHUB_TOKEN = "ghp_{_rand(rng, up + low + dig, 36)}"'),
        ("slack_token", f'SLACK_TOKEN = "xoxb-{_rand(rng, dig, 12)}-{_rand(rng, low + dig, 24)}"'),
        (
            "password_in_url",
            f'DATABASE_URL = "postgres://admin:{_rand(rng, low + up + dig, 14)}'
            '@db.internal:5432/app"',
        ),
        ("stripe_key", f'STRIPE_KEY = "sk_live_{_rand(rng, low + up + dig, 28)}"'),
        (
            "private_key",
            'PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----\n'
            + "\n".join(_rand(rng, up + low + dig + "+/", 64) for _ in range(4))
            + '\n-----END RSA PRIVATE KEY-----"""',
        ),
    ]
    return rng.choice(kinds)


def insert_line(code: str, line: str, rng: random.Random) -> str:
    """Insert ``line`` after a random line of ``code`` that is not inside a bracket."""
    lines = code.splitlines(keepends=True)
    at = rng.randint(0, max(0, min(len(lines), 8)))
    return "".join(lines[:at]) + line + "\n" + "".join(lines[at:])


def adapt_secret_line(line: str, language: str) -> str:
    """The Python-style assignment from ``fake_secret`` in the record's language."""
    triple, quote = '"""', '"'
    if language == "javascript":
        return "const " + line.replace('"""', "`") + ";"
    if language == "c":
        return "static const char *" + line.replace('"""', '"').replace("\n", "\\n") + ";"
    if language == "perl":
        return "my $" + line.replace('"""', '"') + ";"
    if language == "shell":
        name, _, value = line.partition(" = ")
        return f"export {name}={value.replace(triple, quote)}"
    return line


def minify(code: str, language: str) -> str:
    """All on one line: comments dropped, whitespace runs collapsed."""
    body = strip_comments(code, language)
    return re.sub(r"\s+", " ", body).strip() + "\n"


def low_alphanumeric(code: str, rng: random.Random) -> str:
    """Wrap code in ASCII-art banners, the way some generated or decorated files look."""
    art = "".join(rng.choice("=-*#~+|/\\<>") for _ in range(76))
    banner = "\n".join("# " + art[i:] + art[:i] for i in range(0, 76, 2))
    return banner + "\n" + code + banner + "\n"


def long_lines(code: str, rng: random.Random, language: str) -> str:
    """Prepend a data table written on one enormous line."""
    values = ", ".join(str(rng.randint(0, 65535)) for _ in range(900))
    decl = {
        "python": f"TABLE = [{values}]",
        "javascript": f"const TABLE = [{values}];",
        "c": f"static const int TABLE[] = {{{values}}};",
        "perl": f"my @TABLE = ({values});",
        "shell": f"TABLE=({values.replace(',', '')})",
    }[language]
    return decl + "\n" + code


def autogenerated(code: str, comment: str) -> str:
    return (
        f"{comment} Code generated by protoc-gen-tripwire. DO NOT EDIT.\n"
        f"{comment} source: api.proto\n\n" + code
    )


def lint_noise(code: str, rng: random.Random) -> str:
    """Trailing whitespace on most lines: mechanical sloppiness a lint score counts."""
    return "".join(
        ln.rstrip("\n") + (" " * rng.randint(1, 4) if rng.random() < 0.8 else "") + "\n"
        for ln in code.splitlines(keepends=True)
    )
