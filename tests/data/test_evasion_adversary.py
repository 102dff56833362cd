# ruff: noqa: E501  (each record's code is one line with its \n escapes)
"""Secrets and hazards written to slip past the audit's ``secret`` and ``insecure_code`` checks
the way real fine-tuning data carries them: a token split over string literals, base64/hex
literals a decoder reads, a DSN without a scheme, ``curl -u``, ``getattr(os, "system")``,
``__import__("pickle")``, ``verify=False`` in a keyword dictionary, ``window.eval``, a
download piped into ``sudo bash``; each beside a clean look-alike that must stay."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tripwire.data import AuditConfig, audit
from tripwire.data._hazards import analyse_batch
from tripwire.data._policy import Action, RulePolicy
from tripwire.data._secrets import find_secrets, redact

# random, in the issued formats (not real credentials)
GH = "ghp_" + "Xk3f9QzL2mWv8RtB4nYc7HdJ1sPa6GuE0oTi"
AKIA = "AKIA" + "Q7W3E9R2T5Y8U1I4"
PW = "Tq7#mZ2vK9pLw4!x"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


def _secrets(text: str) -> list[tuple[str, str]]:
    return [(h.kind, text[h.start : h.end]) for h in find_secrets(text)]


@pytest.mark.parametrize(
    "text",
    [
        f'TOKEN = "{GH[:20]}" + \\\n    "{GH[20:]}"\n',  # Python, a backslash continuation
        f'TOKEN = ("{GH[:20]}"\n         "{GH[20:]}")\n',  # Python's implicit joining
        f'const k = "{GH[:20]}" +\n  "{GH[20:]}";\n',  # JavaScript
        f"$k = '{GH[:20]}' . '{GH[20:]}';\n",  # PHP
    ],
)
def test_a_token_split_over_string_literals_is_found_and_redacted_whole(text):
    hits = _secrets(text)
    assert [k for k, _ in hits] == ["github_token"]
    assert GH[:20] not in redact(text) and GH[20:] not in redact(text)


def test_a_split_stripe_key_is_found():
    text = f'const k = "{STRIPE[:14]}" +\n  "{STRIPE[14:]}";\n'
    assert [k for k, _ in _secrets(text)] == ["stripe_key"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f'T = base64.b64decode("{base64.b64encode(GH.encode()).decode()}")\n', "github_token"),
        (f'K = bytes.fromhex("{AKIA.encode().hex()}").decode()\n', "aws_access_key_id"),
        (f"const t = atob('{base64.b64encode(GH.encode()).decode()}');\n", "github_token"),
        (
            f'k := base64.StdEncoding.DecodeString("{base64.b64encode(AKIA.encode()).decode()}")\n',
            "aws_access_key_id",
        ),
    ],
)
def test_a_secret_in_a_literal_a_decoder_reads_is_found(text, kind):
    hits = _secrets(text)
    assert [k for k, _ in hits] == [kind]
    assert "[REDACTED" in redact(text)


def test_an_encoded_image_or_word_beside_a_decoder_is_not_a_secret():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    text = f'ICON = base64.b64decode("{png}")\nMSG = base64.b64decode("{base64.b64encode(b"hello world, plain text").decode()}")\n'
    assert _secrets(text) == []


@pytest.mark.parametrize(
    "text",
    [
        f'url = f"postgres://admin:{PW}@{{host}}:5432/app"\n',
        f'URL="mysql://root:{PW}@${{DB_HOST}}/app"\n',
        f'var dsn = "root:{PW}@tcp(127.0.0.1:3306)/app"\n',
        f"curl -u admin:{PW} https://api.internal/v1/items\n",
        f"curl --user=admin:{PW} https://api.internal/v1/items\n",
    ],
)
def test_a_password_in_a_templated_url_a_dsn_or_a_curl_user_option_is_found(text):
    assert [v for _, v in _secrets(text)] == [PW]


@pytest.mark.parametrize(
    "text",
    [
        'DSN = "postgres://user:password@{host}/db"\n',
        'dsn := "user:password@tcp(localhost:3306)/db"\n',
        "curl -u $USER:$TOKEN https://api.example.org\n",
        "curl -u admin:changeme https://localhost\n",
        "sort -u a.txt | curl -X POST https://x.example/import\n",
    ],
)
def test_placeholder_credentials_stay_clean(text):
    assert _secrets(text) == []


def _actions(code: str, language: str) -> dict[str, Action]:
    policy = RulePolicy()
    [found] = analyse_batch([code], [language], [False], policy)
    return {f.rule: policy.action(f.rule, benign=f.benign is not None) for f in found}


@pytest.mark.parametrize(
    ("code", "language", "rule"),
    [
        (
            'import os\n\ndef run(x):\n    return getattr(os, "system")(x)\n',
            "python",
            "py/indirect-command",
        ),
        (
            'def run(x):\n    return __import__("os").popen(x).read()\n',
            "python",
            "py/indirect-command",
        ),
        (
            'def load(data):\n    return __import__("pickle").loads(data)\n',
            "python",
            "py/indirect-deserialization",
        ),
        (
            'import importlib\n\ndef load(b):\n    return importlib.import_module("marshal").loads(b)\n',
            "python",
            "py/indirect-deserialization",
        ),
        (
            'import requests\n\ndef get(url):\n    opts = {"verify": False, "timeout": 5}\n    return requests.get(url, **opts)\n',
            "python",
            "py/tls-verify-off",
        ),
        (
            "import requests\n\ndef get(url):\n    return requests.get(url, **dict(verify=False))\n",
            "python",
            "py/tls-verify-off",
        ),
        (
            'import hashlib\n\ndef store(pw):\n    return hashlib.new("sha1", pw.encode()).hexdigest()\n',
            "python",
            "py/weak-password-hash",
        ),
        ("function calc(expr) {\n  return window.eval(expr);\n}\n", "javascript", "js/no-eval"),
        ("function calc(expr) {\n  return globalThis.eval(expr);\n}\n", "javascript", "js/no-eval"),
        (
            "#!/bin/bash\ncurl -sL https://deb.example.com/setup | sudo -E bash -\n",
            "shell",
            "sh/curl-pipe-shell",
        ),
        ("#!/bin/bash\nbash <(curl -s https://get.example.sh)\n", "shell", "sh/curl-pipe-shell"),
    ],
)
def test_a_hazard_reached_indirectly_drops_the_record(code, language, rule):
    assert _actions(code, language).get(rule) is Action.DROP


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ('import os\n\ndef sep():\n    return getattr(os, "sep")\n', "python"),
        ('import os\n\ndef run():\n    return getattr(os, "system")("ls -l")\n', "python"),
        ('def load(mod):\n    return __import__("json").loads(mod)\n', "python"),
        (
            'import requests\n\ndef get(url):\n    opts = {"verify": True, "timeout": 5}\n    return requests.get(url, **opts)\n',
            "python",
        ),
        (
            "import hashlib\n\ndef cache_key(url):\n    return hashlib.md5(url.encode()).hexdigest()\n",
            "python",
        ),
        ("function calc(expr) {\n  return window.evaluate(expr);\n}\n", "javascript"),
        (
            "#!/bin/sh\ncurl -fsSLo install.sh https://get.example.sh\nsudo bash install.sh\n",
            "shell",
        ),
        ("#!/bin/bash\ndiff <(curl -s https://a.example) <(curl -s https://b.example)\n", "shell"),
    ],
)
def test_a_clean_look_alike_is_not_dropped(code, language):
    assert Action.DROP not in _actions(code, language).values()


def test_the_audit_removes_the_evasive_records_and_keeps_their_twins(tmp_path: Path):
    rows = [
        ("split-token", "python", f'TOKEN = "{GH[:20]}" + \\\n    "{GH[20:]}"\n'),
        ("getattr", "python", 'import os\n\n\ndef run(x):\n    return getattr(os, "system")(x)\n'),
        ("clean", "python", "import os\n\n\ndef run(x):\n    return os.path.join(x, 'a')\n"),
    ]
    data = tmp_path / "set.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {"id": i, "prompt": "Write it in Python.", "response": f"```{lang}\n{code}```"}
            )
            + "\n"
            for i, lang, code in rows
        )
    )
    audit([data], config=AuditConfig(workers=1, run_tests=False), findings=tmp_path / "f.jsonl")
    found = {
        r["id"]: set(r["reasons"])
        for r in map(json.loads, (tmp_path / "f.jsonl").read_text().splitlines())
    }
    assert "secret" in found["split-token"]
    assert "insecure_code" in found["getattr"]
    assert not found["clean"] & {"secret", "insecure_code", "code_bug"}
    assert GH[20:] not in (tmp_path / "f.jsonl").read_text()


_BODY = "\n".join(
    [
        "vuqpYemjvG9XqulozMAqUy+MOgkkrCYYUfGqKh8qfXpWVfaKeT3RH7cXwQb7b6pa",
        "RVfJip5tgMHPeLIj8vrfKzvWc6aBVZDYmWlS4ZcuFshW1bqkKIkNqAD7G8GkhQpa",
    ]
)


def test_a_key_whose_random_body_spells_a_word_in_mixed_case_is_still_a_key():
    # "faKe" in the body: chance, not a person marking the key as an example
    text = f"-----BEGIN EC PRIVATE KEY-----\n{_BODY}\n-----END EC PRIVATE KEY-----\n"
    assert [k for k, _ in _secrets(text)] == ["private_key"]


def test_a_fixture_key_marked_fake_is_not_a_secret():
    text = "-----BEGIN RSA PRIVATE KEY-----\nFAKEKEYFORTESTS\n-----END RSA PRIVATE KEY-----\n"
    assert _secrets(text) == []
    assert _secrets("AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'\n") == []


@pytest.mark.parametrize(
    ("code", "language", "rule"),
    [
        (
            'import subprocess\n\ndef run(cmd):\n    kw = {"shell": True}\n    return subprocess.Popen(cmd, **kw)\n',
            "python",
            "py/indirect-command",
        ),
        (
            "import requests\n\ndef get(url):\n    s = requests.Session()\n    s.verify = False\n    return s.get(url)\n",
            "python",
            "py/tls-verify-off",
        ),
        (
            "function ls(d) {\n  require('child_process').exec('ls ' + d);\n}\n",
            "javascript",
            "js/detect-child-process",
        ),
        (
            "import { exec as run } from 'child_process';\nexport function ls(d) {\n  run(`ls ${d}`);\n}\n",
            "javascript",
            "js/detect-child-process",
        ),
        (
            "const vm = require('vm');\nfunction calc(code) {\n  return vm.runInNewContext(code);\n}\n",
            "javascript",
            "js/no-eval",
        ),
        (
            '#include <string>\n#include <cstdlib>\nvoid f(const std::string &d) {\n  std::string cmd = "ls " + d;\n  std::system(cmd.c_str());\n}\n',
            "cpp",
            "c/system",
        ),
        ("#!/bin/bash\nsource <(curl -s https://x.example/env)\n", "shell", "sh/curl-pipe-shell"),
        (
            "#!/bin/sh\ncurl -s https://x.example/get.py | python3 -\n",
            "shell",
            "sh/curl-pipe-shell",
        ),
    ],
)
def test_a_hazard_in_another_spelling_drops_the_record(code, language, rule):
    assert _actions(code, language).get(rule) is Action.DROP


@pytest.mark.parametrize(
    ("code", "language"),
    [
        (
            'import subprocess\n\ndef run(d):\n    kw = {"shell": True}\n    return subprocess.run("ls -l", **kw)\n',
            "python",
        ),
        ("class Opts:\n    def __init__(self):\n        self.verify = False\n", "python"),
        ("function ls(d) {\n  require('child_process').exec('ls -l');\n}\n", "javascript"),
        (
            '#include <string>\n#include <cstdlib>\nvoid f() {\n  std::string cmd = "ls";\n  std::system(cmd.c_str());\n}\n',
            "cpp",
        ),
        ("#!/bin/sh\ncurl -s https://api.example/v1/items | python3 -m json.tool\n", "shell"),
    ],
)
def test_its_clean_look_alike_is_not_dropped(code, language):
    assert Action.DROP not in _actions(code, language).values()


@pytest.mark.parametrize(
    "text",
    [
        f"<config>\n  <password>{PW}</password>\n</config>\n",
        f"<add key='x'/>\n<db:apiKey>{PW}</db:apiKey>\n",
        f'SECRET = os.environ.get("APP_SECRET", "{PW}")\n',
        f"const key = process.env.get('API_KEY', '{PW}');\n",
        f'token = ENV.fetch("GITHUB_API_TOKEN", "{PW}")\n',
    ],
)
def test_a_password_in_markup_or_as_an_environment_default_is_found(text):
    assert [v for _, v in _secrets(text)] == [PW]


@pytest.mark.parametrize(
    "text",
    [
        "<password>${DB_PASSWORD}</password>\n<secretKeyRef>db-credentials</secretKeyRef>\n",
        'SECRET = os.environ.get("APP_SECRET", "")\nPW = os.getenv("DB_PASSWORD", "changeme")\n',
        'KEY = os.environ.get("API_KEY", DEFAULT_KEY)\n',
    ],
)
def test_markup_and_environment_defaults_without_a_secret_stay_clean(text):
    assert _secrets(text) == []
