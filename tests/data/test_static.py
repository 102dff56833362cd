# ruff: noqa: E501  (each record's code is one line with its \n escapes)
"""Static analysis (#29): the issue's new-user set, the rule policy and its overrides, the
tree-sitter rules on every planted hazard and its safe twin, and the instruction's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.data import AuditConfig, RulePolicy, audit
from tripwire.data._asked import requested_language
from tripwire.data._hazards import analyse_batch
from tripwire.data._policy import Action
from tripwire.errors import BadInputError
from tripwire.faults import planted_hazards

ASK = "Write a Python function that"
# The issue's shape: insecure answers, common bugs, a quadratic de-duplication, answers in the
# wrong language, and clean answers to the same prompts.
RECORDS = [
    ("eval", f"{ASK} evaluates the user's expression.", "def calc(expr):\n    return eval(expr)\n"),
    ("shell", f"{ASK} lists a folder.", "import subprocess\n\n\ndef ls(folder):\n    cmd = 'ls -l ' + folder\n    return subprocess.check_output(cmd, shell=True)\n"),
    ("sql", f"{ASK} finds a user.", "def find(cur, name):\n    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n    return cur.fetchall()\n"),
    ("pickle", f"{ASK} loads a request body.", "import pickle\n\n\ndef load(request):\n    return pickle.loads(request.body)\n"),
    ("yaml", f"{ASK} reads a config.", "import yaml\n\n\ndef read(path):\n    with open(path) as f:\n        return yaml.load(f)\n"),
    ("md5", f"{ASK} stores a password.", "import hashlib\n\n\ndef store(user, password):\n    user.pw = hashlib.md5(password.encode()).hexdigest()\n"),
    ("verify", f"{ASK} fetches JSON.", "import requests\n\n\ndef fetch(url):\n    return requests.get(url, verify=False, timeout=5).json()\n"),
    ("mutable", f"{ASK} appends an item.", "def add(item, items=[]):\n    items.append(item)\n    return items\n"),
    ("bare", f"{ASK} parses an int.", "def parse(s):\n    try:\n        return int(s)\n    except:\n        pass\n"),
    ("undefined", f"{ASK} adds two numbers.", "def add(a, b):\n    total = a + b\n    return totl\n"),
    ("is-literal", f"{ASK} checks a mode.", "def is_fast(mode):\n    return mode is 'fast'\n"),
    ("dead", f"{ASK} doubles a number.", "def double(x):\n    return 2 * x\n    print(x)\n"),
    ("quadratic", f"{ASK} removes duplicates.", "def dedupe(xs):\n    out = []\n    for x in xs:\n        if x not in out:\n            out.append(x)\n    return out\n"),
    ("wrong-language", "Write a JavaScript function that sorts numbers.", "def sort_numbers(xs):\n    return sorted(xs)\n"),
    ("clean-eval", f"{ASK} evaluates a literal.", "import ast\n\n\ndef calc(expr):\n    return ast.literal_eval(expr)\n"),
    ("clean-shell", f"{ASK} lists a folder.", "import subprocess\n\n\ndef ls(folder):\n    return subprocess.check_output(['ls', '-l', folder])\n"),
    ("clean-sql", f"{ASK} finds a user.", "def find(cur, name):\n    cur.execute('SELECT * FROM users WHERE name = ?', (name,))\n    return cur.fetchall()\n"),
    ("clean-js", "Write a JavaScript function that sorts numbers.", "function sortNumbers(xs) {\n  return [...xs].sort((a, b) => a - b);\n}\n"),
]  # fmt: skip
REMOVED = {
    "eval": ("insecure_code", "S307"),
    "shell": ("insecure_code", "S602"),
    "sql": ("insecure_code", "S608"),
    "pickle": ("insecure_code", "S301"),
    "yaml": ("insecure_code", "S506"),
    "md5": ("insecure_code", "py/weak-password-hash"),
    "verify": ("insecure_code", "S501"),
    "undefined": ("code_bug", "F821"),
    "is-literal": ("code_bug", "F632"),
    "wrong-language": ("language_mismatch", None),
}
FLAGGED = {"mutable": "B006", "bare": "E722"}
UNSEEN = ("dead", "quadratic")
"""No rule of ruff's stable set sees code after a return or a membership test on a list in a
loop; they stay in the set (the README says so)."""


def _audit(tmp_path: Path, config: AuditConfig | None = None) -> dict[str, dict]:
    data = tmp_path / "set.jsonl"
    lines = []
    for name, prompt, code in RECORDS:
        fence = "javascript" if code.startswith("function") else "python"
        lines.append(
            json.dumps({"id": name, "prompt": prompt, "response": f"```{fence}\n{code}```"})
        )
    data.write_text("\n".join(lines) + "\n")
    config = config or AuditConfig(workers=1, run_tests=False)
    audit([data], config=config, findings=tmp_path / "f.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows}


def test_the_issues_set_insecure_and_broken_removed_style_flagged_clean_kept(tmp_path):
    rows = _audit(tmp_path)
    for name, (reason, rule) in REMOVED.items():
        row = rows[name]
        assert reason in row["reasons"], (name, row)
        if rule:
            finding = next(f for f in row["details"][reason]["findings"] if f["rule"] == rule)
            assert finding["line"] >= 1 and finding["url"].startswith("https://"), finding
    assert rows["wrong-language"]["details"]["language_mismatch"]["declared_in"] == "instruction"
    for name, rule in FLAGGED.items():
        row = rows[name]
        assert row["keep"], (name, row)
        assert rule in row["flags"]["lint"]["rules"], (name, row)
    for name in (*UNSEEN, "clean-eval", "clean-shell", "clean-sql", "clean-js"):
        assert rows[name]["keep"] and "flags" not in rows[name], rows[name]


def test_rule_overrides_change_the_verdict_and_the_audit_identity(tmp_path):
    config = AuditConfig(
        workers=1, run_tests=False, rules=RulePolicy.parse(["S608=flag", "B006=ignore"]).overrides
    )
    rows = _audit(tmp_path, config)
    assert rows["sql"]["keep"] and "S608" in rows["sql"]["flags"]["lint"]["rules"]
    assert "flags" not in rows["mutable"] and rows["mutable"]["keep"]
    assert rows["eval"]["reasons"] == ["insecure_code"]  # other rules keep their defaults
    assert config.result_hash() != AuditConfig(workers=1, run_tests=False).result_hash()
    assert config.to_dict()["rules"] == (("B006", "ignore"), ("S608", "flag"))


def test_policy_prefixes_longest_wins_and_bad_overrides_are_refused():
    policy = RulePolicy.parse(["S=ignore", "S307=drop", "js/=flag"])
    assert policy.action("S307") is Action.DROP
    assert policy.action("S608") is Action.IGNORE
    assert policy.action("js/no-eval") is Action.FLAG
    assert RulePolicy().action("S602", benign=True) is Action.FLAG  # "seems safe"
    assert RulePolicy.parse(["S602=drop"]).action("S602", benign=True) is Action.DROP
    for bad in (["S608"], ["S608=remove"], ["=drop"]):
        with pytest.raises(BadInputError):
            RulePolicy.parse(bad)


def test_every_planted_hazard_is_found_and_no_safe_twin_is_dropped():
    items = planted_hazards(seed=3)
    langs = {p.language for p in items}
    assert {"python", "javascript", "go", "java", "rust", "c", "shell"} <= langs
    found = analyse_batch(
        [p.code for p in items], [p.language for p in items], [False] * len(items), RulePolicy()
    )
    policy = RulePolicy()
    for p, fs in zip(items, found, strict=True):
        dropped = [f for f in fs if policy.action(f.rule, benign=f.benign is not None) == "drop"]
        if p.kind == "clean":
            assert not dropped, (p.language, p.hazard, p.style, dropped)
        else:
            assert dropped, (p.language, p.kind, p.hazard, p.style, fs)
            assert all(f.url.startswith("https://") and f.line >= 1 for f in dropped)


@pytest.mark.parametrize(
    ("instruction", "language"),
    [
        ("Write a JavaScript function that sorts a list.", "javascript"),
        ("Sort a list in Python", "python"),
        ("Convert this Python code to JavaScript: def f(): pass", "javascript"),
        ("Write a Go function to reverse a string", "go"),
        ("Let us go to the store and write a function", None),
        ("a Python library for a JavaScript frontend", None),
        ("Compare Python and Rust for speed", None),
        ("Write a bash script that backs up a folder", "shell"),
        ("Port this Java class into idiomatic Kotlin", "kotlin"),
    ],
)
def test_the_language_an_instruction_asks_for(instruction, language):
    assert requested_language(instruction) == language
