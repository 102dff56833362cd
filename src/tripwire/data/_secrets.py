"""Credentials in text: where they are, and the text with each one replaced by a marker.

Every output of a data audit passes record text through ``redact`` before showing it, so a key
found in the data never reaches a report, a findings file or a terminal. A record is scanned in
every string it holds (``record_strings``: every field, every chat turn, its id and source, the
keys of its objects), not only in its code.

Each pattern has literals it cannot match without (``_PATTERN_ANCHORS``); one Aho-Corasick pass
finds them all, and a pattern runs only in small windows around its own. A text with none of
them, which is most code, costs that one pass and no regular expression at all. Literals that
are ordinary words (``key``, ``token``, ``aws``, ``://``) count only where what follows them
could complete a match (``key = ``, ``"api_key": ``).

The kinds cover most of detect-secrets' plugins (not its Twilio, Discord, Telegram, IBM,
SoftLayer, Cloudant and Artifactory ones, whose formats have no literal to anchor on, nor its
generic high-entropy detectors), plus Google and Hugging Face keys; ``benchmarks/data_secrets.py``
compares the two record by record.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import ahocorasick

# detect-secrets' keyword list (and a few token names of our own): a name that says "secret"
_KEYWORDS = (
    r"api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key"
    r"|private_?key|client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd|secret"
    r"|contrase[nñ]a|access_?token|auth_?token|api_?token|client_?secret"
)
# A value a person or a key generator wrote, not code: no spaces, brackets, calls or templates.
_VALUE = r"[^\s'\"`,;(){}\[\]<>$%]{6,200}"

# (kind, pattern); group 1, when present, is the secret itself, else the whole match is.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
            r"|PuTTY-User-Key-File-\d: [^\n]*(?:\n[^\n]*){0,40}?Private-MAC: \w+"
        ),
    ),
    ("aws_access_key_id", re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16})\b")),
    (
        "aws_secret_access_key",
        re.compile(
            r"(?i)aws.{0,20}?(?:secret|private|key|token|pass(?:word)?|pwd|pw).{0,20}?"
            r"['\"]?\s*[=:,(]?\s*['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    (
        "github_token",
        re.compile(r"\b(gh[pousr]_[A-Za-z0-9_]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ),
    (
        "gitlab_token",
        re.compile(
            r"\b((?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent)-[A-Za-z0-9_-]{20,1024}"
            r"|GR1348941[A-Za-z0-9_-]{20,50})(?![\w-])"
        ),
    ),
    ("slack_token", re.compile(r"(?i)\b(xox[abposr]-(?:\d+-)+[a-z0-9]+(?:-[a-z0-9]+)*)")),
    ("slack_webhook", re.compile(r"(https://hooks\.slack\.com/services/T\w+/B\w+/\w+)")),
    ("google_api_key", re.compile(r"\b(AIza[0-9A-Za-z_-]{35})(?![\w-])")),
    ("stripe_key", re.compile(r"\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})\b")),
    (
        "openai_key",
        re.compile(r"\b(sk-(?:proj-|svcacct-|admin-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{32,})(?![\w-])"),
    ),
    ("huggingface_token", re.compile(r"\b(hf_[A-Za-z0-9]{34,})\b")),
    ("npm_token", re.compile(r"\b(npm_[A-Za-z0-9]{36})\b|_authToken=\s*([A-Za-z0-9_-]{36,})")),
    ("pypi_token", re.compile(r"\b(pypi-Ag[EI][A-Za-z0-9_-]{50,})")),
    ("sendgrid_key", re.compile(r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![\w-])")),
    ("mailchimp_key", re.compile(r"\b([0-9a-f]{32}-us[0-9]{1,2})\b")),
    ("azure_storage_key", re.compile(r"AccountKey=([A-Za-z0-9+/=]{88})")),
    ("square_oauth", re.compile(r"\b(sq0csp-[0-9A-Za-z_-]{43})")),
    ("jwt", re.compile(r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})")),
    (
        "password_in_url",
        re.compile(
            # the host may be a template (f"...@{host}", "...@${HOST}", "...@%(host)s")
            r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s/:@'\"<>]{1,64}:([^\s/@'\"<>]{3,128})@[\w.{$%-]"
        ),
    ),
    (
        "password_in_dsn",
        re.compile(r"(?<![\w.-])[\w.-]{1,64}:([^\s/:@'\"<>]{3,128})@(?:tcp|udp|unix)\("),
    ),
    (
        "password_in_command",
        re.compile(
            r"\b(?:curl|wget|http)\b[^\n]{0,200}?\s(?:-u|--user)[ =]['\"]?"
            r"[^\s:'\"]{1,64}:([^\s'\"]{3,128})"
        ),
    ),
    (
        "password_in_markup",
        re.compile(rf"(?i)<(?:[\w-]+:)?[\w-]*(?:{_KEYWORDS})[\w-]*>[ \t]*({_VALUE})[ \t]*</"),
    ),
    (
        "password_env_default",
        re.compile(
            rf"(?i)(?:getenv|environ\.get|env\.fetch|env\.get)\(\s*(['\"])\w*(?:{_KEYWORDS})\w*\1"
            rf"\s*,\s*(['\"])({_VALUE})\2"
        ),
    ),
    (
        "password_assignment",
        re.compile(
            rf"(?i)(?:{_KEYWORDS})\w*['\"\]]{{0,2}}(?:[ \t]*(?::=|=>|[=:]|==|!=)|[ \t]+is)[ \t]*@?"
            rf"(['\"`]?)({_VALUE})\1"
        ),
    ),
]
_ASSIGNED = re.compile(r"\w*(?:['\"\]]|\\\")*[ \t]*(?::=|=>|[=:>]|!=|is\b)")
"""What follows a keyword's literal in an assignment: the rest of the name, closing quotes
(escaped ones too: the raw JSON line is tested first), an operator."""
_USER_OPTION = re.compile(r"\S*[^\n]{0,200}?\s(?:-u|--user)[ =]['\"]?[^\s:'\"]{1,64}:")
"""What must follow ``curl``/``wget``/``http`` for a ``user:password`` option to be there."""
_AFTER_ANCHOR: dict[str, re.Pattern[str]] = {
    **{a: _ASSIGNED for a in ("key", "pass", "pwd", "secret", "token", "contrase")},
    "aws": re.compile(r".{0,20}?(?:secret|private|key|token|pass|pwd|pw)"),
    "://": re.compile(r"[^\s/:@'\"<>]{1,64}:[^\s/@'\"<>]{3,128}@"),
    **{a: _USER_OPTION for a in ("curl", "wget", "http")},
}
"""What must follow the anchors that are common words (a secret's name, ``aws``, a URL's
``://``) for a pattern to have a chance: checked where each occurs, before any pattern runs."""
_PRIORITY = {kind: k for k, (kind, _) in enumerate(_PATTERNS)}
_GROUPS = {"password_assignment": 2, "password_env_default": 3}
"""Patterns whose secret is not group 1."""
_PLACEHOLDER = re.compile(
    r"(?i)^(?:password|passwd|pass|secret|changeme|example|test|testing|dummy|foo|bar|none|null"
    r"|user|admin|root|guest|pw|pwd|token|key|apikey|true|false|required|optional|string|str"
    r"|bytes|int|self|redacted|hidden|unset|empty|default|secret_?key|api_?key)\d*$"
    r"|example|your|dummy|placeholder|redacted|xxxx|\*\*\*|\.\.\.|…|^\$|^%|\\|[<>{}()]"
    r"|^[a-z]+(?:[._-][a-z]+)*$|^[A-Z]+(?:_[A-Z]+)*$|^[a-z]+(?:[A-Z][a-z]+)+$"
    r"|^[~/]|^\.{1,2}/|\.(?:pem|key|crt|cer|json|ya?ml|txt|cfg|ini|env|p12|pfx|der|pub)$"
)
"""Values that name a setting, a type, a file or a placeholder rather than being one: a secret
has digits or symbols mixed in (plain words, ``CONSTANT_NAMES``, ``camelCase`` and paths such
as ``~/deploy-key.pem`` are code)."""
_SEGMENT = r"_*[A-Za-z][A-Za-z_]*\d*"
_CODE_LIKE = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*[:;,]?$")
"""An unquoted value that reads as a name or an attribute (``self._authkey``, ``hashlib.sha256``,
``key2``: letters, then digits only at the end of each part): code, not a credential."""
_TYPE_NAME = re.compile(r"^_*[A-Z][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z_]*)*$")
"""A class name as a string (a Python forward reference: ``private_key: "_DSAPrivateKey"``)."""
_NEXT_PARAMETER = re.compile(r"\s*[,)=\]]")
"""What follows an annotation in a signature: the next parameter, the end, a default."""
_CHECKED_ENTROPY = frozenset(
    {
        "password_assignment",
        "openai_key",
        "password_in_url",
        "password_in_command",
        "password_in_dsn",
        "password_in_markup",
        "password_env_default",
    }
)
_EXAMPLE_KEYS = re.compile(
    "|".join(
        f"{w}|{w.upper()}|{w.title()}" for w in ("example", "sample", "fake", "dummy", "xxxxx")
    )
    + "|00000000"
)
"""Documented example credentials (``AKIAIOSFODNN7EXAMPLE``), the same in every copy: the
word in one case, as a person writes it (a key's random body holds ``faKe`` or ``SaMple``
now and then: one generated private key in twenty was taken for an example)."""


_DECODERS = ("b64decode", "fromhex", "unhexlify", "atob(", "decodestring", "'base64'", '"base64"')
"""Calls that turn a base64 or hex literal back into text (Python, JavaScript, Go, Node's
``Buffer.from(s, "base64")``): around them a literal is decoded and scanned."""

# Lower-case literals each pattern cannot match without (a cheap test before the regex).
_PATTERN_ANCHORS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key", "putty-user-key"),
    "aws_access_key_id": ("akia", "asia", "abia", "acca", "a3t"),
    "aws_secret_access_key": ("aws",),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": (
        "glpat-",
        "gldt-",
        "glft-",
        "glsoat-",
        "glrt-",
        "glcbt-",
        "glimt-",
        "glptt-",
        "glagent-",
        "gr1348941",
    ),
    "slack_token": ("xox",),
    "slack_webhook": ("hooks.slack",),
    "google_api_key": ("aiza",),
    "stripe_key": ("_live_",),
    "openai_key": ("sk-",),
    "huggingface_token": ("hf_",),
    "npm_token": ("npm_", "_authtoken"),
    "pypi_token": ("pypi-ag",),
    "sendgrid_key": ("sg.",),
    "mailchimp_key": ("-us",),
    "azure_storage_key": ("accountkey=",),
    "square_oauth": ("sq0csp-",),
    "jwt": ("eyj",),
    "password_in_url": ("://",),
    "password_in_dsn": ("@tcp(", "@udp(", "@unix("),
    "password_in_command": ("curl", "wget", "http"),
    "password_in_markup": ("key", "pass", "pwd", "secret", "token", "contrase"),
    "password_env_default": ("getenv(", "environ.get(", "env.fetch(", "env.get("),
    "password_assignment": ("key", "pass", "pwd", "secret", "token", "contrase"),
}

