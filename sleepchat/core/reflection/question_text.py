"""A proposed question cleaned of what models wrap around it, before the quality gate judges it.

Models number their lists ("1. ", "2) ", "- "), label items ("Q1:", "Question:", "User:",
"Follow-up question:"), wrap them in quotes or bold, or leave a stray token in front ("{ 13}",
"[1]"). Each of these is mechanical to strip, and dropping the question for it loses a good
prediction. Only a wrapper is removed: a leading word that belongs to the question ("Python
3.12: what changed?", "2 cups or 3: which?") stays, and so does a quote inside it.
"""

from __future__ import annotations

import re

# One wrapper at the start, tried again until none is left ("3. **Q1: ...**").
_LEADING = re.compile(
    r"""^(?:
        [\[{(]\s*\d{1,3}\s*[\]})]\s*            # a stray index: { 13} [1] (4)
      | \d{1,2}[.)]\s+                          # list numbering: 1. 2)
      | \#\d{1,2}[.):]?\s+                      # #2
      | [a-h]\)\s+                              # a) b)
      | [-*•>]+\s+                              # bullets and quote marks
      | (?:q(?:uestion)?\s*\d{0,2}|follow[- ]?up(?:\s+question)?|next\s+question
        |(?:the\s+)?user|predicted\s+question)\s*[:.\-–]\s+   # a label
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("**", "**"), ("*", "*"), ("`", "`"))


def _unwrap(text: str) -> str:
    """Quotes or emphasis around the whole question (not one around a word inside it)."""
    for left, right in _PAIRS:
        if len(text) > len(left) + len(right) and text.startswith(left) and text.endswith(right):
            inner = text[len(left) : -len(right)].strip()
            if left not in inner and right not in inner:
                return inner
    return text


def clean_question(raw: str) -> str:
    """The question a model proposed, without numbering, labels, quotes or a stray prefix."""
    text = " ".join(raw.split())
    while True:
        before = text
        text = _unwrap(_LEADING.sub("", text, count=1).strip())
        if text == before:
            return text
