"""``language_mismatch``: the declared language (field or code-fence tag) is not the code's.

Detection alone is never enough: the code must also fail to parse as the declared language, and
detection must be confident about a language of another family. Code with no declared language
gets the detected one, so later checks know which parser to use.
"""

from __future__ import annotations

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
            return None
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
        return None

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
