"""tripwire's decontamination next to 13-gram overlap (the GPT-3 paper's rule, which
lm-evaluation-harness's decontamination also uses), on HumanEval copies no one here disguised
by hand and on the code of the installed packages.

Recall: every one of HumanEval's 164 items under each disguise (built with the standard
library's ``ast``/``tokenize``, not with tripwire's lexer): verbatim, renamed (docstring kept),
2-space indent without docstring, renamed without docstring (a short item is then ordinary
code: no method should find it), docstring as comments, prompt only, first 60% of the lines,
the solution alone in an instruction, a prose description with a renamed solution, a chat with
the prompt asked and the solution answered, inside a file of an installed package. And the
way scraped or model-rewritten sets carry code, each without its docstring (the prose would
give most away): in a markdown answer, a notebook cell, with line numbers, as a JSON-escaped
string, as HTML entities, names in look-alike Cyrillic letters, with zero-width characters or
in camelCase, minified with semicolons, wrapped
one argument a line, type hints stripped, loops as comprehensions, independent assignments
reordered, a comment after every line, cut over two chat turns; and HumanEval's own test code
alone.

False positives: top-level functions of the installed packages (records no benchmark item is
in), every record either method flags counted.

    python benchmarks/decontamination.py --clean 20000
"""

from __future__ import annotations

import argparse
import random
import re
import sysconfig
import time
from collections import Counter
from pathlib import Path

from tripwire.data import ContaminationIndex, load_benchmark
from tripwire.faults import disguise
from tripwire.faults.secret_corpus import installed_python_functions

_WORD = re.compile(r"\S+")


class NGramOverlap:
    """A record is contaminated when it shares one 13-gram of whitespace-split, lower-cased
    words with an item (items shorter than 13 words: the whole item)."""

    def __init__(self, texts: dict[str, str], n: int = 13) -> None:
        self.n = n
        self.index: dict[tuple[str, ...], set[str]] = {}
        for key, text in texts.items():
            for g in self._grams(text):
                self.index.setdefault(g, set()).add(key)

    def _grams(self, text: str) -> set[tuple[str, ...]]:
        w = _WORD.findall(text.lower())
        k = min(self.n, len(w))
        return {tuple(w[i : i + k]) for i in range(len(w) - k + 1)} if w else set()

    def match(self, text: str) -> set[str]:
        found: set[str] = set()
        w = _WORD.findall(text.lower())
        for i in range(len(w) - self.n + 1):
            found |= self.index.get(tuple(w[i : i + self.n]), set())
        return found


def variants(item, rng: random.Random, host: str, test: str) -> dict[str, tuple[str, str]]:
    """(record text, its prompt) per disguise."""
    cut = host.find("\ndef ", len(host) // 3)
    cut = cut if cut >= 0 else len(host)
    renamed = disguise.ast_rename(item.text, rng)
    bare = disguise.drop_docstrings(item.text)
    first, second = disguise.split_turns(bare)
    return {
        "verbatim": (item.text, ""),
        "renamed, docstring kept": (renamed, ""),
        "2-space indent, no docstring": (
            disguise.reindent(disguise.drop_docstrings(item.text), 2),
            "",
        ),
        "renamed, no docstring": (disguise.drop_docstrings(renamed), ""),
        "docstring as comments": (disguise.docstring_as_comments(item.text), ""),
        "prompt only": (item.prompt + "    raise NotImplementedError\n", ""),
        "first 60% of lines": (disguise.head(item.text, 0.6), ""),
        "solution alone": (item.solution, "Complete the function."),
        "description + renamed solution": (
            disguise.drop_docstrings(renamed),
            disguise.description(item.prompt),
        ),
        "chat: prompt, then solution": (item.solution, item.prompt),
        "inside a package's file": (host[:cut] + "\n\n" + item.text + host[cut:], ""),
        "no docstring: markdown answer": (disguise.markdown_answer(bare), ""),
        "no docstring: notebook cell": (disguise.notebook(bare), ""),
        "no docstring: line numbers": (disguise.number_lines(bare), ""),
        "no docstring: JSON-escaped string": (repr(bare)[1:-1], ""),
        "no docstring: look-alike letters": (disguise.homoglyph_rename(bare, rng), ""),
        "no docstring: zero-width characters": (disguise.zero_width(bare, rng), ""),
        "no docstring: HTML entities": (disguise.html_escaped(bare), ""),
        "no docstring: camelCase": (disguise.camel_case(bare), ""),
        "no docstring: minified": (disguise.minify(bare), ""),
        "no docstring: wrapped, trailing commas": (disguise.wrap_lines(bare), ""),
        "no docstring: type hints stripped": (disguise.strip_type_hints(bare), ""),
        "no docstring: loops as comprehensions": (disguise.loops_as_comprehensions(bare), ""),
        "no docstring: comprehensions as loops": (disguise.comprehensions_as_loops(bare), ""),
        "no docstring: assignments reordered": (disguise.reorder_independent(bare), ""),
        "no docstring: comment every line": (disguise.comment_every_line(bare, rng), ""),
        "no docstring: two chat turns": (second, first),
        "renamed, no docstring, minified": (disguise.minify(renamed), ""),
        "HumanEval's test code alone": (test, ""),
        "solution and test code": (item.solution + "\n" + test, ""),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clean", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    items = load_benchmark("humaneval")
    t0 = time.perf_counter()
    index = ContaminationIndex(items)
    built = time.perf_counter() - t0
    peer = NGramOverlap({i.item_id: i.text for i in items})
    rng = random.Random(args.seed)
    tests = {i.item_id: i.test for i in items}
    host = (Path(sysconfig.get_paths()["purelib"]) / "packaging" / "version.py").read_text()

    ours, theirs, total = Counter(), Counter(), Counter()
    for item in items:
        for name, (code, prompt) in variants(item, rng, host, tests[item.item_id]).items():
            text = f"{prompt}\n{code}" if prompt else code
            total[name] += 1
            ours[name] += any(
                m.item.item_id == item.item_id for m in index.match(text, "python", prompt)
            )
            theirs[name] += item.item_id in peer.match(text)
    print(f"HumanEval: {len(items)} items, {len(index)} indexed (built in {built:.2f} s)\n")
    print("| disguise | copies | tripwire recall | 13-gram overlap recall |")
    print("|---|---:|---:|---:|")
    for name, n in total.items():
        print(f"| {name} | {n} | {ours[name] / n:.1%} | {theirs[name] / n:.1%} |")

    clean = installed_python_functions(args.clean, random.Random(args.seed + 1))
    t0 = time.perf_counter()
    fp_ours = [c for c in clean if index.match(c, "python")]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    fp_theirs = [c for c in clean if peer.match(c)]
    t_theirs = time.perf_counter() - t0
    print("\n| method | clean functions | flagged | seconds |")
    print("|---|---:|---:|---:|")
    print(f"| tripwire | {len(clean)} | {len(fp_ours)} | {t_ours:.1f} |")
    print(f"| 13-gram overlap | {len(clean)} | {len(fp_theirs)} | {t_theirs:.1f} |")
    for c in fp_ours[:5]:
        print("tripwire flagged:", c.splitlines()[0][:100])


if __name__ == "__main__":
    main()
