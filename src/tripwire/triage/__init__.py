"""Feedback triage that reads meaning: MiniLM sentence embeddings, character grams and the old
rules' hits, into a logistic regression trained on the labelled reports shipped in ``data/``.

``classify(texts)`` returns one ``Verdict`` per text: category (or ``needs_review`` below the
confidence threshold), confidence and evidence (the nearest labelled reports, the words and rule
hits that weighed most). Unreadable input (empty, 1 MB or more, binary) is ``other`` with a
reason, never an exception. ``cluster_reports(items, deploys)`` groups reports by meaning, labels
each group, flags the groups that grew after a deploy and links them to their slices.
"""

from tripwire.triage._cluster import Cluster, Deploy, Item, cluster_reports
from tripwire.triage._embed import Encoder, encoder
from tripwire.triage._guard import MAX_BYTES, refusal
from tripwire.triage._model import THRESHOLD, Neighbour, Triager, Verdict, classify, triager
from tripwire.triage._reports import CATEGORIES, NEEDS_REVIEW, Report, load, training_set

__all__ = [
    "CATEGORIES",
    "MAX_BYTES",
    "NEEDS_REVIEW",
    "THRESHOLD",
    "Cluster",
    "Deploy",
    "Encoder",
    "Item",
    "Neighbour",
    "Report",
    "Triager",
    "Verdict",
    "classify",
    "cluster_reports",
    "encoder",
    "load",
    "refusal",
    "training_set",
    "triager",
]
