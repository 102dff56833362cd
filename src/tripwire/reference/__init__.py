"""The reference code corpus and the small reference model every test and the demo build on."""

from tripwire.reference._build import (
    CORPUS_DIR,
    BuildResult,
    LanguageRow,
    build_reference,
    corpus_of,
    get_profile,
    load_reference_corpus,
)
from tripwire.reference._corpus import (
    LANGUAGES,
    Corpus,
    SourceFile,
    collect_corpus,
    javascript_roots,
)
from tripwire.reference._default_corpus import DEFAULT_CORPUS_NAME, default_heldout_corpus
from tripwire.reference._degrade import characteristic_tokens, degrade_language
from tripwire.reference._heldout import HeldoutLoss, encode_stream, model_nats, stream_windows
from tripwire.reference._import import SOURCES, ImportResult, WheelModel, import_model
from tripwire.reference._profiles import PROFILES, Profile
from tripwire.reference._score import heldout_losses
from tripwire.reference._snapshot import pinned_corpus

__all__ = [
    "CORPUS_DIR",
    "DEFAULT_CORPUS_NAME",
    "LANGUAGES",
    "PROFILES",
    "SOURCES",
    "BuildResult",
    "Corpus",
    "HeldoutLoss",
    "ImportResult",
    "LanguageRow",
    "Profile",
    "SourceFile",
    "WheelModel",
    "build_reference",
    "characteristic_tokens",
    "collect_corpus",
    "corpus_of",
    "default_heldout_corpus",
    "degrade_language",
    "encode_stream",
    "get_profile",
    "heldout_losses",
    "import_model",
    "javascript_roots",
    "load_reference_corpus",
    "model_nats",
    "pinned_corpus",
    "stream_windows",
]
