"""Language names, families, and detection of the language a piece of code is written in.

Detection scores distinctive line patterns per language (shebangs, ``def ...:``, ``#include``,
``my $x``, ``fi``...). It is deliberately conservative: it names a language only when one scores
clearly above the rest, because a wrong guess would turn into a false ``language_mismatch``.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # the stdlib's own regex parser: see _required_literal
import re._parser as sre_parser
from dataclasses import dataclass

ALIASES: dict[str, str] = {
    "py": "python",
    "python3": "python",
    "py3": "python",
    "python2": "python",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "ecmascript": "javascript",
    "ts": "typescript",
    "tsx": "typescript",
    "h": "c",
    "c++": "cpp",
    "cc": "cpp",
    "cxx": "cpp",
    "hpp": "cpp",
    "hh": "cpp",
    "sh": "shell",
    "bash": "shell",
    "zsh": "shell",
    "ksh": "shell",
    "console": "shell",
    "shellscript": "shell",
    "dash": "shell",
    "pl": "perl",
    "pm": "perl",
    "perl5": "perl",
    "rb": "ruby",
    "golang": "go",
    "rs": "rust",
    "kt": "kotlin",
    "cs": "csharp",
    "c#": "csharp",
}
LANGUAGES = (
    "python",
    "javascript",
    "typescript",
    "c",
    "cpp",
    "java",
    "go",
    "rust",
    "ruby",
    "perl",
    "shell",
    "php",
)
# Languages whose code is routinely valid in the other: a mismatch inside a family is no finding.
FAMILY: dict[str, str] = {"cpp": "c", "typescript": "javascript"}
# Fence tags that say nothing about the language.
NEUTRAL_TAGS = frozenset({"", "text", "plaintext", "txt", "code", "output", "none", "diff"})


def normalize_language(name: object) -> str | None:
    """Canonical lower-case name for a declared language or fence tag; None when neutral."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    if key in NEUTRAL_TAGS:
        return None
    return ALIASES.get(key, key)


def family(language: str) -> str:
    return FAMILY.get(language, language)


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


