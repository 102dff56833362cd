"""Fault injection: the incident's bugs, made on purpose, to prove each check catches them.

The demo, the tests and the benchmarks build every broken artifact here, one way each, and
through this module only:

- checkpoints (the incident's bug 1 and its neighbours): ``reassign_ids``, ``add_tokens``,
  ``change_normalizer``, ``swap_special_tokens``, ``untie``, ``scramble_head``,
  ``reinitialise_rows``, ``config_vocab_mismatch``, ``perturb``, ``finetune``,
  ``tokenizer_update``; each copies a healthy checkpoint and returns a ``Fault`` naming the rows it
  broke;
- fine-tuning data (bug 2): ``build_contaminated_set`` (every audit reason planted in real code,
  labelled), ``build_foreign_set`` (faults planted in other people's code, in other styles),
  ``breakage_set`` (syntax errors and truncations), ``planted_hazards`` (code that teaches bugs
  and insecure practices), ``secret_corpus`` (credentials planted anywhere a record holds a
  string) and ``disguise`` (benchmark copies renamed, re-indented, stripped of docstrings).

Capabilities never import this package: it depends on them, not the other way round.
"""

from tripwire.faults import disguise, secret_corpus
from tripwire.faults._base import PlantedRecord
from tripwire.faults._breakage import Broken, breakage_set
from tripwire.faults._checkpoints import (
    Fault,
    add_tokens,
    change_normalizer,
    config_vocab_mismatch,
    copy_checkpoint,
    finetune,
    frequent_tokens,
    perturb,
    reassign_ids,
    reinitialise_rows,
    scramble_head,
    swap_special_tokens,
    tokenizer_update,
    untie,
)
from tripwire.faults._contaminated import FAULT_KINDS, ContaminatedSet, build_contaminated_set
from tripwire.faults._foreign_set import KINDS_PLANTED, build_foreign_set
from tripwire.faults._hazards import planted_hazards
from tripwire.faults._plant import rename_identifiers, restyle

__all__ = [
    "FAULT_KINDS",
    "KINDS_PLANTED",
    "Broken",
    "ContaminatedSet",
    "Fault",
    "PlantedRecord",
    "add_tokens",
    "breakage_set",
    "build_contaminated_set",
    "build_foreign_set",
    "change_normalizer",
    "config_vocab_mismatch",
    "copy_checkpoint",
    "disguise",
    "finetune",
    "frequent_tokens",
    "perturb",
    "planted_hazards",
    "reassign_ids",
    "reinitialise_rows",
    "rename_identifiers",
    "restyle",
    "scramble_head",
    "secret_corpus",
    "swap_special_tokens",
    "tokenizer_update",
    "untie",
]
