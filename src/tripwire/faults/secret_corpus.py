"""Secrets planted in real records, for measuring secret detection: credentials of the formats
the providers issue (random each time), written the way people write them (an assignment in the
record's language, a YAML or env line, a JSON field, a URL, a sentence), and placed anywhere a
record can hold a string: its code, a chat system turn, a metadata field, its id, its source,
its tests, even a chat role. The code around them is real: functions of the installed packages.
"""

from __future__ import annotations

import ast
import json
import random
import string
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UP, _LOW, _DIG = string.ascii_uppercase, string.ascii_lowercase, string.digits
_B64 = _UP + _LOW + _DIG + "+/"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pem(rng: random.Random, label: str) -> str:
    body = "\n".join(_r(rng, _B64, 64) for _ in range(rng.randint(4, 9)))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def _jwt(rng: random.Random) -> str:
    import base64

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": _r(rng, _DIG, 8), "name": "svc", "iat": rng.randint(10**9, 2 * 10**9)})
    return f"{head}.{body}.{_r(rng, _UP + _LOW + _DIG + '_-', 43)}"


def _password(rng: random.Random) -> str:
    """What a person or a password manager picks: letters, digits and a symbol or two."""
    core = _r(rng, _UP + _LOW + _DIG, rng.randint(9, 18))
    return core[:4] + rng.choice("!#*&^+-_.") + core[4:] + rng.choice(_DIG)


# kind -> (generator of the secret, what both tools call it)
KINDS: dict[str, Any] = {
    "aws_access_key_id": lambda g: "AKIA" + _r(g, _UP + "234567", 16),
    "aws_secret_access_key": lambda g: _r(g, _B64, 40),
    "github_token": lambda g: "ghp_" + _r(g, _UP + _LOW + _DIG, 36),
    "gitlab_token": lambda g: "glpat-" + _r(g, _UP + _LOW + _DIG + "_-", 20),
    "slack_token": lambda g: f"xoxb-{_r(g, _DIG, 11)}-{_r(g, _DIG, 12)}-{_r(g, _LOW + _DIG, 24)}",
    "slack_webhook": lambda g: (
        "https://hooks.slack.com/services/T"
        + _r(g, _UP + _DIG, 8)
        + "/B"
        + _r(g, _UP + _DIG, 10)
        + "/"
        + _r(g, _UP + _LOW + _DIG, 24)
    ),
    "stripe_key": lambda g: "sk_live_" + _r(g, _UP + _LOW + _DIG, 24),
    "openai_key": lambda g: (
        "sk-" + _r(g, _UP + _LOW + _DIG, 20) + "T3BlbkFJ" + _r(g, _UP + _LOW + _DIG, 20)
    ),
    "private_key": lambda g: _pem(
        g, g.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    ),
    "jwt": _jwt,
    "password_in_url": lambda g: (
        f"postgres://{_r(g, _LOW, 6)}:{_password(g)}@db{g.randint(1, 9)}.internal:5432/app"
    ),
    "password_assignment": _password,
    "npm_token": lambda g: "npm_" + _r(g, _UP + _LOW + _DIG, 36),
    "pypi_token": lambda g: "pypi-AgEIcHlwaS5vcmc" + _r(g, _UP + _LOW + _DIG + "_-", 80),
    "sendgrid_key": lambda g: f"SG.{_r(g, _UP + _LOW + _DIG, 22)}.{_r(g, _UP + _LOW + _DIG, 43)}",
    "mailchimp_key": lambda g: _r(g, "0123456789abcdef", 32) + f"-us{g.randint(1, 20)}",
    "azure_storage_key": lambda g: _r(g, _B64, 86) + "==",
    "google_api_key": lambda g: "AIza" + _r(g, _UP + _LOW + _DIG + "_-", 35),
    "huggingface_token": lambda g: "hf_" + _r(g, _UP + _LOW, 34),
}

