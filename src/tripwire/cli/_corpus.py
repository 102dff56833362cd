"""Which code corpus `eval run` and `eval compare-models` score retention and completion on.

In order: ``--corpus``; the model's own reference corpus (a reference model, given as ``hf:DIR``
or a bare folder); otherwise the machine's pinned reference corpus's held-out split, which any
model can be scored on, so a first run needs no corpus at all. The choice is said on stderr.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.cli._output import err

NEEDS_CORPUS = ("retention", "completion")


def choose_corpus(suite: str, model: str | None, given: Path | None) -> Path | None:
    if given is not None or suite not in NEEDS_CORPUS:
        return given
    from tripwire.reference import DEFAULT_CORPUS_NAME, corpus_of, default_heldout_corpus

    if model:
        own = Path(model.removeprefix("hf:"))
        if corpus_of(own) is not None:
            return own
    found = default_heldout_corpus()
    err.print(f"[yellow]notice:[/] {suite} corpus: {DEFAULT_CORPUS_NAME} ({found}); "
              "--corpus chooses another", highlight=False, soft_wrap=True)  # fmt: skip
    return found
