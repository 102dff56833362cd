"""``--allow-secrets FILE``: secrets a reviewer has accepted (a docstring's example token, a
test fixture's fake key), in the spirit of detect-secrets' baseline.

The file is JSON, either tripwire's own shape::

    {"secrets": [{"sha1": "<sha1 of the secret>", "note": "oauthlib docstring example"}],
     "rules": [{"kind": "password_assignment", "source": "pypi:oauthlib*"},
               {"field": "meta.fixtures*", "secret": "^test_"}]}

or a detect-secrets baseline (``detect-secrets scan > .secrets.baseline``): every result's
``hashed_secret`` not marked ``"is_secret": true`` is accepted, and its regex filters
(``--exclude-lines``, ``--exclude-secrets``, ``--exclude-files``) become rules. A secret is
accepted when its SHA-1 is listed (the ``sha1`` a finding shows) or a rule matches it: every
condition a rule gives must hold (globs on the record's ``source``, ``id`` and the JSON ``field``
path; regexes on the ``secret`` and on its ``line``; the ``kind``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError

_RULE_KEYS = frozenset({"kind", "source", "id", "field", "secret", "line", "note"})
_DS_FILTERS = {
    "detect_secrets.filters.regex.should_exclude_line": "line",
    "detect_secrets.filters.regex.should_exclude_secret": "secret",
    "detect_secrets.filters.regex.should_exclude_file": "source",
}


@dataclass(frozen=True)
class Rule:
    kind: str | None = None
    source: str | None = None
    id: str | None = None
    field: str | None = None
    secret: re.Pattern[str] | None = None
    line: re.Pattern[str] | None = None
    source_regex: re.Pattern[str] | None = None
    """detect-secrets' ``--exclude-files`` is a regex, not a glob."""

    def accepts(self, hit: dict[str, Any]) -> bool:
        return (
            (self.kind is None or hit["kind"] == self.kind)
            and (self.source is None or fnmatchcase(str(hit["source"] or ""), self.source))
            and (self.source_regex is None or bool(self.source_regex.search(hit["source"] or "")))
            and (self.id is None or fnmatchcase(str(hit["id"]), self.id))
            and (self.field is None or fnmatchcase(hit["field"], self.field))
            and (self.secret is None or bool(self.secret.search(hit["value"])))
            and (self.line is None or bool(self.line.search(hit["line"])))
        )


@dataclass(frozen=True)
class Allowlist:
    hashes: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    sha256: str = ""
    """Of the file's bytes: part of the audit's identity."""

    def accepts(self, hit: dict[str, Any]) -> bool:
        """``hit``: kind, value, line, field, id, source of one secret found."""
        if not self.hashes and not self.rules:
            return False
        digest = hashlib.sha1(hit["value"].encode("utf-8")).hexdigest()
        return digest in self.hashes or any(r.accepts(hit) for r in self.rules)


NOTHING = Allowlist()


def _regex(where: str, value: object) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise BadInputError(where, f"expected a regular expression string, got {value!r}")
    try:
        return re.compile(value)
    # OverflowError: a repetition count past what re supports (a{99999999999}); RecursionError:
    # groups nested deeper than the compiler recurses
    except (re.error, OverflowError, RecursionError) as exc:
        raise BadInputError(where, f"bad regular expression {value!r}: {exc}") from exc


def _rule(where: str, obj: object) -> Rule:
    if not isinstance(obj, dict) or not obj:
        raise BadInputError(where, "a rule is an object of conditions")
    unknown = set(obj) - _RULE_KEYS
    if unknown:
        raise BadInputError(
            where, f"unknown rule keys {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}"
        )
    for key in ("kind", "source", "id", "field"):
        if key in obj and not isinstance(obj[key], str):
            raise BadInputError(where, f"{key!r} must be a string")
    if not set(obj) - {"note"}:
        raise BadInputError(where, "a rule needs at least one condition")
    return Rule(
        kind=obj.get("kind"),
        source=obj.get("source"),
        id=obj.get("id"),
        field=obj.get("field"),
        secret=_regex(f"{where}.secret", obj["secret"]) if "secret" in obj else None,
        line=_regex(f"{where}.line", obj["line"]) if "line" in obj else None,
    )


def _hash(where: str, entry: object) -> str:
    value = entry.get("sha1", entry.get("hashed_secret")) if isinstance(entry, dict) else entry
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{40}", value):
        raise BadInputError(where, "expected a 40-digit hex SHA-1 ('sha1' or 'hashed_secret')")
    return value.lower()


def _detect_secrets_baseline(path: Path, obj: dict[str, Any]) -> tuple[set[str], list[Rule]]:
    results = obj["results"]
    if not isinstance(results, dict):
        raise BadInputError(path, "'results' must map file names to lists of secrets")
    hashes = set()
    for name, found in results.items():
        if not isinstance(found, list):
            raise BadInputError(path, f"results[{name!r}] must be a list")
        for k, entry in enumerate(found):
            if isinstance(entry, dict) and entry.get("is_secret") is True:
                continue  # marked as a real secret: not accepted
            hashes.add(_hash(f"{path}: results[{name!r}][{k}]", entry))
    rules = []
    for f in obj.get("filters_used", []) or []:
        target = _DS_FILTERS.get(f.get("path", "")) if isinstance(f, dict) else None
        for pattern in (f.get("pattern") or []) if target else []:
            rx = _regex(f"{path}: filters_used {f['path']}", pattern)
            rules.append(Rule(source_regex=rx) if target == "source" else Rule(**{target: rx}))
    return hashes, rules


def load_allowlist(path: Path) -> Allowlist:
    """Parse an allowlist file; bad input names the file and what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(path, f"cannot read the allowlist: {exc.strerror or exc}") from exc
    try:
        obj = json.loads(data)
    except ValueError as exc:  # not UTF-8, not JSON, or an integer past Python's digit limit
        raise BadInputError(path, f"the allowlist is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInputError(path, "the allowlist's JSON is nested too deeply") from exc
    if not isinstance(obj, dict):
        raise BadInputError(path, "the allowlist must be a JSON object")
    if "results" in obj:
        hashes, rules = _detect_secrets_baseline(path, obj)
    else:
        unknown = set(obj) - {"secrets", "rules", "note"}
        if unknown or not ({"secrets", "rules"} & set(obj)):
            raise BadInputError(
                path, "expected 'secrets' and/or 'rules' (or a detect-secrets baseline)"
            )
        secrets, raw_rules = obj.get("secrets", []), obj.get("rules", [])
        if not isinstance(secrets, list) or not isinstance(raw_rules, list):
            raise BadInputError(path, "'secrets' and 'rules' must be lists")
        hashes = {_hash(f"{path}: secrets[{k}]", e) for k, e in enumerate(secrets)}
        rules = [_rule(f"{path}: rules[{k}]", r) for k, r in enumerate(raw_rules)]
    return Allowlist(frozenset(hashes), tuple(rules), hashlib.sha256(data).hexdigest())
