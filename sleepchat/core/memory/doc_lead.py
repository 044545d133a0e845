"""What a document says it is, in its own first words: a module's docstring, the first paragraph
of prose of a README or a paper's title (past badges, front matter and headings).

Its words are the terms a reader's "what is it?" looks for (the format, method or field the
file names in its opening): idle time keeps, of the summaries it samples, the one that holds
most of them (``reflection/document_step.py``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from sleepchat.core.memory.documents import names_of
from sleepchat.core.models import Document

MAX_CHARS = 300  # a sentence or two; a long opening is cut at a sentence end
_MIN_WORDS = 6  # fewer is a tagline or a caption, not a description
_PARAGRAPHS = 8  # past these, a paragraph that names the subject is a detail, not its opening
# Lines that are markup, not running text: headings and rules, list items, fences,
# reStructuredText directives and fields, tables, quotes, HTML, images and badges, a line that
# is one link, front matter.
_PROSE_SKIP = re.compile(
    r"""^\s*(?:
        \#|=|-{3,}|\*{3,}|~{3,}|\^{3,}|\d+\.\s|[-*+]\s|`{3}|\.\.\s|:\w+:|\||>|<|!\[|\[!\[
        |\[[^\]]*\]\([^)]*\)\s*$
        |(?:title|authors?|tags|date|bibliography|affiliations?):
    )""",
    re.VERBOSE,
)
_FRONT_TITLE = re.compile(r"(?m)^title:\s*(.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_\"'(])")
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|`{1,2}([^`]*)`{1,2}|\*{1,2}([^*]+)\*{1,2}")


def lead_of(doc: Document) -> str:
    """The document's own opening description, or "" when it has none worth reading."""
    text = doc.source or doc.text
    title = _FRONT_TITLE.search(text[:2000]) if text.startswith("---\n") else None
    if title:  # a paper's front matter: its title says what it is
        return _cut(title.group(1).strip().strip("'\""))
    if doc.name.endswith((".py", ".pyi")):  # a docstring describes its module (past its title)
        return _first(_docstring(text).split("\n\n")[:3], lambda _: True)
    # Of prose, the first paragraph that names its subject (not a history, a setting or a
    # link), else an opening paragraph that names nothing ("ANSI color formatting for ...").
    paragraphs = _prose(_without_front_matter(text))
    named = _named(doc)
    return _first(paragraphs[:_PARAGRAPHS], named.search) or _first(paragraphs[:1], lambda _: True)


def opening(doc: Document) -> str:
    """The first sentence of the document's own description ("" when it has none)."""
    return _SENTENCE_END.split(lead_of(doc), maxsplit=1)[0]


def _first(paragraphs: list[str], accept: Callable[[str], object]) -> str:
    for para in paragraphs:
        words = " ".join(_MARKUP.sub(_inner, para).split())
        if len(words.split()) >= _MIN_WORDS and accept(words):
            return _cut(words)
    return ""


def _named(doc: Document) -> re.Pattern[str]:
    """The document's names as a word ("ordered-set" as "OrderedSet" too), not as part of a
    file name or an address ("humanize.pot", "toolz.readthedocs.io")."""
    names = [n for n in names_of(doc) if len(n) > 2]
    alts = "|".join(r"[-_ ]?".join(map(re.escape, re.split(r"[-_ ]", n))) for n in names)
    return re.compile(rf"(?i)(?<![\w./])(?:{alts})(?![\w/]|\.\w)")


def _inner(match: re.Match[str]) -> str:
    return next(g for g in match.groups() if g is not None)


def _docstring(text: str) -> str:
    try:
        return ast.get_docstring(ast.parse(text)) or ""
    except (SyntaxError, ValueError):
        return ""


def _without_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            return text[end + 5 :]
    return text


def _prose(text: str) -> list[str]:
    """Paragraphs of running text: blocks of lines none of which is markup of its own, in
    order; a fenced code block is skipped whole."""
    out: list[str] = []
    block: list[str] = []
    fenced = False
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            block = []
            continue
        if fenced:
            continue
        if not line.strip() or _PROSE_SKIP.match(line) or line.startswith(("    ", "\t")):
            if block:
                out.append(" ".join(block))
            block = []
            continue
        block.append(line.strip())
    return out


def _cut(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        if kept and len(kept) + len(sentence) + 1 > MAX_CHARS:
            break
        kept = f"{kept} {sentence}".strip()
    return kept if len(kept) <= MAX_CHARS else kept[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
