"""What the recall judge is shown, compared on labelled pairs: each way scored on the pairs the
word rules leave to a judge, then calibrated as ``sleepchat bench recall --calibrate`` does, and
the rewordings served above every look-alike printed by kind. Tune figures: the default pairs
are the 818 shipped for calibration, all read while the rules were written.

Ways (``--way``, repeatable): ``shipped``; ``examples`` (worked examples in the system message);
``turns`` (worked examples as earlier turns of the chat); ``plain`` (the asked question read
plain: shortenings written out, greetings, hedges and chat filler dropped, a word that is no
word and one slip from a word of the predicted question read as that word); ``shorthand``
(a sentence more in the system message: misspellings, slang and shorthand ask the same); ``self``
(the margin less each question's margin asked against itself, at a few weights).

    python bench/judge_prompts.py --model PATH.gguf [--way W ...] [--pairs F ...]
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable

from sleepchat.core.ports import ChatMessage
from sleepchat.core.recall import judge
from sleepchat.core.recall.question import expand
from sleepchat.core.recall.verify import Verifier, judge_kind
from sleepchat.core.recall.wordlists import FILLER, HEDGE_RE, INTERJECTIONS, POLITE_RE
from sleepchat.judge_bench import kind_levels, tune_pairs_path
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.recall_bench import Pair, load_all

# Our own examples (predicted, asked, answer): rewordings and look-alikes of a few questions.
EXAMPLES = [
    (
        "How do I get rid of fruit flies in my kitchen?",
        "best way to eliminate kitchen fruit flies",
        "yes",
    ),
    ("What temperature should I bake salmon at?", "What temperature should I bake cod at?", "no"),
    ("What temperature should I bake salmon at?", "salmon oven temp?", "yes"),
    (
        "How long should I rest a steak after grilling it?",
        "How long should I marinate a steak before grilling it?",
        "no",
    ),
    (
        "How long should I rest a steak after grilling it?",
        "once a steak comes off the grill, how long do you let it sit?",
        "yes",
    ),
    ("Why does my laptop fan get so loud?", "Why does my laptop get so hot?", "no"),
    ("Why does my laptop fan get so loud?", "hey quick q, why's my laptop fan so noisy", "yes"),
    (
        "Can baking soda stand in for baking powder?",
        "Can baking powder stand in for baking soda?",
        "no",
    ),
    ("What are the symptoms of dehydration?", "Tell me the signs of being dehydrated.", "yes"),
    ("What are the symptoms of dehydration?", "What causes dehydration?", "no"),
    (
        "How do I stop my cat from scratching the sofa?",
        "how to keep my cat from clawing the couch",
        "yes",
    ),
    ("How do I cook brown rice?", "How do I cook brown rice in a microwave?", "no"),
]
# Six of them as earlier turns of the chat, a rewording and a look-alike in turn.
TURNS = [EXAMPLES[n] for n in (2, 3, 10, 9, 6, 11)]
SHORTHAND = (
    " Misspelt words, slang, chat shorthand, greetings and missing little words do not change "
    "what is asked."
)
Messages = Callable[[str, str], list[ChatMessage]]
DROPPED = FILLER - {"very", "quite", "really", "actually", "maybe", "perhaps"}


def with_system(extra: str) -> Messages:
    """The judge's questions with ``extra`` after the shipped system message."""

    def messages(a: str, b: str) -> list[ChatMessage]:
        out = judge.judge_messages(a, b)
        out[0] = {"role": "system", "content": judge.SYSTEM + extra}
        return out

    return messages


SHOWN = "\n".join(f'A: "{x}" B: "{y}" -> {yes}' for x, y, yes in EXAMPLES)


def as_turns(a: str, b: str) -> list[ChatMessage]:
    first, *rest = judge.judge_messages(a, b)
    turns: list[ChatMessage] = []
    for x, y, yes in TURNS:
        turns += [judge.judge_messages(x, y)[1], {"role": "assistant", "content": yes}]
    return [first, *turns, *rest]


