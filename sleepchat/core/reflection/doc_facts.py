"""Notes of an attached document's key facts, each the passage it came from.

When an idle period studies a document just attached, the sentences of it that carry a value
(a number, a date, a name) become session notes, word for word, marked with the document: the
passage is the note, so nothing a model misread can creep in, and the notes panel shows where
each came from. The gate every stored text passes keeps out an instruction a file may hold.
Notes of a document every request quotes whole stay out of the requests' notes block (the
document says it already); those of a longer file, or of one detached since, go in.
"""

from __future__ import annotations

import re

from sleepchat.core.models import Document
from sleepchat.core.reflection import quality
from sleepchat.core.reflection.reflect_run import Run

MAX_FACTS = 8  # per document: the notes block is quoted in every request
MIN_WORDS, MAX_WORDS = 5, 45
# Lines that are markup or code, not prose: headings, fences, list bullets of links, tables.
_NOT_PROSE = re.compile(r"^\s*(?:#|```|\.\. |[|>]|[-*] `|\w+\s*=\s|def |class |import |from )")


def key_sentences(text: str, limit: int = MAX_FACTS) -> list[str]:
    """The sentences of ``text`` that state a value, spread over the whole file."""
    found: list[str] = []
    for line in text.splitlines():
        if _NOT_PROSE.match(line):
            continue
        for sentence in quality.sentences(line.strip(" -*\t")):
            words = sentence.split()
            if not MIN_WORDS <= len(words) <= MAX_WORDS or sentence.endswith("?"):
                continue
            if not quality.values(sentence) or quality.text_problem(sentence) is not None:
                continue
            if sentence not in found:
                found.append(sentence)
    if len(found) <= limit:
        return found
    step = len(found) / limit  # evenly over the file, not its first pages only
    return [found[int(i * step)] for i in range(limit)]


async def take_notes(run: Run, doc: Document) -> int:
    """Keep ``doc``'s key facts as notes (once per document); returns how many."""
    if any(n.document_id == doc.id for n in run.memory.all_notes):
        return 0
    kept = 0
    for sentence in key_sentences(doc.source or doc.text):
        await run.memory.insert_note(
            sentence, (), by=run.reflection.id, verbatim=True, document_id=doc.id
        )
        kept += 1
    if kept:
        run.notes_changed += kept
        run.changed()
    return kept