ANCHORS: tuple[str, ...] = tuple(
    sorted({a for anc in (*_PATTERN_ANCHORS.values(), _DECODERS) for a in anc})
)
"""Every pattern's literals (lower case): a text holding none of them holds no secret."""


def _finder() -> ahocorasick.Automaton:
    """One Aho-Corasick automaton for every anchor: a single pass over a text finds them all
    (a substring search per anchor read the text some forty times)."""
    finder = ahocorasick.Automaton()
    for anchor in ANCHORS:
        finder.add_word(anchor, anchor)
    finder.make_automaton()
    return finder


_FINDER = _finder()


def _anchor_starts(lower: str) -> dict[str, list[int]]:
    """Where each anchor occurs in ``lower``, by anchor."""
    out: dict[str, list[int]] = {}
    for end, anchor in _FINDER.iter(lower):
        out.setdefault(anchor, []).append(end - len(anchor) + 1)
    return out


def has_anchor(lower: str) -> bool:
    """Whether some pattern could match ``lower`` (a lower-cased text): a token's literal
    occurs, or a secret's name followed by an assignment (``key`` alone is in every other
    file; ``key = `` or ``"key": `` is not)."""
    for end, anchor in _FINDER.iter(lower):
        after = _AFTER_ANCHOR.get(anchor)
        if after is None or after.match(lower, end + 1):
            return True
    return False


