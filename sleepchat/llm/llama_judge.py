"""The recall judge's yes/no question on the embedded model, read from its log-probabilities.

Runs on the engine's worker thread. One forward pass over the question gives the logits of the
reply's first token; the margin is log P(yes) - log P(no) summed over the spellings of each
word that are one token ("yes", " Yes", ...), so no token is generated.

The judge must not cost the conversation its warm cache: llama.cpp holds one sequence, and the
judge's prompt shares no prefix with the chat's, so evaluating it would overwrite the history a
miss's reply is about to reuse. The chat's sequence is copied out first (a few ms per thousand
tokens) and put back after, so a miss prefills only its question, as without a judge.

Every judge question starts with the same instruction, and the first order goes on with the
predicted question: those starts are kept too (``Starts``, copies like the chat's), the
predictions' evaluated while idle, so after each chat turn put the history back a judged pair
prefills only the asked question in the first order and the two messages in the second, not
the instruction again.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sleepchat.core.ports import settled

log = logging.getLogger("sleepchat.llm")

MIN_START = 16  # tokens: a shorter shared start is not worth keeping
# Starts kept: the instruction and one per prediction (about 2 MB each on a 1.5B model, more
# on a larger one: the bytes are capped too).
MAX_STARTS = 16
MAX_STARTS_BYTES = 128 * 1024 * 1024
YES = ("yes", "Yes", "YES", " yes", " Yes")
NO = ("no", "No", "NO", " no", " No")


def single_tokens(llama: Any, words: Sequence[str]) -> list[int]:
    """The ids of those spellings the tokenizer keeps as one token."""
    out: set[int] = set()
    for word in words:
        ids = llama.tokenize(word.encode("utf-8"), False, False)
        if len(ids) == 1:
            out.add(int(ids[0]))
    return sorted(out)


@contextlib.contextmanager
def chat_cache_kept(llama: Any, llama_cpp: Any) -> Iterator[None]:
    """Whatever runs inside may overwrite the KV cache: the chat's is restored on the way out
    (or, if that fails, dropped, so the next request prefills from scratch: slower, never
    wrong)."""
    n = int(llama.n_tokens)
    if n == 0:
        yield
        return
    chat = CacheCopy()
    _saved(llama, llama_cpp, list(llama.input_ids[:n]), chat)
    try:
        yield
    finally:
        if not _restored(llama, llama_cpp, chat):
            log.info("the chat's cache could not be restored after judging: it will be rebuilt")


@dataclass
class CacheCopy:
    """A copy of the cache's one sequence and the tokens it holds: the chat's while judging,
    and the start every judge question shares (the engine keeps that one)."""

    tokens: list[int] = field(default_factory=list)
    state: Any = None  # the sequence's bytes, as llama.cpp wrote them
    size: int = 0


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _restored(llama: Any, llama_cpp: Any, copy: CacheCopy) -> bool:
    """Put the copy in the cache, after dropping what was there; False (the cache left empty)
    when there is no copy or llama.cpp refuses it."""
    llama._ctx.kv_cache_seq_rm(-1, 0, -1)
    if copy.state is None or not llama_cpp.llama_state_seq_set_data(
        llama._ctx.ctx, copy.state, copy.size, 0
    ):
        llama.n_tokens = 0
        return False
    n = len(copy.tokens)
    llama.input_ids[:n] = copy.tokens
    llama.n_tokens = n
    return True


def _saved(llama: Any, llama_cpp: Any, tokens: list[int], copy: CacheCopy) -> None:
    """Copy the cache, which holds exactly ``tokens``, into ``copy`` (left as it was when
    llama.cpp writes nothing)."""
    ctx = llama._ctx.ctx
    size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
    buffer = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0))
    if written > 0:
        copy.tokens, copy.state, copy.size = list(tokens), buffer, written


class Starts:
    """The judge questions' starts kept, the least recently used dropped first."""

    def __init__(self, limit: int = MAX_STARTS, max_bytes: int = MAX_STARTS_BYTES) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.copies: OrderedDict[tuple[int, ...], CacheCopy] = OrderedDict()

    def best(self, tokens: Sequence[int]) -> CacheCopy | None:
        """The longest start ``tokens`` begin with."""
        found = None
        for key, copy in self.copies.items():
            longer = found is None or len(key) > len(found.tokens)
            if longer and len(key) <= len(tokens) and tuple(tokens[: len(key)]) == key:
                found = copy
        if found is not None:
            self.copies.move_to_end(tuple(found.tokens))
        return found

    def add(self, copy: CacheCopy) -> None:
        self.copies[tuple(copy.tokens)] = copy
        self.copies.move_to_end(tuple(copy.tokens))
        while len(self.copies) > 1 and (
            len(self.copies) > self.limit
            or sum(c.size for c in self.copies.values()) > self.max_bytes
        ):
            self.copies.popitem(last=False)

    def clear(self) -> None:
        self.copies.clear()


