"""Feedback triage: a free-text report put into one of the incident's categories, with the words
that decided it, so a person can check the call at a glance."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ordered: among categories with as many matching words the first wins, so the specific kinds
# come before the general ones they overlap (a "TypeError" is a runtime error, not a logic one).
_RULES: dict[str, str] = {
    "compilation_error": r"syntax ?error|does(?:n't| not) compile|won'?t compile"
    r"|compil\w*+ (?:error|fail)|fails? to (?:compile|parse|build)|parse error|unexpected token"
    r"|indentation ?error|invalid syntax|build (?:error|fail\w*)|unterminated"
    r"|missing (?:semicolon|bracket|brace|paren\w*)|unbalanced",
    "runtime_error": r"\b\w+error\b|exception|traceback|crash\w*|segfault|segmentation fault"
    r"|stack trace|panic\w*|raises?|throws?|null pointer",
    "incomplete_code": r"incomplete|cut off|truncated|stops? (?:mid|halfway|in the middle)"
    r"|unfinished|half[- ]finished|missing (?:the )?(?:rest|end|body|implementation)|todo"
    r"|placeholder|not finished|ends abruptly",
    "incorrect_api_usage": r"(?:wrong|incorrect|nonexistent|non-existent|made[- ]up|hallucinated"
    r"|deprecated) (?:api|method|function|module|parameter|argument|import|package|library)"
    r"|no such (?:method|function|module|attribute)|has no attribute|not a function"
    r"|does(?:n't| not) exist in|wrong (?:signature|arguments?)|unknown (?:option|flag)",
    "instructions_not_followed": r"(?:didn'?t|did not|doesn'?t|does not|ignored?|ignores) "
    r"(?:follow|listen|use|do) |i asked for|asked (?:it )?to|wrong language|instead of"
    r"|not what i asked|ignored (?:my|the) (?:instructions?|request)|i said",
    "performance_regression": r"slow\w*|latency|takes? (?:forever|ages|too long)|timed? ?out"
    r"|timeout|laggy|worse than (?:before|yesterday|last week)|got worse|regress\w*"
    r"|quality (?:dropped|dropping|has dropped)|degrad\w*",
    "logic_error": r"wrong (?:answer|result|output|value)|incorrect (?:result|output|answer|logic)"
    r"|off[- ]by[- ]one|logic (?:error|bug)|returns? (?:the )?wrong|gives? (?:the )?wrong"
    r"|infinite loop|does(?:n't| not) (?:work|handle)|edge case|bug\b|fails? (?:the )?tests?",
}
# A rule may not try a word run from each of its letters: r"\w+error" on a 40,000-letter word
# took 30 s (quadratic), per report, on the request thread. Runs are anchored at a word start
# (\b) or taken whole (possessive \w*+), which matches the same words in linear time.
_COMPILED = {k: re.compile(v, re.IGNORECASE) for k, v in _RULES.items()}


@dataclass(frozen=True)
class Triage:
    category: str
    evidence: tuple[str, ...]
    """The words of the report that matched the category's patterns."""


def rule_matches(text: str) -> dict[str, tuple[str, ...]]:
    """Each category's distinct matching words, in rule order (also the learned triage's
    features: a rule hit is evidence, just not enough on its own)."""
    return {
        category: tuple(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(text)))
        for category, pattern in _COMPILED.items()
    }


def triage(text: str) -> Triage:
    """The category of a free-text report ("other" when nothing specific matches)."""
    best, best_words = "other", ()
    for category, words in rule_matches(text).items():
        if len(words) > len(best_words):
            best, best_words = category, words
    return Triage(best, best_words)