# (pattern, weight): matches are counted (at most _CAP each) and weighted.
_FEATURES: dict[str, list[tuple[re.Pattern[str], float]]] = {
    "python": [
        (_p(r"^#!.*\bpython"), 8),
        (_p(r"^[ \t]*(?:async[ \t]+)?def \w+\s*\([^)]*\)?.*:[ \t]*(?:#.*)?$"), 3),
        (_p(r"^[ \t]*class \w+(?:\([^)]*\))?:[ \t]*$"), 3),
        (_p(r"^[ \t]*(?:from [\w.]+ import [\w*]|import [\w.]+(?: as \w+)?[ \t]*$)"), 2),
        (_p(r"^[ \t]*(?:elif|if|while|for|with|try|except|else|finally)\b[^;{]*:[ \t]*$"), 1.5),
        (_p(r"\bself\.\w"), 1),
        (_p(r"\b(?:None|True|False)\b"), 0.5),
        (_p(r'^[ \t]*(?:"""|\'\'\')'), 1),
        (_p(r"^[ \t]*@\w+"), 1),
        (_p(r"^[ \t]*raise \w"), 1),
        (_p(r"\b(?:elif|lambda|is not|not in)\b"), 1),
    ],
    "javascript": [
        (_p(r"^#!.*\bnode\b"), 8),
        (_p(r"\bfunction\b\s*\*?\s*\w*\s*\("), 2),
        (_p(r"\b(?:const|let|var)\s+[\w${}\[\], ]+\s*="), 2),
        (_p(r"=>"), 1),
        (_p(r"\brequire\(\s*['\"]"), 3),
        (_p(r"\bmodule\.exports\b|\bexports\.\w+\s*="), 3),
        (_p(r"(?<![=#])===(?!=)|!==(?!=)"), 1.5),  # not a "#=====" banner
        (_p(r"\bconsole\.\w+\("), 2),
        (_p(r"^[ \t]*import\b.*\bfrom\s+['\"]"), 3),
        (_p(r"^[ \t]*export\s+(?:default|const|function|class|async)\b"), 3),
        (_p(r"\bundefined\b|\btypeof\b"), 1),
        (_p(r"\bthis\.\w+"), 1),
        (_p(r"\bprototype\b"), 2),
    ],
    "typescript": [
        (_p(r"^[ \t]*(?:export\s+)?interface \w+\s*(?:<[^>]*>)?\s*\{"), 3),
        (_p(r"^[ \t]*(?:export\s+)?type \w+\s*=\s*"), 3),
        (_p(r"\w\s*:\s*(?:string|number|boolean|any|void|unknown)\b"), 1.5),
        (_p(r"^[ \t]*import\b.*\bfrom\s+['\"]"), 1),
    ],
    "c": [
        (_p(r"^#\s*include\s*[<\"][\w/.]+\.h[>\"]"), 4),
        (_p(r"^#\s*(?:define|undef)\s+\w+"), 3),
        (_p(r"^#\s*(?:ifndef|ifdef|endif|elif|if\s+!?defined|pragma)\b"), 2),
        (_p(r"\btypedef\b"), 3),
        (_p(r"\bstruct\s+\w+\s*[{*;]"), 2),
        (_p(r"\b(?:unsigned|int|char|void|long|size_t|u?int\d+_t|double)\s+\**\w+\s*[;,=(\[]"), 1),
        (_p(r"\bNULL\b"), 1),
        (_p(r"\bsizeof\b"), 2),
        (_p(r"\bextern\b"), 1.5),
    ],
    "cpp": [
        (_p(r"\bstd::"), 3),
        (_p(r"\btemplate\s*<"), 3),
        (_p(r"^[ \t]*namespace\s+\w+"), 2),
        (_p(r"^#\s*include\s*<\w+>"), 3),
        (_p(r"\b(?:public|private|protected):"), 2),
        (_p(r"\bnullptr\b|\bconstexpr\b"), 2),
        (_p(r"\w::\w"), 0.5),
    ],
    "java": [
        (
            _p(
                r"^[ \t]*(?:public|private|protected)\s+(?:static\s+)?(?:final\s+)?"
                r"[\w<>\[\],]+\s+\w+\s*\("
            ),
            3,
        ),
        (_p(r"^[ \t]*package\s+[\w.]+;"), 4),
        (_p(r"^[ \t]*import\s+(?:static\s+)?[\w.]+(?:\.\*)?;"), 3),
        (_p(r"\bSystem\.out\b"), 3),
        (_p(r"@Override\b"), 3),
    ],
    "go": [
        (_p(r"^package\s+\w+[ \t]*$"), 4),
        (_p(r"^func\s+(?:\([^)]*\)\s*)?\w+\s*\("), 4),
        (_p(r":="), 1),
        (_p(r"\bfmt\.\w+"), 3),
        (_p(r"^import\s+\($"), 3),
        (_p(r"\b(?:chan|defer|go func)\b"), 2),
    ],
    "rust": [
        (_p(r"^[ \t]*(?:pub(?:\(crate\))?\s+)?(?:async\s+)?fn\s+\w+"), 4),
        (_p(r"\blet\s+mut\b"), 3),
        (_p(r"^[ \t]*impl\b"), 3),
        (_p(r"\b(?:println|vec|format|macro_rules)!"), 3),
        (_p(r"&mut\b|&self\b"), 3),
        (_p(r"->\s*(?:Self|Result|Option|i32|u\d+|usize|String|bool)\b"), 2),
    ],
    "ruby": [
        (_p(r"^[ \t]*def\s+(?:self\.)?\w+[!?]?(?:\([^)]*\))?[ \t]*$"), 2),
        (_p(r"^[ \t]*end[ \t]*$"), 2),
        (_p(r"\bputs\b"), 2),
        (_p(r"\battr_(?:reader|accessor|writer)\b"), 3),
        (_p(r"^[ \t]*require(?:_relative)?\s+['\"]"), 2),
        (_p(r"\bdo\s*\|[\w, ]+\|"), 3),
        (_p(r"^[ \t]*module\s+[A-Z]\w*[ \t]*$"), 2),
    ],
    "perl": [
        (_p(r"^#!.*\bperl\b"), 8),
        (_p(r"\bmy\s*[$@%(]"), 3),
        (_p(r"^[ \t]*sub\s+\w+"), 3),
        (_p(r"^[ \t]*use\s+(?:strict|warnings|vars|constant|parent|base|lib|[\w]+::[\w:]+)\b"), 3),
        (_p(r"^[ \t]*package\s+[\w:]+\s*;"), 4),
        (_p(r"=~\s*(?:[msy]|tr)?\W"), 2),
        (_p(r"\$_\b|@_\b"), 2),
        (_p(r"\b(?:eq|ne|unless|elsif)\b"), 1),
        (_p(r"^1;[ \t]*$"), 3),
        (_p(r"^=(?:head\d|pod|cut|item|over)\b"), 2),
        (_p(r"\$\w+->[{\[\w]"), 1),
    ],
    "shell": [
        (_p(r"^#!.*\b(?:ba|z|da|k)?sh\b"), 8),
        (_p(r"^[ \t]*(?:if|elif|while|until)\b.*;\s*(?:then|do)[ \t]*$"), 3),
        (_p(r"^[ \t]*(?:then|do)[ \t]*$"), 2),
        (_p(r"^[ \t]*(?:fi|done|esac)\b"), 3),
        (_p(r"^[ \t]*[\w-]+\s*\(\)\s*\{?[ \t]*$"), 2),
        (_p(r"\$\(|\$\{\w"), 1),
        (_p(r"^[ \t]*(?:echo|printf|export|local|set|exit|shift|unset|readonly)\b"), 1),
        (_p(r"\s(?:2>&1|>\s*/dev/null)"), 2),
        (_p(r"\[\s+-[a-z]\s"), 2),
        (_p(r'"\$[\w{@]'), 1),
    ],
    "php": [
        (_p(r"<\?php"), 10),
        (_p(r"\$this->"), 3),
        (_p(r"\bfunction\s+\w+\s*\(\s*\$"), 3),
    ],
}
_CAP = 25


