"""A long attached document on the embedded model: questions about facts deep inside a file five
times the context window, answered with the sections each question is about vs with the file's
first part only (what sleepchat did before). Prints, per question, whether the answer holds the
fact, and the request's prompt tokens as the server counted them.

Usage: python bench/doc_long.py [--chapters N]  (160: about 26,000 tokens; 210: about 34,000,
four times the largest window a file grows the default one to)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from embedded import embedded

from sleepchat.core.context import estimate
from sleepchat.core.events import ReplyDone
from sleepchat.core.settings import documents_room

TOPICS = ["harbour", "orchard", "railway", "library", "foundry", "vineyard", "observatory"]
FACTS = [
    (
        "The lighthouse keeper, Ines Duarte, recorded exactly 4211 ships passing the cape.",
        "How many ships did the lighthouse keeper record?",
        "4211",
    ),
    (
        "The town's first mayor was a clockmaker named Tobias Ferreira.",
        "What was the first mayor's trade?",
        "clockmaker",
    ),
    (
        "The great flood reached the market square in the spring of 1847.",
        "In which year did the great flood reach the market square?",
        "1847",
    ),
]


def chapter(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    return (
        f"## Chapter {n}\n\nThe town's {topic} was rebuilt in year {1700 + n}. Records of the "
        f"{topic} list its wardens, its ledgers and the disputes over its upkeep. "
        "Travellers wrote about the weather, the roads and the price of bread. " * 3
    )


def document(chapters: int = 160) -> str:
    parts = [chapter(n) for n in range(chapters)]
    for k, (fact, _, _) in enumerate(FACTS):
        parts.insert(40 + 45 * k, f"## Note {k}\n\n{fact}")
    return "\n\n".join(parts)


async def main(chapters: int) -> None:
    async with embedded(max_reply_tokens=48) as (a, _settings):
        size = estimate(document(chapters))
        held = {"sections": 0, "first part": 0}
        for _fact, question, key in FACTS:
            for arm in ("sections", "first part"):
                await a.new_session()
                doc = await a.attach("town-history.md", document(chapters))
                if not held["sections"] and arm == "sections":  # the window it took
                    settings = a.settings
                    print(
                        f"model {a.model}; document about {size:,} tokens; window "
                        f"{settings.options.num_ctx}; room for documents "
                        f"{documents_room(settings)}; quoted first {doc.tokens}"
                    )
                if arm == "first part":
                    # What sleepchat did before: the first part only, no sections.
                    conversation = a.conversation
                    assert conversation is not None
                    stored = dataclasses.replace(doc, source=None)
                    conversation.memory.documents._docs[doc.id] = stored
                answer, prompt = "", None
                async for event in a.ask(question):
                    if isinstance(event, ReplyDone):
                        answer, prompt = event.message.content, event.message.prompt_tokens
                ok = key.lower() in answer.lower()
                held[arm] += ok
                print(
                    f"[{arm:>10}] {'holds' if ok else 'MISSES'} {key!r} ({prompt} prompt "
                    f"tokens): {question} -> {' '.join(answer.split())[:100]}"
                )
    for arm, n in held.items():
        print(f"{arm}: {n}/{len(FACTS)} answers hold the fact")
    sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, default=160)
    asyncio.run(main(parser.parse_args().chapters))
