"""The judge's kept starts on the embedded model (llama_judge.Starts): which one a question
resumes from, and what is dropped when they would take too much memory."""

from __future__ import annotations

from sleepchat.llm.llama_judge import CacheCopy, Starts


def copy(*tokens: int, size: int = 10) -> CacheCopy:
    return CacheCopy(list(tokens), state=object(), size=size)


def test_a_question_resumes_from_the_longest_start_it_begins_with() -> None:
    starts = Starts()
    instruction, prediction, other = copy(1, 2), copy(1, 2, 3, 4), copy(1, 2, 9)
    for c in (instruction, prediction, other):
        starts.add(c)
    assert starts.best([1, 2, 3, 4, 5, 6]) is prediction
    assert starts.best([1, 2, 3, 7]) is instruction  # the prediction's start does not fit
    assert starts.best([1, 2]) is instruction
    assert starts.best([2, 1, 3]) is None


def test_the_least_recently_used_start_goes_first_past_the_count_or_the_bytes() -> None:
    starts = Starts(limit=3, max_bytes=1000)
    a, b, c, d = copy(1), copy(2), copy(3), copy(4)
    for x in (a, b, c):
        starts.add(x)
    assert starts.best([1, 5]) is a  # used: now the most recent
    starts.add(d)
    assert list(starts.copies.values()) == [c, a, d]  # b, the least recently used, went
    starts.add(copy(5, size=995))  # over the bytes: the oldest go until it fits
    assert [k for k in starts.copies] == [(5,)]
    starts.add(copy(6, size=2000))  # one alone larger than the cap is still kept
    assert [k for k in starts.copies] == [(6,)]
