"""Which programming language an instruction asks for, when it says so plainly.

A language counts only where the instruction names it as the target: "in Rust", "using
Python", "a Go function", "JavaScript code", "write TypeScript", "a bash script"; for a
translation ("convert this Python to JavaScript", "port ... into Go") the language after
"to"/"into"/"in" that follows the verb. Several different targets and no translation verb:
nothing is asked (the instruction may compare languages). A bare mention ("a Python library
for a JavaScript frontend") is not a request.
"""

from __future__ import annotations

import re

# name as written -> canonical language (``_parsing.GRAMMARS`` keys and a few we cannot parse)
_NAMES = {
    "python": "python",
    "python3": "python",
    "javascript": "javascript",
    "js": "javascript",
    "node.js": "javascript",
    "nodejs": "javascript",
    "typescript": "typescript",
    "java": "java",
    "golang": "go",
    "go": "go",
    "rust": "rust",
    "c": "c",
    "c++": "cpp",
    "cpp": "cpp",
    "ruby": "ruby",
    "php": "php",
    "perl": "perl",
    "bash": "shell",
    "shell": "shell",
    "sh": "shell",
    "zsh": "shell",
    "kotlin": "kotlin",
    "swift": "swift",
    "c#": "csharp",
    "scala": "scala",
    "haskell": "haskell",
}
# Case matters for names that are English words or letters: "Go", "C".
_NAME = (
    r"(?P<name>[Pp]ython3?|[Jj]ava[Ss]cript|JS|[Nn]ode(?:\.?js|JS)|[Tt]ype[Ss]cript|[Jj]ava"
    r"|[Gg]olang|Go|[Rr]ust|C\+\+|[Cc]pp|C#|C|[Rr]uby|PHP|[Pp]hp|[Pp]erl|[Bb]ash|[Zz]sh"
    r"|[Ss]hell|[Kk]otlin|[Ss]wift|[Ss]cala|[Hh]askell)(?![\w+#])"
)
_WHAT = (
    r"(?:function|program|script|code|class|method|snippet|implementation|version|solution"
    r"|module|one-liner|cli|command|app|application|routine|macro|struct|module)s?"
)
_TARGETS = (
    re.compile(
        rf"\b(?i:in|using|with|use|write|implement|written in|into|to)\s+(?:a\s+|an\s+|the\s+)?"
        rf"{_NAME}"
    ),
    re.compile(rf"(?<![\w.]){_NAME}\s+{_WHAT}\b"),
)
_TRANSLATE = re.compile(
    r"\b(?:convert|translate|port|rewrite|rewritten|migrate|transpile)\w*\b", re.IGNORECASE
)
_TO = re.compile(rf"\b(?:to|into|in)\s+(?:a\s+|an\s+|the\s+)?(?:idiomatic\s+)?{_NAME}")


def _canonical(name: str) -> str:
    return _NAMES.get(name.lower(), name.lower())


def requested_language(instruction: str) -> str | None:
    """The language ``instruction`` asks the answer to be written in, or None."""
    if not instruction:
        return None
    verb = _TRANSLATE.search(instruction)
    if verb:
        target = _TO.search(instruction, verb.end())
        return _canonical(target.group("name")) if target else None
    found = {_canonical(m.group("name")) for t in _TARGETS for m in t.finditer(instruction)}
    return found.pop() if len(found) == 1 else None