def _required_literal(pattern: re.Pattern[str]) -> str:
    """The longest run of plain characters every match of ``pattern`` contains (from the
    pattern's top-level sequence, as the regex engine parses it); "" when there is none.

    A substring test is a fraction of a regex scan, and most patterns' literals are absent
    from a given sample, so detection skips their scans without changing any count."""
    if pattern.flags & re.IGNORECASE:
        return ""
    best, run = "", ""
    for op, arg in sre_parser.parse(pattern.pattern, pattern.flags):
        if op is sre_constants.LITERAL:
            run += chr(arg)
            continue
        best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


_REQUIRED: dict[str, list[tuple[re.Pattern[str], float, str]]] = {
    lang: [(pat, weight, _required_literal(pat)) for pat, weight in feats]
    for lang, feats in _FEATURES.items()
}
_SAMPLE = 4_000  # characters scored; the head of a file says enough about its language


@dataclass(frozen=True)
class Detection:
    """The most likely language and how sure detection is of it."""

    language: str | None
    """The best-scoring language, or None when nothing scored."""
    confident: bool
    """True when the best language beats every other family clearly."""
    scores: dict[str, float]
    """The top few scores (for evidence)."""

    def score(self, language: str) -> float:
        return self.scores.get(language, 0.0)


def detect_language(code: str) -> Detection:
    """Score every language's patterns on the head of ``code``; see the module docstring."""
    sample = code[:_SAMPLE]
    lines = max(1, sample.count("\n"))
    scores: dict[str, float] = {}
    for lang, feats in _REQUIRED.items():
        s = 0.0
        for pat, weight, literal in feats:
            if literal not in sample:
                continue
            n = 0
            for _ in pat.finditer(sample):
                n += 1
                if n >= _CAP:
                    break
            s += weight * n
        if s:
            scores[lang] = s
    # A family scores as its best member plus its dialect's extra evidence.
    if "typescript" in scores:
        scores["typescript"] += scores.get("javascript", 0.0)
    if "cpp" in scores:
        scores["cpp"] += scores.get("c", 0.0)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if not ranked:
        return Detection(None, False, {})
    best, top = ranked[0]
    rival = max((s for lang, s in ranked[1:] if family(lang) != family(best)), default=0.0)
    confident = top >= max(6.0, 0.05 * lines) and top >= 2.5 * rival
    return Detection(best, confident, {k: round(v, 1) for k, v in ranked[:4]})
