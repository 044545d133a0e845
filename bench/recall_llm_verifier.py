"""The option not taken: the chat model as the recall verifier. SmolLM2-135M is asked on its warm
cache (a short conversation already evaluated) whether two questions ask the same thing, one
token, its probability of "yes" as the score; on the tune half of sleepchat/data/recall_tune.jsonl.
Prints how well the score separates the pairs, and its cost beside generating an answer from
the same warm cache, in one run (issue #10: a model verifier must cost < 5 % of the answer).

Usage: python bench/recall_llm_verifier.py [--answers N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from llama_cpp import Llama

from sleepchat.core.defaults import DEFAULT_SYSTEM_PROMPT
from sleepchat.llm.local_models import packaged_path
from sleepchat.recall_bench import load_pairs

PAIRS = Path(__file__).resolve().parent.parent / "sleepchat" / "data" / "recall_tune.jsonl"
HISTORY = [
    ("user", "I want to bake bread this weekend but my oven runs hot."),
    ("assistant", "Lower the temperature by about 15 degrees and check the loaf ten minutes "
     "early. A thermometer inside the oven tells you how far off it is."),
    ("user", "Good idea. I also have only whole wheat flour."),
    ("assistant", "Whole wheat works; it absorbs more water, so add about 10% more and expect "
     "a denser crumb. A longer rise helps."),
]


def render(messages: list[tuple[str, str]]) -> str:
    return "".join(f"<|im_start|>{role}\n{text}<|im_end|>\n" for role, text in messages)


def first_tokens(llm: Any, words: list[str]) -> list[int]:
    return sorted({llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5, help="answers generated for the cost")
    args = parser.parse_args()
    llm = Llama(
        model_path=str(packaged_path("smollm2")),
        n_ctx=2048,
        n_threads=1,  # one core: the other is the machine's (and the embedding model's)
        n_threads_batch=1,
        verbose=False,
    )
    prefix = llm.tokenize(
        render([("system", DEFAULT_SYSTEM_PROMPT), *HISTORY]).encode(), add_bos=False, special=True
    )
    llm.reset()
    llm.eval(prefix)  # the warm cache
    yes = first_tokens(llm, ["yes", " yes", "Yes", " Yes"])
    no = first_tokens(llm, ["no", " no", "No", " No"])

    def suffix(user: str) -> list[int]:
        text = render([("user", user)]) + "<|im_start|>assistant\n"
        return list(llm.tokenize(text.encode(), add_bos=False, special=True))

    scores: list[tuple[float, bool]] = []
    verify_ms: list[float] = []
    pairs = load_pairs(PAIRS, split="tune")
    for pair in pairs:
        tokens = suffix(
            "Do these two questions ask for exactly the same thing, so that one answer fits "
            f"both?\n1. {pair.predicted}\n2. {pair.asked}\nAnswer yes or no."
        )
        llm.n_tokens = len(prefix)  # back to the warm prefix: only the new tokens are prefilled
        start = time.perf_counter()
        llm.eval(tokens)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
        verify_ms.append((time.perf_counter() - start) * 1000)
        p = np.exp(logits - logits.max())
        scores.append((float(p[yes].sum() / (p[yes].sum() + p[no].sum())), pair.same))
    answer_ms: list[float] = []
    answer_tokens: list[int] = []
    for pair in pairs[:: max(1, len(pairs) // args.answers)][: args.answers]:
        llm.n_tokens = len(prefix)
        start, n = time.perf_counter(), 0
        for token in llm.generate(suffix(pair.predicted), temp=0.0, reset=False):
            if llm.token_eos() == token or n >= 400:
                break
            if llm.detokenize([token], special=True) == b"<|im_end|>":
                break
            n += 1
        answer_ms.append((time.perf_counter() - start) * 1000)
        answer_tokens.append(n)
    pos = [s for s, same in scores if same]
    neg = [s for s, same in scores if not same]
    auc = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / (len(pos) * len(neg))
    safe = sum(s > max(neg) for s in pos)
    print(f"tune half: {len(pos)} same, {len(neg)} different pairs")
    print(f"AUC {auc:.3f}; mean p(yes): same {statistics.mean(pos):.3f}, different "
          f"{statistics.mean(neg):.3f}; served with no false hit: {safe}/{len(pos)}")
    verify, answer = statistics.median(verify_ms), statistics.median(answer_ms)
    print(f"verify: median {verify:.0f} ms; answer ({statistics.mean(answer_tokens):.0f} tokens "
          f"on average): median {answer:.0f} ms; verify / answer = {verify / answer:.1%}")


if __name__ == "__main__":
    main()