@dataclass(frozen=True)
class SecretHit:
    kind: str
    start: int
    end: int
    """Span of the secret itself (what redaction replaces)."""


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _random_case(value: str) -> bool:
    """Lower-case letters standing alone between capitals (``tIaD``), twice: generated, not a
    name (``camelCase`` and ``HTTPServer`` keep their lower-case letters in words)."""
    return len(re.findall(r"(?<![a-z])[a-z](?![a-z])", re.sub(r"[^A-Za-z]", "", value))) >= 2


def _bare_plausible(value: str) -> bool:
    """An unquoted value after a secret's name (``PASSWORD=...`` in an env file, ``the
    password is ...`` in a prompt): it must look generated, since prose and code put words
    and names there."""
    if len(value) < 8 or (_CODE_LIKE.match(value) and not _random_case(value)):
        return False
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]", r"[^\w]"))
    # all four classes in a short value is itself a sign of a generated one: a 12-character
    # password with a repeated character or two has an entropy under 3 bits
    least = 2.5 if classes == 4 else 3.0
    return re.search("[0-9]", value) is not None and classes >= 3 and _entropy(value) >= least


def _plausible(kind: str, value: str) -> bool:
    if kind in ("password_in_url", "password_in_command", "password_in_dsn"):
        value = unquote(value)  # "a%20secret" is the two words of an example
        if " " in value or "," in value:
            return False
    if kind in _CHECKED_ENTROPY - {"openai_key"} and _PLACEHOLDER.search(value):
        return False
    if kind in _CHECKED_ENTROPY:
        # Real keys mix cases, digits and symbols; identifiers and words do not look random.
        classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]", r"[^\w]"))
        if classes < 2 or _entropy(value) < 2.5:
            return False
    elif _EXAMPLE_KEYS.search(value):
        return False
    return len(set(value)) > 3


