"""tripwire's secret detection side by side with detect-secrets (Yelp), record by record.

Two corpora, both from the sources of the installed PyPI packages (code no one here wrote):

- planted: real functions, each record with one credential of a kind providers issue (random,
  in the issued format), written in one of several syntaxes (Python, JavaScript, Go, YAML, env,
  JSON, PHP) and placed in one of the places a record holds strings (its code, a chat system or
  user turn, a metadata field, its id, its source URL, its tests, a chat role);
- clean: other functions of the same packages and the small YAML/JSON/TOML/INI files they
  ship, unchanged: every record either tool flags there is a false positive.

tripwire scans each record the way ``tripwire data audit`` does (every string of the raw
record); detect-secrets gets, per record, a file holding every string of the record (long ones
as they are, short ones as ``key: "value"`` lines, so its keyword rules see the field name)
with the suffix of the record's language, scanned by ``SecretsCollection().scan_file()`` inside
``default_settings()`` (all its plugins and filters, as its CLI runs them). A planted secret
counts as found when a finding's line (detect-secrets) or span (tripwire) holds it.

    python benchmarks/data_secrets.py --per-kind 40 --clean 10000

Needs ``pip install 'tripwire[bench]'`` (detect-secrets).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tripwire.data._secrets import secrets_in, suspect_strings
from tripwire.faults.secret_corpus import (
    KINDS,
    Planted,
    installed_config_files,
    installed_python_functions,
    plant,
)

# detect-secrets' plugin for each kind, where it has one ("both cover")
DETECT_SECRETS_TYPE = {
    "aws_access_key_id": "AWS Access Key",
    "aws_secret_access_key": "AWS Access Key",
    "github_token": "GitHub Token",
    "gitlab_token": "GitLab Token",
    "slack_token": "Slack Token",
    "slack_webhook": "Slack Token",
    "stripe_key": "Stripe Access Key",
    "openai_key": "OpenAI Token",
    "private_key": "Private Key",
    "jwt": "JSON Web Token",
    "password_in_url": "Basic Auth Credentials",
    "password_assignment": "Secret Keyword",
    "npm_token": "NPM tokens",
    "pypi_token": "PyPI Token",
    "sendgrid_key": "SendGrid API Key",
    "mailchimp_key": "Mailchimp Access Key",
    "azure_storage_key": "Azure Storage Account access key",
}


def render(record: dict[str, Any]) -> tuple[str, str]:
    """(text, file suffix) detect-secrets scans for a record (see the module docstring)."""
    lines: list[str] = []

    def walk(obj: Any, key: str) -> None:
        if isinstance(obj, str):
            lines.append(obj if "\n" in obj or len(obj) > 200 else f"{key}: {json.dumps(obj)}")
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, str(k))
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)

    walk(record, "record")
    suffix = {"python": ".py", "javascript": ".js", "yaml": ".yaml", "json": ".json"}.get(
        str(record.get("language")), ".txt"
    )
    return "\n".join(lines) + "\n", suffix


def tripwire_hits(record: dict[str, Any]) -> list[str]:
    """The secret values tripwire finds in a record (what the audit's ``secret`` check sees)."""
    raw = json.dumps(record, ensure_ascii=False).encode()
    return [
        text[h.start : h.end]
        for _, text, key in suspect_strings(raw, record)
        for h in secrets_in(text, key)
    ]


def detect_secrets_lines(records: list[dict[str, Any]]) -> tuple[list[list[str]], float]:
    """Per record, the text of each line detect-secrets reports; and the seconds it took."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    out = []
    with tempfile.TemporaryDirectory() as d, default_settings():
        t0 = time.perf_counter()
        for k, rec in enumerate(records):
            text, suffix = render(rec)
            path = Path(d) / f"record{k}{suffix}"
            path.write_text(text, encoding="utf-8")
            found = SecretsCollection()
            found.scan_file(str(path))
            lines = text.split("\n")
            out.append(
                [lines[s.line_number - 1] for _, s in found if 0 < s.line_number <= len(lines)]
            )
            path.unlink()
        seconds = time.perf_counter() - t0
    return out, seconds


def _holds(found: str, planted: str) -> bool:
    """A finding (a value or a line) covers the planted secret."""
    # a key block is reported on its header line (one planted per record: it is unique there)
    probe = planted.split("\n")[0] if planted.startswith("-----BEGIN") else planted[:24]
    return probe in found or (len(found) >= 8 and found in planted)


def corpora(per_kind: int, clean: int, seed: int) -> tuple[list[Planted], list[dict[str, Any]]]:
    rng = random.Random(seed)
    bases = installed_python_functions(per_kind * len(KINDS) + clean, rng)
    planted = [
        plant(kind, bases[k * len(KINDS) + j], rng, k * len(KINDS) + j)
        for k in range(per_kind)
        for j, kind in enumerate(KINDS)
    ]
    clean_records: list[dict[str, Any]] = [
        {"id": f"clean-{k}", "text": code, "language": "python", "source": "pypi:installed"}
        for k, code in enumerate(bases[per_kind * len(KINDS) :])
    ]
    configs = installed_config_files(max(1, clean // 10))
    clean_records += [
        {"id": f"config-{k}", "text": text, "language": lang, "source": "pypi:installed"}
        for k, (text, lang) in enumerate(configs)
    ]
    return planted, clean_records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--clean", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    planted, clean = corpora(args.per_kind, args.clean, args.seed)
    print(f"planted: {len(planted)} records; clean: {len(clean)} records (installed packages)")

    t0 = time.perf_counter()
    tw_planted = [tripwire_hits(p.record) for p in planted]
    tw_clean = [tripwire_hits(r) for r in clean]
    tw_seconds = time.perf_counter() - t0
    ds_planted, ds_s1 = detect_secrets_lines([p.record for p in planted])
    ds_clean, ds_s2 = detect_secrets_lines(clean)

    total, tw_found, ds_found = Counter(), Counter(), Counter()
    where_tw, where_ds, where_total = Counter(), Counter(), Counter()
    for p, tw, ds in zip(planted, tw_planted, ds_planted, strict=True):
        total[p.kind] += 1
        where_total[p.where] += 1
        secret = p.secret
        if any(_holds(v, secret) or _holds(secret, v) for v in tw):
            tw_found[p.kind] += 1
            where_tw[p.where] += 1
        if any(_holds(line, secret) for line in ds):
            ds_found[p.kind] += 1
            where_ds[p.where] += 1

    print("\n| kind | detect-secrets plugin | planted | tripwire recall | detect-secrets recall |")
    print("|---|---|---:|---:|---:|")
    rows = []
    for kind in KINDS:
        n = total[kind]
        plugin = DETECT_SECRETS_TYPE.get(kind, "(none)")
        t, d = tw_found[kind] / n, ds_found[kind] / n
        rows.append({"kind": kind, "plugin": plugin, "n": n, "tripwire": t, "detect_secrets": d})
        print(f"| {kind} | {plugin} | {n} | {t:.1%} | {d:.1%} |")
    both = [r for r in rows if r["plugin"] != "(none)"]
    print(
        f"| all kinds both cover | | {sum(r['n'] for r in both)} | "
        f"{sum(r['tripwire'] * r['n'] for r in both) / sum(r['n'] for r in both):.1%} | "
        f"{sum(r['detect_secrets'] * r['n'] for r in both) / sum(r['n'] for r in both):.1%} |"
    )
    worse = [r["kind"] for r in both if r["tripwire"] < r["detect_secrets"]]
    print(f"kinds where tripwire's recall is below detect-secrets': {worse or 'none'}")

    print("\n| placed in | planted | tripwire recall | detect-secrets recall |")
    print("|---|---:|---:|---:|")
    for where, n in where_total.items():
        print(f"| {where} | {n} | {where_tw[where] / n:.1%} | {where_ds[where] / n:.1%} |")

    fp_tw = sum(bool(h) for h in tw_clean)
    fp_ds = sum(bool(h) for h in ds_clean)
    n_clean = len(clean)
    print("\n| tool | clean records flagged | per 10k clean records | seconds (all records) |")
    print("|---|---:|---:|---:|")
    print(f"| tripwire | {fp_tw} | {fp_tw / n_clean * 1e4:.1f} | {tw_seconds:.1f} |")
    print(f"| detect-secrets | {fp_ds} | {fp_ds / n_clean * 1e4:.1f} | {ds_s1 + ds_s2:.1f} |")
    flagged = [(r["id"], v[:40]) for r, h in zip(clean, tw_clean, strict=True) for v in h[:1]]
    print(f"tripwire's flags on clean records (first 10): {flagged[:10]}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "kinds": rows,
                    "clean": n_clean,
                    "false_positives": {"tripwire": fp_tw, "detect_secrets": fp_ds},
                    "seconds": {"tripwire": tw_seconds, "detect_secrets": ds_s1 + ds_s2},
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
