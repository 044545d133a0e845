"""An option for recall measured, not shipped: sleep-time rewordings. While idle, the model
writes a few rewordings of each predicted question; a rewording the word rules veto against the
original is discarded; a question is then served when the rules alone pair it with the original
or with any kept rewording (no model call after the user asks).

On labelled pairs (default: the tune pairs shipped with sleepchat, read while the rules were
written: a tune figure). Prints rewordings and look-alikes served, with the rules alone and with
the rewordings, by class, and the idle time the rewordings took.

    python bench/recall_rewordings.py --model PATH.gguf [--pairs FILE] [--count 4] [--every N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from sleepchat.core.recall.verify import Verifier
from sleepchat.recall_bench import load_pairs

PAIRS = Path(__file__).resolve().parent.parent / "sleepchat" / "data" / "recall_tune.jsonl"
ASK = (
    "Write {n} other ways a person might ask exactly this question, each in their own words, "
    "keeping every detail (numbers, names, places, who and what). One per line, no numbering, "
    "nothing else.\nQuestion: {q}"
)
_LEAD = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\(?[a-z]\))\s*")


def rewordings(llm: Any, question: str, count: int) -> list[str]:
    reply = llm.create_chat_completion(
        messages=[
            {"role": "system", "content": "You are a careful assistant."},
            {"role": "user", "content": ASK.format(n=count, q=question)},
        ],
        max_tokens=40 * count,
        temperature=0.0,
    )
    text = reply["choices"][0]["message"]["content"] or ""
    lines = [_LEAD.sub("", line).strip().strip('"').strip() for line in text.splitlines()]
    return [line for line in lines if line.endswith("?")][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model")
    parser.add_argument("--pairs", default=str(PAIRS))
    parser.add_argument("--count", type=int, default=4, help="rewordings per predicted question")
    parser.add_argument("--every", type=int, default=1, help="only every Nth pair")
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)[:: args.every]
    llm = Llama(model_path=args.model, n_ctx=1024, n_threads=2, verbose=False)
    verifier = Verifier.default()
    made: dict[str, list[str]] = {}
    times: list[float] = []
    kept_counts: list[int] = []
    for predicted in dict.fromkeys(p.predicted for p in pairs):
        started = time.perf_counter()
        written = rewordings(llm, predicted, args.count)
        times.append(time.perf_counter() - started)
        kept = [r for r in written if (v := verifier.check(predicted, r)).same or v.judge]
        kept_counts.append(len(kept))
        made[predicted] = kept
    served_rules: Counter[str] = Counter()
    served_more: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for pair in pairs:
        key = ("rewording" if pair.same else "look-alike") + (f" / {pair.cls}" if pair.cls else "")
        total[key] += 1
        alone = verifier.check(pair.predicted, pair.asked).same
        via = any(verifier.check(r, pair.asked).same for r in made[pair.predicted])
        served_rules[key] += alone
        served_more[key] += alone or via
    print(f"{args.model}: {len(made)} predicted questions, {args.count} rewordings asked each")
    print(
        f"rewordings kept after the veto: {statistics.fmean(kept_counts):.1f} a question; "
        f"idle time {statistics.median(times):.2f} s median a question"
    )
    for kind in ("rewording", "look-alike"):
        keys = [k for k in total if k.startswith(kind)]
        rules = sum(served_rules[k] for k in keys)
        more = sum(served_more[k] for k in keys)
        n = sum(total[k] for k in keys)
        print(f"{kind}s served: rules alone {rules}/{n}, with rewordings {more}/{n}")
        for k in sorted(keys):
            if served_more[k] != served_rules[k]:
                print(f"  {k}: {served_rules[k]} -> {served_more[k]} of {total[k]}")


if __name__ == "__main__":
    main()
