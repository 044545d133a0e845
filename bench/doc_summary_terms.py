"""Whether a summary names what a reader's check looks for: each reader set's first question that
asks what a file is (install and example questions left out), its summary written on the
embedded model (SLEEPCHAT_LOCAL_MODEL picks it) with the request idle time uses, or with the
request before it asked for the document's own key terms (``--before``), one scripted chat turn
each. A tune figure: the sets passed must be ones already read.

With ``--samples N`` each summary is written N times (each its own session, as idle time
samples it again) and two figures come from the same samples, side by side: the first sample's,
and the one idle time keeps (the first that holds all of the file's own key terms, else the one
holding most; ``reflection/document_step.py``).

Usage: python bench/doc_summary_terms.py [--before] [--samples N] SET.json [SET.json ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from doc_questions import Question, from_set, replies, run_script

from sleepchat.core.memory.doc_sections import summary_request
from sleepchat.core.memory.documents import subject_of
from sleepchat.core.models import Document
from sleepchat.core.reflection.document_step import key_terms, terms_held

NOT_SUMMARIES = ("pip install", "firstrow", "Table", "connect_sse", "tomli.load", "legacy",
                 "PriorityQueue", "lru_cache")  # fmt: skip
BEFORE = (
    "Summarize the attached document {name}: first what {subject} is and does, in one or two "
    "sentences; then who it is for, and its main points (for code, what it provides)."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", action="store_true", help="the request without key terms")
    parser.add_argument("--samples", type=int, default=1, help="summaries written per file")
    parser.add_argument("sets", nargs="+", type=Path)
    args = parser.parse_args()
    held = asked = kept_held = 0
    with tempfile.TemporaryDirectory(prefix="sleepchat-summary-") as tmp:
        folder = Path(tmp)
        for path in args.sets:
            for name, (make, questions) in from_set(path).items():
                first = questions[0]
                if any(k in h for h in first.holds for k in NOT_SUMMARIES):
                    continue
                file = make(folder)
                doc = Document("d1", "s", file.name, file.read_text("utf-8"), 1, 10, 0.0)
                request = (
                    BEFORE.format(name=file.name, subject=subject_of(doc))
                    if args.before
                    else summary_request(doc)
                )
                terms = key_terms(doc)
                answers: list[str] = []
                for n in range(args.samples):
                    events = run_script([f"/attach {file}", request], folder / f"{name}-{n}")
                    answers.append(str(replies(events)[-1].get("text", "")))

                def holds(answer: str, q: Question = first) -> bool:
                    return all(h.casefold() in answer.casefold() for h in q.holds)

                kept = answers[0]
                for answer in answers[1:]:
                    if terms_held(kept, terms) == len(terms):
                        break
                    if terms_held(answer, terms) > terms_held(kept, terms):
                        kept = answer
                ok = holds(answers[0])
                held, asked, kept_held = held + ok, asked + 1, kept_held + holds(kept)
                marks = " ".join(
                    f"{'+' if holds(x) else '-'}{terms_held(x, terms)}/{len(terms)}"
                    for x in answers
                )
                print(f"{'holds' if ok else 'lacks'} {first.holds} [{name}] {marks} "
                      f"{answers[0][:100]!r}")  # fmt: skip
    print(f"summaries holding the check's words: {held}/{asked}")
    if args.samples > 1:
        print(f"the sample idle time keeps, of {args.samples}: {kept_held}/{asked}")


if __name__ == "__main__":
    main()