def keep_starts(
    llama: Any,
    llama_cpp: Any,
    groups: Sequence[Sequence[list[int]]],
    prefill: Callable[[list[int], int, threading.Event], bool],
    starts: Starts,
    stop: threading.Event,
) -> int:
    """For each group (rendered questions that differ only where the asked question begins),
    evaluate the start they share and keep it, building on a start kept before; the chat's
    cache is put back. Returns how many were evaluated (none for starts kept already)."""
    wanted = []
    for group in groups:
        first = group[0]
        shared = min(common_prefix(first, other) for other in group[1:]) if group[1:] else 0
        shared = min(shared, len(first) - 1)  # the last token is always evaluated
        if shared >= MIN_START and tuple(first[:shared]) not in starts.copies:
            wanted.append((first, shared))
    if not wanted:
        return 0  # all kept already: the chat's cache is not even copied
    done = 0
    with chat_cache_kept(llama, llama_cpp):
        for first, shared in wanted:
            if stop.is_set():
                break
            base = starts.best(first[:shared])
            if base is None or not _restored(llama, llama_cpp, base):
                llama._ctx.kv_cache_seq_rm(-1, 0, -1)
                llama.n_tokens = 0
            if not prefill(first, shared, stop):
                break
            llama._ctx.kv_cache_seq_rm(-1, int(llama.n_tokens), -1)  # exactly the start
            copy = CacheCopy()
            _saved(llama, llama_cpp, first[:shared], copy)
            if copy.state is not None:
                starts.add(copy)
                done += 1
    return done


def yes_margins(
    llama: Any,
    llama_cpp: Any,
    prompts: Sequence[list[int]],
    prefill: Callable[[list[int], int, threading.Event], bool],
    ids: tuple[list[int], list[int]],
    stop_outside: tuple[float, float] | None = None,
    starts: Starts | None = None,
    stop: threading.Event | None = None,
) -> list[float]:
    """log P(yes) - log P(no) for the first token after each prompt (a rendered question),
    stopping after the first that settles the pair (``stop_outside``: ports.settled), or with
    fewer when ``stop`` is set (nobody waits for them). Each prompt prefills from the longest
    of ``starts`` it begins with, or from what the one before it left in the cache."""
    import numpy as np  # llama-cpp-python's own dependency

    yes, no = ids
    if not yes or not no:
        raise ValueError("the model's vocabulary has no one-token yes/no")
    vocab = int(llama._n_vocab)
    tiny = 1e-300  # a word the model rules out entirely: a large margin, not an infinite one
    margins: list[float] = []
    stop = stop or threading.Event()
    with chat_cache_kept(llama, llama_cpp):
        for tokens in prompts:
            kept = starts.best(tokens) if starts is not None else None
            cached = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
            if kept is not None and len(kept.tokens) > cached:
                _restored(llama, llama_cpp, kept)
            # The logits read are the last token's: evaluated with the rest, or again alone when
            # the whole question is cached (a step of its own costs a decode step: ~50 ms).
            if common_prefix(llama.input_ids[: llama.n_tokens], tokens) < len(tokens):
                if not prefill(tokens, len(tokens), stop):
                    break
            else:
                if not prefill(tokens, len(tokens) - 1, stop):
                    break
                llama.eval(tokens[-1:])
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(vocab,)
            ).astype(np.float64)
            weights = np.exp(logits - logits.max())
            margins.append(
                float(np.log(weights[yes].sum() + tiny) - np.log(weights[no].sum() + tiny))
            )
            if settled(margins[-1], stop_outside):
                break
    return margins
