"""The question request alone, turn by turn, on multi-turn conversations: what the model predicts
after each answer, next to what the user asked next. For reading coverage by hand, and for trying
a wording of the request without a whole benchmark run (about 5 s a turn on the 1.5B here).

Each conversation is replayed on the embedded model: its context messages and real questions,
each answered by the model (at most 256 tokens, at temperature 0); before each real question the
request the reflection makes (``question_instructions``) is sent after the history, its
questions cleaned and judged by the reflection's own quality gate (``gate``), and each kept one
marked with the word rules' verdict against the real question (SAME, judge: left open, ctx:
the real question is it with words of the last exchange left out, for the judge to weigh in
that exchange, -: refused).

    python bench/next_questions.py --model PATH.gguf [--conversations FILE] [--ids a,b]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from sleepchat.core.defaults import DEFAULT_SYSTEM_PROMPT
from sleepchat.core.recall.in_context import context_words, left_out
from sleepchat.core.recall.verify import Verifier
from sleepchat.core.reflection.predict_step import (
    MAX_PROPOSED,
    MIN_PROPOSED,
    gate,
    question_instructions,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "questions": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": MIN_PROPOSED,
            "maxItems": MAX_PROPOSED,
        }
    },
    "required": ["questions"],
}


def proposed(llm: Any, messages: list[dict[str, str]], tail: str) -> list[str]:
    reply = llm.create_chat_completion(
        messages=[*messages, {"role": "user", "content": tail}],
        max_tokens=200,
        temperature=0.0,
        response_format={"type": "json_object", "schema": SCHEMA},
    )
    try:
        return list(json.loads(reply["choices"][0]["message"]["content"])["questions"])
    except (ValueError, KeyError, TypeError):
        return []


def say(llm: Any, messages: list[dict[str, str]], asked: list[str], text: str) -> None:
    """The user's message and the model's reply, added to the history."""
    messages.append({"role": "user", "content": text})
    out = llm.create_chat_completion(messages=messages, max_tokens=256, temperature=0.0)
    messages.append({"role": "assistant", "content": out["choices"][0]["message"]["content"]})
    asked.append(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model")
    parser.add_argument("--conversations", required=True, help="JSONL: id, context, queries")
    parser.add_argument("--ids", default="", help="only these conversation ids (comma-separated)")
    args = parser.parse_args()
    rows = [json.loads(x) for x in Path(args.conversations).read_text("utf-8").splitlines() if x]
    wanted = set(filter(None, args.ids.split(",")))
    llm = Llama(model_path=args.model, n_ctx=4096, n_threads=2, verbose=False)
    verifier = Verifier.default()
    for conv in rows:
        if wanted and conv["id"] not in wanted:
            continue
        print(f"== {conv['id']}")
        messages = [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}]
        asked: list[str] = []

        for text in conv["context"]:
            say(llm, messages, asked, text)
        for query in conv["queries"]:
            tail = question_instructions(asked, [], 3)
            conversation = [m["content"] for m in messages[1:]]
            exchange = [m["content"] for m in messages[-2:]]
            said = context_words(verifier, exchange)
            for question, problem in gate(
                proposed(llm, messages, tail), tail, asked, conversation, asked, verifier
            ):
                verdict = verifier.check(question, query)
                mark = "SAME" if verdict.same else "judge" if verdict.judge else "-"
                if not verdict.same and left_out(verifier, question, query, said):
                    mark = "ctx"
                print(f"   {'kept' if problem is None else 'drop'} {mark:5} {question}"
                      + (f"   [{problem}]" if problem else ""))  # fmt: skip
            print(f"  asked: {query}")
            say(llm, messages, asked, query)


if __name__ == "__main__":
    main()
