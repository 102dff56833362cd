"""``language_mismatch``: the declared language (field or code-fence tag) is not the code's, or
the answer is not in the language its instruction asks for (``_asked``: "in Rust", "a Go
function", "convert ... to JavaScript"; the fence tag alone proves nothing: a Python answer in a
```python fence to a request for JavaScript is the wrong task).

Detection alone is never enough: the code must also fail to parse as the declared language, and
detection must be confident about a language of another family. Code with no declared language
gets the detected one, so later checks know which parser to use.
"""

from __future__ import annotations

from tripwire.data._asked import requested_language
from tripwire.data._languages import family
from tripwire.data._parsing import DELIMITER_ONLY, GRAMMARS, parses_cleanly
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check


def _parses(ctx: RecordContext, language: str) -> bool:
    """Strictly: the syntax check's own parser, except where that only pairs delimiters."""
    if language in DELIMITER_ONLY or language not in GRAMMARS:
        return parses_cleanly(ctx.record.code, language)
    return ctx.analysis(language).ok


@record_check("language_mismatch")
class LanguageMismatch(RecordCheck):
    skip_if = frozenset({"not_code"})

    def check(self, ctx: RecordContext) -> Evidence | None:
        rec = ctx.record
        claims = [("language field", rec.language)] if rec.language else []
        claims += [("code fence", tag) for tag in dict.fromkeys(rec.fence_tags)]
        if not claims:
            found = ctx.detection()
            ctx.language = found.language if found.confident else None
            return self._asked(ctx)
        for where, declared in claims:
            if _parses(ctx, declared):
                continue
            detected = self._detect(ctx, declared)
            if detected is None or family(detected) == family(declared):
                continue
            ctx.language = detected
            return {
                "declared": declared,
                "declared_in": where,
                "detected": detected,
                "scores": ctx.detection().scores,
            }
        return self._asked(ctx)

    @staticmethod
    def _asked(ctx: RecordContext) -> Evidence | None:
        """The answer's language (declared and parsing, or detected) is of another family than
        the one its instruction asks for, and the code does not parse as the asked one."""
        rec = ctx.record
        if rec.kind not in ("instruction", "chat") or ctx.language is None:
            return None
        asked = requested_language(rec.prompt)
        if asked is None or asked not in GRAMMARS or family(asked) == family(ctx.language):
            return None
        if _parses(ctx, asked):
            return None
        return {
            "declared": asked,
            "declared_in": "instruction",
            "detected": ctx.language,
            "asked_by": rec.prompt[:160],
        }

    @staticmethod
    def _detect(ctx: RecordContext, declared: str) -> str | None:
        """A language of another family that the code is clearly written in: the confident
        detection, or else the best-scoring one if its parser accepts the code (short snippets
        show few patterns, but a clean parse is strong evidence)."""
        found = ctx.detection()
        best = found.language
        if best is None or (found.confident and family(best) == family(declared)):
            return None
        if found.confident:
            return best
        # Unsure: the best two scored languages of another family, if one's parser accepts it.
        others = [lang for lang in found.scores if family(lang) != family(declared)][:2]
        return next((lang for lang in others if _parses(ctx, lang)), None)