def plain(asked: str, predicted: str, verifier: Verifier) -> str:
    text = HEDGE_RE.sub(" , ", POLITE_RE.sub(" , ", expand(asked)))
    theirs = re.findall(r"[a-z']+", expand(predicted))

    def read(m: re.Match[str]) -> str:
        w = m.group(0)
        if verifier.lexicon is None or w in verifier.lexicon:
            return w
        meant = {y for y in theirs if y != w and verifier._typo(w, y)}
        return meant.pop() if len(meant) == 1 else w

    text = re.sub(r"!+", " , ", re.sub(r"[a-z]+", read, text))
    text = " ".join(w for w in text.split() if w.strip("?.,") not in DROPPED or not w.strip("?.,"))
    parts = [p.split() for p in re.split(r"\s*,\s*", text)]
    kept = [" ".join(p[1:] if p and p[0] in INTERJECTIONS else p) for p in parts]
    text = ", ".join(p for p in kept if p and p not in {"?", "."})
    return re.sub(r"\s+([?.!])", r"\1", text).strip(" ,") or asked


async def margins(
    model: LlamaCppBackend,
    pairs: list[tuple[Pair, str]],
    messages: Messages,
    shown: Callable[[Pair], str],
) -> list[float]:
    out = []
    for pair, _kind in pairs:
        asked = shown(pair)
        await model.keep_judge_starts([[messages(pair.predicted, x) for x in judge.PROBES]])
        found = await model.yes_margins(
            [messages(pair.predicted, asked), messages(asked, pair.predicted)]
        )
        out.append(judge.mean(*found))
    return out


def served(pairs: list[tuple[Pair, str]], scores: list[float]) -> tuple[int, dict[str, str]]:
    """Rewordings served at the levels a calibration on these pairs would set, by kind."""
    levels = kind_levels([(k, s, p.same) for (p, k), s in zip(pairs, scores, strict=True)])
    hits = {kind: k.hits if k.level is not None else 0 for kind, k in levels.items()}
    by_kind = {kind: f"{hits[kind]}/{k.positives}" for kind, k in levels.items()}
    return sum(hits.values()), by_kind


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    ways = ["shipped", "examples", "turns", "plain", "shorthand", "self"]
    parser.add_argument("--way", action="append", choices=ways)
    parser.add_argument("--pairs", action="append")
    args = parser.parse_args()
    verifier = Verifier.default()
    loaded = load_all(args.pairs or tune_pairs_path(), None)
    found = [(p, verifier.check(p.predicted, p.asked)) for p in loaded]
    pairs = [(p, judge_kind(v)) for p, v in found if v.judge]
    model = LlamaCppBackend(args.model, n_ctx=4096, seed=0)
    as_asked: Callable[[Pair], str] = lambda p: p.asked  # noqa: E731
    read_plain: Callable[[Pair], str] = lambda p: plain(p.asked, p.predicted, verifier)  # noqa: E731
    ways_shown: dict[str, tuple[Messages, Callable[[Pair], str]]] = {
        "examples": (with_system(f" Examples:\n{SHOWN}"), as_asked),
        "turns": (as_turns, as_asked),
        "shorthand": (with_system(SHORTHAND), as_asked),
        "plain": (judge.judge_messages, read_plain),
    }
    try:
        shipped = await margins(model, pairs, judge.judge_messages, as_asked)
        for way in args.way or ways:
            if way == "self":
                alone = {}
                for q in {q for p, _ in pairs for q in (p.predicted, p.asked)}:
                    alone[q] = (await model.yes_margins([judge.judge_messages(q, q)]))[0]
                for a, b in ((0.25, 0.0), (0.5, 0.0), (1.0, 0.0), (0.0, 0.25), (0.0, 1.0)):
                    scores = [
                        s - a * alone[p.predicted] - b * alone[p.asked]
                        for (p, _), s in zip(pairs, shipped, strict=True)
                    ]
                    print(f"self (predicted x{a}, asked x{b})", *served(pairs, scores), flush=True)
                continue
            if way == "shipped":
                scores = shipped
            else:
                messages, shown = ways_shown[way]
                scores = await margins(model, pairs, messages, shown)
            print(way, *served(pairs, scores), flush=True)
    finally:
        await model.aclose()


if __name__ == "__main__":
    asyncio.run(main())