_REACH = (120, 4000)
"""How far a match may reach before and after its anchor (a private key block is long)."""
_SHORT_REACH = {
    "password_assignment": (24, 260),
    "aws_secret_access_key": (10, 120),
    "password_in_command": (10, 300),
    "password_in_dsn": (200, 10),
    "password_in_markup": (40, 260),
    "password_env_default": (10, 300),
}
"""Patterns whose anchors are common words: a small window around each keeps them cheap."""


def _windows(
    starts: dict[str, list[int]], anchors: tuple[str, ...], reach: tuple[int, int]
) -> list[tuple[int, int]]:
    """Merged spans around every occurrence of the anchors: the only places a pattern can
    match."""
    before, after = reach
    spans = sorted(
        (max(0, pos - before), pos + after) for a in anchors for pos in starts.get(a, ())
    )
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def find_secrets(text: str) -> list[SecretHit]:
    """Every credential-looking span in ``text``, in order, without overlaps: as written, in
    string literals joined across ``+`` or lines, and inside base64/hex literals a decoder
    call reads."""
    lower = text.lower()
    starts = _anchor_starts(lower)
    if not starts:
        return []  # most code: one pass of the automaton, no pattern run at all
    found = _matches(text, starts)
    found |= _joined(text, lower, starts)
    if not starts.keys().isdisjoint(_DECODERS):
        found |= _encoded(text, starts)
    return _without_overlaps(found)


def _matches(text: str, starts: dict[str, list[int]]) -> set[SecretHit]:
    """The patterns' matches in ``text`` (``starts``: where each anchor occurs)."""
    found: set[SecretHit] = set()
    lower = text.lower()
    for kind, pattern in _PATTERNS:
        anchors = _PATTERN_ANCHORS[kind]
        if starts.keys().isdisjoint(anchors):
            continue
        # "key", "aws", "http" are everywhere; "key = " is not: where an anchor is a common
        # word, only its places followed by what the pattern needs next open a window
        places = {
            a: [p for p in starts.get(a, ()) if a not in _AFTER_ANCHOR
                or _AFTER_ANCHOR[a].match(lower, p + len(a))]
            for a in anchors
        }  # fmt: skip
        for lo, hi in _windows(places, anchors, _SHORT_REACH.get(kind, _REACH)):
            for m in pattern.finditer(text, lo, hi):
                group = _GROUPS.get(kind, 1 if pattern.groups else 0)
                if group and m.group(group) is None:  # an alternative without the group
                    group = next(g for g in range(1, pattern.groups + 1) if m.group(g))
                value = m.group(group)
                if kind == "password_assignment" and not m.group(1):
                    after = text[m.end() : m.end() + 1]
                    if after in ("(", "[") or not _bare_plausible(value.rstrip(".,;:")):
                        continue  # a call or an index: code
                    value = value.rstrip(".,;:")  # the end of a sentence is not the secret's
                if kind == "password_assignment" and m.group(1) and _annotation(text, m, value):
                    continue
                if value and _plausible(kind, value):
                    found.add(SecretHit(kind, m.start(group), m.start(group) + len(value)))
    return found