# How a secret of each kind is written, per syntax: {v} is the secret.
_NAMES = {
    "aws_access_key_id": "aws_access_key_id",
    "aws_secret_access_key": "aws_secret_access_key",
    "azure_storage_key": "connection",
    "password_assignment": "db_password",
    "password_in_url": "database_url",
}
_CONTEXTUAL = frozenset({"password_assignment", "aws_secret_access_key"})
"""Kinds that are a credential only next to a name that says so (40 base64 characters, a
password): planted with that name."""
_SYNTAX = {
    "python": '{name} = "{v}"',
    "javascript": "const {camel} = '{v}';",
    "go": '{camel} := "{v}"',
    "yaml": "{name}: {v}",
    "env": "{upper}={v}",
    "json": '"{name}": "{v}",',
    "php": "'{name}' => '{v}',",
}
_SENTENCE = (
    "You are the deploy bot. The {name} is {v}; send it when calling the internal API.",
    "Use this {name}: {v}",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _value(kind: str, v: str) -> str:
    return (
        f"DefaultEndpointsProtocol=https;AccountName=prod;AccountKey={v}"
        if kind == "azure_storage_key"
        else v
    )


def written(kind: str, v: str, syntax: str) -> str:
    """A line that holds secret ``v`` of ``kind`` in ``syntax`` (a key-like name before it)."""
    name = _NAMES.get(kind, kind.replace("_key", "") + "_token")
    if kind == "password_assignment" and syntax == "env":
        name = "secret_key"
    text = _SYNTAX[syntax].format(
        name=name, camel=_camel(name), upper=name.upper(), v=_value(kind, v).replace("\n", "\\n")
    )
    if kind == "private_key" and syntax == "python":
        text = f'{name} = """{v}"""'
    return text


@dataclass(frozen=True)
class Planted:
    record: dict[str, Any]
    kind: str | None
    """The planted kind; None for a clean record."""
    secret: str
    where: str
    """Where in the record: code, system turn, metadata, id, source, tests, role, ..."""
    language: str


def installed_python_functions(n: int, rng: random.Random) -> list[str]:
    """Top-level functions and classes (5-80 lines) of the installed packages, from files
    visited in an order drawn by ``rng`` (a few from each, so many authors are represented)."""
    root = Path(sysconfig.get_paths()["purelib"])
    files = sorted(root.rglob("*.py"))
    # one draw from ``rng`` whatever the number of files: what the caller draws next must not
    # depend on which packages this machine has installed
    random.Random(rng.random()).shuffle(files)
    out: list[str] = []
    for path in files:
        try:
            if path.stat().st_size > 100_000:
                continue  # mostly generated tables
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        lines = source.splitlines(keepends=True)
        taken = 0
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.end_lineno:
                seg = "".join(lines[node.lineno - 1 : node.end_lineno])
                if 5 <= seg.count("\n") <= 80 and taken < 8:
                    out.append(seg)
                    taken += 1
        if len(out) >= n:
            break
    return out[:n]


def installed_config_files(n: int) -> list[tuple[str, str]]:
    """(text, language) of small YAML/JSON/TOML/INI files the installed packages ship."""
    root = Path(sysconfig.get_paths()["purelib"])
    out = []
    for suffix, lang in (
        (".yaml", "yaml"),
        (".yml", "yaml"),
        (".json", "json"),
        (".toml", "toml"),
        (".cfg", "ini"),
        (".ini", "ini"),
    ):
        for path in sorted(root.rglob("*" + suffix)):
            try:
                if path.stat().st_size > 20_000:
                    continue
                out.append((path.read_text(encoding="utf-8"), lang))
            except (OSError, UnicodeDecodeError):
                continue
    return out[:n]


_WHERE = ("code", "system turn", "metadata", "id", "source", "tests", "role", "user turn")
_SYNTAXES = ("python", "javascript", "go", "yaml", "env", "json", "php")


def _insert(code: str, line: str, rng: random.Random) -> str:
    lines = code.splitlines(keepends=True)
    at = rng.randint(1, max(1, min(len(lines) - 1, 10)))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())] if at < len(lines) else ""
    return "".join(lines[:at]) + indent + line + "\n" + "".join(lines[at:])


def plant(kind: str, code: str, rng: random.Random, k: int) -> Planted:
    """One record with a secret of ``kind``, placed by turn (``k``) in each place a record
    has, written in a syntax drawn for it."""
    v = KINDS[kind](rng)
    where = _WHERE[k % len(_WHERE)]
    syntax = rng.choice(_SYNTAXES)
    line = written(kind, v, syntax)
    rid = f"rec-{k:05d}"
    base: dict[str, Any] = {
        "id": rid,
        "text": code,
        "language": "python",
        "source": "pypi:installed",
    }
    if where == "code":
        base["text"] = _insert(code, written(kind, v, "python"), rng)
    elif where == "system turn":
        name = _NAMES.get(kind, kind.replace("_", " "))
        base = {
            "id": rid,
            "messages": [
                {
                    "role": "system",
                    "content": rng.choice(_SENTENCE).format(name=name, v=_value(kind, v))
                    if kind != "private_key"
                    else line,
                },
                {"role": "user", "content": "Explain this function."},
                {"role": "assistant", "content": f"```python\n{code}```\nIt returns the result."},
            ],
        }
    elif where == "user turn":
        base = {
            "id": rid,
            "prompt": f"Why does this config fail?\n\n{line}\n",
            "response": f"```python\n{code}```\n",
        }
    elif where == "metadata":
        base["meta"] = {
            "pipeline": "scrape-v2",
            "credentials": {_NAMES.get(kind, "token"): _value(kind, v)},
        }
    elif where == "id":
        base["id"] = f"{rid}-{_value(kind, v)}"
        if kind in _CONTEXTUAL:  # a bare value of these is no credential: the id names it
            base["id"] = f"{rid}/{_NAMES.get(kind, kind)}={_value(kind, v)}"
        if kind == "private_key":  # an id holds no key block: a note beside it does
            base["id"], base["meta"] = rid, {"note": line}
    elif where == "source":
        base["source"] = (
            f"https://ci:{v}@git.internal/repo.git"
            if kind in ("password_assignment",)
            else f"https://git.internal/repo.git?{_NAMES.get(kind, 'token')}={_value(kind, v)}"
        )
        if kind == "private_key":
            base["source"] = line
    elif where == "tests":
        base = {
            "id": rid,
            "prompt": "Write the function.",
            "response": f"```python\n{code}```\n",
            "tests": f"import os\n{written(kind, v, 'python')}\nassert True\n",
        }
    elif where == "role":
        base = {
            "id": rid,
            "messages": [
                {"role": f"system {line}", "content": "x"},
                {"role": "user", "content": "Explain this function."},
                {"role": "assistant", "content": f"```python\n{code}```"},
            ],
        }
    return Planted(base, kind, v, where, syntax)
