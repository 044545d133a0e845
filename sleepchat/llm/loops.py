"""Spotting a reply that has started to loop: the same run of words again and again.

Small models fall into loops (SmolLM2 once repeated itself for 4,000 tokens until the context
was full). A loop here is the tail of the reply being one block of words repeated: at least
three times, and over at least ``MIN_SPAN`` words, so a short refrain, a list with repeated
words or a table row pattern is not one. Words, not tokens, so every backend can use it.
"""

from __future__ import annotations

MAX_PERIOD = 200  # the longest repeated block looked for, in words (a long paragraph)
MIN_SPAN = 64  # the repeated tail must be at least this many words
MIN_REPEATS = 3


class LoopGuard:
    """Feed it the reply's text as it streams; ``looping`` turns true once it loops.

    For each period p it keeps how many words in a row equal the word p places before: a tail
    of ``run[p] + p`` words is then block-of-p periodic. Constant work per word and period.
    """

    def __init__(self, max_period: int = MAX_PERIOD, min_span: int = MIN_SPAN) -> None:
        self.max_period = max_period
        self.min_span = min_span
        self.words: list[str] = []
        self._runs = [0] * (max_period + 1)
        self._partial = ""  # a word still being streamed (no whitespace after it yet)
        self.looping = False

    def feed(self, text: str) -> bool:
        """Add streamed text; True once the reply loops."""
        if self.looping:
            return True
        pieces = (self._partial + text).split()
        ends_word = bool(text) and text[-1].isspace()
        self._partial = "" if ends_word or not pieces else pieces.pop()
        for word in pieces:
            if self._add(word):
                self.looping = True
                break
        return self.looping

    def _add(self, word: str) -> bool:
        words = self.words
        words.append(word)
        n = len(words) - 1
        looping = False
        for p in range(1, min(self.max_period, n) + 1):
            run = self._runs[p] + 1 if words[n] == words[n - p] else 0
            self._runs[p] = run
            span = run + p
            if span >= self.min_span and span >= MIN_REPEATS * p:
                looping = True
        return looping