_JOIN = re.compile(
    r"""(["'`])(?:[ \t]*(?:\+|\.\.?)[ \t]*(?:\\?\r?\n[ \t]*)*"""
    r"""|[ \t]*(?:\\?\r?\n[ \t]*)+(?:(?:\+|\.\.?)[ \t]*)?)\1"""
)
"""The end of one string literal and the start of the next, joined by ``+`` (``.``, ``..``) or
by a line break (Python's implicit joining, a backslash continuation): a token split in two
to keep it off a single line."""


_COMMON_ANCHORS = frozenset(("aws", "://", "curl", "wget", "http", *_AFTER_ANCHOR))


def _joined(text: str, lower: str, starts: dict[str, list[int]]) -> set[SecretHit]:
    """Secrets that only exist once adjacent string literals are joined, each spanning the
    literals that hold it. Joins are looked for just after a token's literal or a secret's
    name followed by an assignment, and only the stretch around them is joined and scanned
    again (a whole file's joins would cost a second scan of it)."""
    near = {
        a: [p for p in at if a not in _COMMON_ANCHORS or _ASSIGNED.match(lower, p + len(a))]
        for a, at in starts.items()
    }
    out: set[SecretHit] = set()
    for lo, hi in _windows(near, tuple(near), (0, 300)):
        cuts = [(m.start(), m.end()) for m in _JOIN.finditer(text, lo, hi)]
        if cuts:
            first = max(0, lo - _REACH[0])
            out |= _joined_stretch(text, first, min(len(text), hi + 300), cuts)
    return out


def _joined_stretch(
    text: str, first: int, last: int, cuts: list[tuple[int, int]]
) -> set[SecretHit]:
    """The secrets of ``text[first:last]`` with ``cuts`` removed that span a cut, placed back
    in ``text``."""
    pieces, kept_at, pos, length = [], [], first, 0  # kept_at: each cut's place once joined
    for lo, hi in cuts:
        pieces.append(text[pos:lo])
        length += lo - pos
        kept_at.append(length)
        pos = hi
    pieces.append(text[pos:last])
    joined = "".join(pieces)
    starts = _anchor_starts(joined.lower())
    out = set()
    for h in _matches(joined, starts) if starts else ():
        inside = [k for k, at in enumerate(kept_at) if h.start < at < h.end]
        if inside:  # a secret as written is found by the plain scan
            shift = first + sum(hi - lo for lo, hi in cuts[: inside[0]])
            end_shift = first + sum(hi - lo for lo, hi in cuts[: inside[-1] + 1])
            out.add(SecretHit(h.kind, h.start + shift, h.end + end_shift))
    return out


_ENCODED = re.compile(r"""["'`]([A-Za-z0-9+/_-]{16,}={0,2}|(?:[0-9a-fA-F]{2}){8,})["'`]""")


def _decoded(literal: str) -> str | None:
    """``literal`` decoded as hex or base64 into printable text; None when it is not."""
    try:
        if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", literal):
            raw = bytes.fromhex(literal)
        else:
            raw = base64.b64decode(literal + "=" * (-len(literal) % 4), altchars=b"-_")
        value = raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return value if value.isprintable() or value.strip().isprintable() else None


def _encoded(text: str, starts: dict[str, list[int]]) -> set[SecretHit]:
    """Literals near a decoder call whose decoded text holds a secret, each as a whole."""
    out = set()
    for lo, hi in _windows(starts, _DECODERS, (200, 400)):
        for m in _ENCODED.finditer(text, lo, hi):
            value = _decoded(m.group(1))
            inner = _anchor_starts(value.lower()) if value else None
            if inner:
                for h in _matches(value, inner):
                    out.add(SecretHit(h.kind, m.start(1), m.end(1)))
    return out


def _without_overlaps(found: set[SecretHit]) -> list[SecretHit]:
    hits = list(found)
    # the more specific pattern (listed first) names a span two of them match: set order
    # would differ between processes
    hits.sort(key=lambda h: (h.start, -h.end, _PRIORITY[h.kind]))
    kept: list[SecretHit] = []
    for h in hits:
        if not kept or h.start >= kept[-1].end:
            kept.append(h)
    return kept


def _annotation(text: str, m: re.Match[str], value: str) -> bool:
    """A quoted class name after ``name:`` and before the next parameter: a parameter's type
    annotation (cryptography's ``private_key: "_DSAPrivateKey",``), not a credential."""
    operator = text[m.start() : m.start(2)].rstrip("'\"` \t@")
    return (
        re.search(r"\w[ \t]*:$", operator) is not None  # a bare name: `"key": "V"` is a dict
        and _TYPE_NAME.match(value) is not None
        and not _random_case(value)
        and _NEXT_PARAMETER.match(text, m.end()) is not None
    )


def might_hold_secret(raw: bytes) -> bool:
    """False only when the bytes of a JSON line cannot hold a secret: none of the patterns'
    literals occurs (JSON writes them as they are unless it escapes ``/`` or an ASCII letter,
    which sends the line to the full scan)."""
    if has_anchor(raw.lower().decode("latin-1")):  # anchors are ASCII: bytes read as such
        return True
    return b"\\/" in raw or re.search(rb"\\u00[2-7][0-9a-fA-F]", raw) is not None


def record_strings(obj: Any, path: str = "", key: str = "") -> Iterator[tuple[str, str, str]]:
    """(JSON path, text, the key it sits under) of every string in a decoded record: values and
    object keys, every chat turn's role and content, nested metadata."""
    if isinstance(obj, str):
        yield path or "$", obj, key
    elif isinstance(obj, dict):
        for k, value in obj.items():
            name = str(k)
            where = f"{path}.{name}" if path else name
            if has_anchor(name.lower()):
                yield f"{where} (key)", name, ""
            yield from record_strings(value, where, name)
    elif isinstance(obj, list | tuple):
        for n, value in enumerate(obj):
            yield from record_strings(value, f"{path}[{n}]", key)


_SECRET_NAME = re.compile(rf"(?i)(?:{_KEYWORDS})")
_BARE_VALUE = re.compile(_VALUE)


def keyed_secret(key: str, value: str) -> bool:
    """A field whose name says secret (``db_password``, ``apiKey``) holding a value that looks
    like one: metadata writes no ``=`` between the two."""
    return (
        bool(key)
        and _SECRET_NAME.search(key) is not None
        and _BARE_VALUE.fullmatch(value) is not None
        and _plausible("password_assignment", value)
    )


def suspect_strings(raw: bytes, obj: Any) -> tuple[tuple[str, str, str], ...]:
    """The strings of a record (``record_strings``) that could hold a secret: those with a
    pattern's literal in them or in their key; () at once for most records."""
    if not might_hold_secret(raw):
        return ()
    out = []
    for where, text, key in record_strings(obj):
        if has_anchor(text.lower()) or (key and _SECRET_NAME.search(key)):
            out.append((where, text, key))
    return tuple(out)


def secrets_in(text: str, key: str = "") -> list[SecretHit]:
    """``find_secrets``, and the whole text when its key names a secret (``keyed_secret``)."""
    hits = find_secrets(text)
    if not hits and keyed_secret(key, text):
        hits = [SecretHit("password_assignment", 0, len(text))]
    return hits


def hashed_secret(value: str) -> str:
    """SHA-1 of a secret, as detect-secrets' baselines write it (``hashed_secret``)."""
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``."""
    hits = find_secrets(text)
    if not hits:
        return text
    parts, pos = [], 0
    for h in hits:
        parts += [text[pos : h.start], f"[REDACTED:{h.kind}]"]
        pos = h.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_obj(obj: Any, key: str = "") -> Any:
    """``redact`` applied to every string inside a JSON-like value, keys included (a value
    under a key that names a secret and looks like one is redacted whole)."""
    if isinstance(obj, str):
        return "[REDACTED:password_assignment]" if keyed_secret(key, obj) else redact(obj)
    if isinstance(obj, dict):
        return {
            (redact(k) if isinstance(k, str) else k): redact_obj(v, str(k)) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [redact_obj(v, key) for v in obj]
    return obj
