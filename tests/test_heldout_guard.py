"""A guard on the frozen test splits: no file under sleepchat/ or tests/ (the data files aside)
quotes a sentence of a frozen split, or holds a rule phrase found in a frozen split and in no
tune data. A rule written from the test set would measure the test set; this test fails then."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FROZEN = [
    DATA / "recall_heldout.jsonl",
    DATA / "notes_heldout.jsonl",
    DATA / "recall_judge_fresh.jsonl",
    DATA / "recall_judge_test.jsonl",
    DATA / "recall_test4.jsonl",
    DATA / "recall_test5.jsonl",
    DATA / "question_voice_test2.jsonl",
    DATA / "recall_test6.jsonl",
    DATA / "restatement_test.jsonl",
    DATA / "restatement_test2.jsonl",
    ROOT / "bench" / "doc_questions_test.json",
    ROOT / "bench" / "doc_questions_test2.json",
    ROOT / "bench" / "doc_questions_test3.json",
    ROOT / "bench" / "doc_questions_test4.json",
    ROOT / "bench" / "doc_questions_test5.json",
    ROOT / "bench" / "doc_questions_test6.json",
    ROOT / "bench" / "doc_questions_test7.json",
    ROOT / "bench" / "doc_questions_test8.json",
    ROOT / "bench" / "doc_questions_test9.json",
    ROOT / "bench" / "doc_questions_test10.json",
    ROOT / "bench" / "doc_questions_test11.json",
    ROOT / "bench" / "doc_questions_test12.json",
    ROOT / "bench" / "doc_questions_test13.json",
    ROOT / "bench" / "doc_questions_test14.json",
    ROOT / "bench" / "doc_questions_test15.json",
    ROOT / "bench" / "doc_questions_test16.json",
    ROOT / "bench" / "doc_questions_test17.json",
    ROOT / "bench" / "doc_questions_test18.json",
    ROOT / "bench" / "doc_questions_test19.json",
    ROOT / "bench" / "doc_questions_test20.json",
    ROOT / "bench" / "doc_questions_test21.json",
    ROOT / "bench" / "doc_questions_test22.json",
    ROOT / "bench" / "doc_questions_test23.json",
    ROOT / "bench" / "doc_questions_test24.json",
    ROOT / "bench" / "doc_questions_test25.json",
    ROOT / "bench" / "doc_questions_test26.json",
    ROOT / "bench" / "doc_questions_test27.json",
    ROOT / "bench" / "doc_questions_test28.json",
    ROOT / "bench" / "doc_questions_test29.json",
    ROOT / "bench" / "doc_questions_test30.json",
    ROOT / "bench" / "doc_questions_test31.json",
    ROOT / "bench" / "doc_questions_test32.json",
    ROOT / "bench" / "doc_questions_test33.json",
    ROOT / "bench" / "doc_questions_test34.json",
    ROOT / "bench" / "doc_questions_test35.json",
    ROOT / "bench" / "doc_questions_test36.json",
    ROOT / "bench" / "doc_questions_test37.json",
    ROOT / "bench" / "doc_questions_test38.json",
    ROOT / "bench" / "doc_questions_test39.json",
    DATA / "recall_test7.jsonl",
    DATA / "recall_test8.jsonl",
    DATA / "recall_test9.jsonl",
    DATA / "recall_test10.jsonl",
    DATA / "recall_test11.jsonl",
    DATA / "recall_test12.jsonl",
    DATA / "recall_test13.jsonl",
    DATA / "recall_test14.jsonl",
    DATA / "recall_test15.jsonl",
    DATA / "recall_test16.jsonl",
    DATA / "recall_test17.jsonl",
    DATA / "recall_test18.jsonl",
    DATA / "recall_test19.jsonl",
    DATA / "recall_test20.jsonl",
    DATA / "recall_test21.jsonl",
    DATA / "recall_test22.jsonl",
    DATA / "recall_test23.jsonl",
    DATA / "recall_test24.jsonl",
    DATA / "recall_test25.jsonl",
    DATA / "recall_test26.jsonl",
    DATA / "recall_test27.jsonl",
    DATA / "recall_test28.jsonl",
    DATA / "recall_test29.jsonl",
    DATA / "recall_test30.jsonl",
    DATA / "recall_test31.jsonl",
    DATA / "recall_test32.jsonl",
    DATA / "recall_test33.jsonl",
    DATA / "recall_test34.jsonl",
    DATA / "recall_test35.jsonl",
    DATA / "recall_test36.jsonl",
    DATA / "recall_test37.jsonl",
    DATA / "recall_test38.jsonl",
    DATA / "recall_test39.jsonl",
    DATA / "recall_test40.jsonl",
    DATA / "recall_test41.jsonl",
    DATA / "recall_test42.jsonl",
    DATA / "recall_test43.jsonl",
    DATA / "recall_test44.jsonl",
    DATA / "recall_test45.jsonl",
    DATA / "recall_test46.jsonl",
    DATA / "recall_test47.jsonl",
    DATA / "recall_test48.jsonl",
    DATA / "recall_test49.jsonl",
    DATA / "recall_test50.jsonl",
    DATA / "recall_test51.jsonl",
    DATA / "recall_test52.jsonl",
    DATA / "recall_test53.jsonl",
    DATA / "recall_test54.jsonl",
    DATA / "recall_test55.jsonl",
    DATA / "recall_test56.jsonl",
    DATA / "recall_test57.jsonl",
    DATA / "context_test.jsonl",
    DATA / "context_test2.jsonl",
]
TUNE = [
    ROOT / "sleepchat" / "data" / "recall_tune.jsonl",
    ROOT / "sleepchat" / "data" / "context_tune.jsonl",
    DATA / "notes_conversations.jsonl",
    DATA / "question_voice.jsonl",
]
WINDOW = 7  # words: a quoted sentence shares a run this long; prose rarely does by chance
PHRASE = 3  # words: a rule phrase this long is distinctive (two-word ones are everyday English)
# Reviewed by hand: phrases a rule holds that the frozen splits happen to hold too, written where
# the splits could not be read (the follow-up catalogue came from a branch without them).
REVIEWED = {"can i get", "at what temperature does", "could i get"}
# The same for recall_test4.jsonl, read after its one measurement: everyday phrases of rules
# and tests that were there before a helper wrote it without reading them.
REVIEWED |= {"a copy of", "why is that", "i have a question"}
# The same for question_voice_test2.jsonl: a signal message and a follow-up phrasing that were
# there before a helper wrote it without reading them.
REVIEWED |= {"the first time", "tell me more"}
# The same for restatement_test.jsonl: follow-up phrasings of the catalogue, older than the set,
# and two fillers of the padding rule that the helper's brief itself named as examples (so the
# set's padded class is partly the brief's: the README says so).
REVIEWED |= {"why is it so", "why would that be", "what are the steps", "in a list"}
REVIEWED |= {"what are the downsides", "in my case", "on your advice"}
# And for restatement_test2.jsonl: older catalogue phrasings and a store message.
REVIEWED |= {"can you explain why", "tell me why", "a full one"}
# And doc_questions_test.json, read after its one measurement: a summary asked "in a few
# sentences" was not served, and the summary intent now takes lengths every summary meets; that
# set is tune for it from then on (doc_questions_test2.json was written before the change).
REVIEWED |= {"in a few sentences"}
# In the catalogue's "about it" forms since 2026-12-04, before doc_questions_test4.json was
# written (a question of it is these words).
REVIEWED |= {"what does it do"}
# doc_questions_test2.json and doc_questions_test4.json, read after their one measurement: the
# install and usage questions and the summary's facets now known for a file just attached hold
# some of their words, so those sets are tune for them (doc_questions_test5.json, written
# before these rules by a helper who read no code, measures them).
REVIEWED |= {"how do i install it", "how do i actually use it"}
REVIEWED |= {"who is it meant for"}
# In the summary intent's phrasings since the catalogue began, long before
# doc_questions_test5.json was written (a question of it holds these words).
REVIEWED |= {"in a nutshell"}
# doc_questions_test4.json and doc_questions_test6.json, read after their one measurement: what
# a code file provides is now precomputed and asked in a reader's words, and a summary asked in
# a sentence or two, so those sets are tune for them (doc_questions_test7.json, written while
# these rules were built by a helper who read no code, measures them).
REVIEWED |= {"what does it export", "in one or two sentences"}
# In the table follow-up's phrasings since the catalogue began, long before
# doc_questions_test7.json was written (a question of it holds these words; the set unread).
REVIEWED |= {"as a table"}
# doc_questions_test2, _test8 and _test9.json, read after their one measurement: what a project
# needs (versions, dependencies) is now precomputed and asked in a reader's words, and "how do I
# get it" is how to install it, so those sets are tune for them (doc_questions_test10.json was
# written before, and measured the code before these rules).
REVIEWED |= {"how do i get it", "is it tested on"}
REVIEWED |= {"does it have"}
# doc_questions_test8.json, read after its one measurement, asks "how do I run it" of a folder:
# how to run a file's program is how to use it (the phrase is everyday English too).
REVIEWED |= {"how do i run it"}
# In the follow-up catalogue long before recall_test7.jsonl was written by a helper who read no
# code (a message of it holds these everyday words; the set unread).
REVIEWED |= {"for a child", "what are the disadvantages"}
# A model's description in the catalogue, older than doc_questions_test11.json (a question of it
# holds these everyday words; the set unread).
REVIEWED |= {"the command line and"}
# doc_questions_test12.json, read after its one measurement: a how-question in a clause ("and
# how I install it", "tell me how I can use it") now asks how; the set is tune for it from then.
REVIEWED |= {"how i install it"}
# A request frame in the follow-up catalogue long before recall_test9.jsonl was written by a
# helper who read no code (a message of it holds these everyday words; the set unread).
REVIEWED |= {"could i see"}
# Older than recall_test11.jsonl (written by a helper who read no code; the set unread): a
# verifier example and a comment of the embedded judge share these everyday words with it.
REVIEWED |= {"how do i clean my oven", "for each group"}
# In a file's install phrasings long before recall_test13.jsonl was written by a helper who read
# no code (a message of it holds these everyday words; the set unread).
REVIEWED |= {"how to install"}
# A verifier docstring's example, older than recall_test14.jsonl (written by a helper who read
# no code; a message of it holds these everyday words; the set unread).
REVIEWED |= {"what is the weather"}
# The table intent's phrasing, in the catalogue since 2026-12-03, before recall_test15.jsonl was
# written (found by this guard; the set otherwise unread).
REVIEWED |= {"in a table"}
# A summary length in the catalogue since 1c337d8, before doc_questions_test18.json was written
# by a helper who read no code (found by this guard; the set otherwise unread).
REVIEWED |= {"in a sentence or two"}
# The simpler intent's phrasing, in the catalogue since it began, before recall_test18.jsonl was
# written (found by this guard; the set otherwise unread).
REVIEWED |= {"in simple terms"}
# The step-by-step intent's phrasing, in the catalogue since 2026-12-03, before recall_test20.jsonl
# was written (found by this guard; the set otherwise unread).
REVIEWED |= {"step by step"}
# The drawbacks intent's phrasing (in the catalogue since 2026-12-03) and the question kind's
# worked example in question.py (older still), before recall_test21.jsonl was written (found
# by this guard; the set otherwise unread).
REVIEWED |= {"what are the drawbacks", "what temperature does water boil at"}
# The direction check's example in verify.py (since 2026-11-27), before recall_test22.jsonl was
# written (found by this guard; the set otherwise unread).
REVIEWED |= {"celsius to kelvin"}
# The table intent's phrasing (since 2026-12-03) and a document's "table of contents" (since
# 2026-12-05), before recall_test23.jsonl was written (found by this guard; otherwise unread).
REVIEWED |= {"make a table", "table of contents"}
# The simpler intent's "for a five-year-old" (in the catalogue since 2026-12-03), before
# recall_test27.jsonl was written (found by this guard; the set otherwise unread).
REVIEWED |= {"for a five"}
# A docstring of the negation check in lined_up.py (since 2026-12-04), before recall_test29.jsonl
# was written (found by this guard; the set otherwise unread).
REVIEWED |= {"in the other"}
# recall_test28.jsonl and recall_test29.jsonl, read after their one measurement: a pressure's
# unit written out is now its letters, so those sets are tune for it from then
# (recall_test31.jsonl, written before by a helper who read no code, measures it).
REVIEWED |= {"per square inch"}
# The summary intent's "what problem does it solve" (in the catalogue since 2026-12-05), before
# doc_questions_test30.json was written (found by this guard; the set otherwise unread).
REVIEWED |= {"what problem does it solve"}
# The requirements intent's "to run it" (in the catalogue since 2026-12-05), before
# recall_test42.jsonl was written (found by this guard; the set otherwise unread).
REVIEWED |= {"to run it"}
# doc_questions_test29.json and doc_questions_test30.json, read after their one measurement:
# a title asked of its subject ("What's New in ...", "Why ...?") names it, so those sets are tune
# for it from then.
REVIEWED |= {"what s new in", "whats new in"}
# doc_questions_test23/24 were frozen unread at a session's start; a requirements phrasing of
# the document intents (5fdb64d, sessions older) is in one of them.
REVIEWED |= {"are there any"}
# The why-it intent of a file (doc_need.py, 2026-12-07) was read from reader questions of read
# sets (doc_questions_test5, 16 and 17 ask why not just use a tool, or how it is different):
# those are tune for it; doc_questions_test24 and 25, frozen unread before it, measure it.
REVIEWED |= {"why not just use", "why not just", "how is it different from"}
# doc_questions_test25.json, read after its one measurement: a summary asked as what problem it
# "is solving" was not served, and the summary intent now takes the progressive; that set is
# tune for it from then.
REVIEWED |= {"what problem is it solving"}
# The why-it intent's "instead of just" / "rather than just" (doc_need.py, 2026-12-07) were read
# from doc_questions_test26's attrs question once measured: that set is tune for them.
REVIEWED |= {"instead of just", "rather than just"}
# The step-by-step intent's "walk me through it" (in the catalogue since 2026-12-03), before
# recall_test38.jsonl was written (found by this guard; the set otherwise unread).
REVIEWED |= {"walk me through it"}
# The citation intent of a file (doc_intents.py, 2026-12-07) was read from a reader question of
# a read set (doc_questions_test16's ftfy question asks how to cite it in a research paper and
# whether there is a DOI): that set is tune for it. "how do i cite" and "how to cite" are also
# in read recall sets (citing a website), which it was not read from.
REVIEWED |= {
    "is there a doi", "how am i supposed to cite it", "a research paper", "how to cite",
    "how do i cite",
}
# A follow-up phrasing of the summary intent and the attach error's words, both long older than
# doc_questions_test32.json (written by a helper who read no code; the set unread).
REVIEWED |= {"what would i use it for", "a binary file"}
# The requirements intent's "version of python" (in the catalogue since doc_questions_test8's
# rules), older than recall_test48.jsonl (a message of it holds these everyday words; unread).
REVIEWED |= {"version of python"}
# Everyday words of comments and docstrings written long before context_test.jsonl (a helper
# who read no code; the set unread) holds them.
REVIEWED |= {"at a time", "with the same", "how much of"}
# Phrasings of the follow-up catalogue (followups.py, long before recall_test51.jsonl, written
# by a helper who read no code; the set unread) that messages of the set also hold.
REVIEWED |= {"what is the reason", "can you please"}
# The requirements intent's platforms (doc_intents.py): "can i use it on" was read from
# doc_questions_test33's reader question after its one measurement (tune for it); the others are
# everyday phrasings that recall sets hold about other things (running a game on a laptop).
REVIEWED |= {"can i use it on", "can i run it on", "can it run on", "will it work on"}
# A comment of the embedded judge and a polite opener of the follow-up catalogue, both long
# older than context_test2.jsonl (a helper who read no code; the set unread) holds them.
REVIEWED |= {"if that fails", "can i have"}
# How to get started, a phrasing of the usage intent (doc_intents.py), read from
# doc_questions_test33's reader question after its one measurement (tune for it).
REVIEWED |= {"how do i get started", "how do i get started with it"}
# What a module defines, a phrasing of what it provides (doc_intents.py), read from
# doc_questions_test33's reader question after its one measurement (tune for it).
REVIEWED |= {"what does it define"}
# Everyday words of a comment long older than recall_test53.jsonl (a helper who read no code;
# the set unread) holds them.
REVIEWED |= {"when they are"}
# A phrasing of the licence intent (doc_intents.py) long older than doc_questions_test36.json
# (a helper who read no code; the set unread) holds it.
REVIEWED |= {"what license is"}
# A phrasing of the licence intent and words of the follow-up catalogue, both long older than
# doc_questions_test37.json (a helper who read no code; the set unread) holds them.
REVIEWED |= {"how is it licensed", "all of them"}
# A phrasing of the follow-up catalogue long older than recall_test55.jsonl (a helper who read
# no code; the set unread) holds it.
REVIEWED |= {"give me the steps"}
# Which Python versions it is tested against (doc_intents.py; "tested on" and "tested with" long
# before): read from doc_questions_test37's reader question after its one measurement (tune
# for it).
REVIEWED |= {"is it tested"}
# Words of a config comment and a verifier comment, both long older than recall_test56.jsonl
# and doc_questions_test38.json (helpers who read no code; the sets unread) hold them.
REVIEWED |= {"through a proxy", "when it starts"}
# Everyday questions recall_judge_test.jsonl (written by a helper who read none of the code)
# shares with tests written before it existed: reviewed by hand, not rules fitted to the set.
PREDATING = {
    "how do i grow tomatoes",
    "how do i reverse a string in python",
    "how do i sort a list in python",
    "how long does it take to drive",
    "how long should i boil an egg",
    "what is 2 to the power of 10",
    # recall_test4.jsonl, likewise
    "how does a heat pump work",
    "how do i reverse a list in python",
    "why is my sourdough starter not rising",
    "when was the telephone invented",
    "who invented the telephone",
    "i have a question",
    # restatement_test.jsonl, likewise: everyday questions older tests already asked
    "should i learn go",
    "how do i cancel my netflix subscription",
    "can i take ibuprofen with coffee",
    "how do i delete a git branch",
    # restatement_test2.jsonl, likewise
    "what should i bring to a job interview",
    # recall_test8.jsonl, likewise: the judge tests' rewording, older than the set
    "how do i set up a compost",
    # an everyday politeness formula, read as politeness since a rewording of the (long read)
    # recall_heldout.jsonl was found to need it; fresh sets use it too
    "if you don t mind me asking",
    # recall_test9.jsonl, likewise: the verifier tests' everyday questions, older than the set
    "what s the difference between tcp and udp",
    "how do i copy files from my",
    # doc_questions_test.json: the tune set's question about heapq.py (bench/doc_questions.py),
    # older than the set, whose fix put it in the catalogue; and an everyday question a test of
    # the app's copy keys asked before it
    "what does this module do",
    "how do i install it",
    # doc_questions_test15.json (a helper who read no code): a question of it is a follow-up
    # catalogue test's phrasing written the day before the set (found by this guard; the set
    # otherwise unread)
    "so what does this library actually do",
    # recall_test15.jsonl (a helper who read no code): the recall tests' everyday egg question,
    # written 2026-11-27, shares five words with one of its pairs (found by this guard)
    "how long should i boil an egg for a soft yolk",
    # recall_test16.jsonl (a helper who read no code): the phrasal-verb rule's example, written
    # earlier on 2026-12-06, is an everyday phrase of one of its pairs (found by this guard)
    "how do i get it out",
    # recall_test18.jsonl (a helper who read no code): the verifier's how-to example, written
    # before recall_test11.jsonl, is an everyday question of one of its pairs (found by this
    # guard; the one pair seen by the search that showed where the example was)
    "how do i clean my oven",
    # recall_test19.jsonl (a helper who read no code): the verifier tests' everyday cat
    # question, written 2026-12-05, is a whole question of one of its pairs (found by this guard)
    "why do cats purr",
    # recall_test23.jsonl (a helper who read no code): the verifier tests' coffee-grind
    # question, written earlier on 2026-12-06, shares its words with one of its pairs (found by
    # this guard)
    "what grind size should i use for",
    # recall_test24.jsonl (a helper who read no code): the verifier tests' airport direction
    # look-alike, written 2026-11-27, shares its opening with one of its pairs (found by this
    # guard)
    "how do i get from the airport to",
    # recall_test25.jsonl (a helper who read no code): the verifier tests' toddler question
    # (written earlier on 2026-12-06) and the queued-question tests' sourdough starter
    # (2026-12-04) are everyday questions of two of its pairs (found by this guard)
    "what do i do if my toddler swallows a",
    "what do i do if my toddler has swallowed a",
    "how do i keep my sourdough starter alive while i",
    # recall_test27.jsonl (a helper who read no code): three of the verifier tests' everyday
    # questions (apple trees, a scarf, written earlier on 2026-12-06; an espresso machine, this
    # session's, before the set) are everyday questions of its pairs (found by this guard)
    "what is the best time to prune apple trees",
    "how do i knit a scarf",
    "how do i descale an espresso machine",
    # recall_test28.jsonl (a helper who read no code): the verifier tests' filler opening
    # (written 2026-12-06, before the set) is a filler opening of one of its pairs (found by
    # this guard)
    "sorry if this is a silly question but how do i",
    # recall_test34.jsonl (a helper who read no code): the added kind's quinoa example
    # (verify.py and its tests, since 2026-12-04) and the verifier tests' kettle question
    # (2026-12-06) are everyday questions of two of its pairs (found by this guard)
    "how do i cook quinoa",
    "how do i descale my kettle",
    # recall_test35.jsonl (a helper who read no code): the verifier tests' late-train refund
    # question (2026-12-06) opens as one of its pairs does (found by this guard)
    "can i get a refund if my",
    # recall_test36.jsonl (a helper who read no code): the verifier tests' filler opening about
    # a silly question (written 2026-12-06, before the set) opens one of its pairs (found by this
    # guard)
    "i hope this isn t a silly question but",
    # recall_test37.jsonl (a helper who read no code): a comment on request verbs in question.py
    # (written 2026-12-06, before the set) quotes a greeting that is a sentence of one of its
    # pairs (found by this guard)
    "i hope you can help",
    # ... and the verifier tests' reupholstering cost (2026-12-06) is an everyday question of one
    # of its pairs (found by this guard)
    "how much does it cost to reupholster a chair",
    # recall_test38.jsonl (a helper who read no code): the verifier tests' sneezing kitten
    # (written 2026-12-06, before the set) opens one of its pairs (found by this guard)
    "is it normal for a kitten to sneeze a lot",
    # recall_test41.jsonl (a helper who read no code): the verifier tests' loud laptop fan and
    # the word-pairing tests' houseplants for a dark flat (both written before the set) are
    # everyday questions of two of its pairs (found by this guard)
    "why does my laptop fan get so loud",
    "which houseplants are easy to care for in",
    # recall_test42.jsonl (a helper who read no code): the recall tests' Windows install
    # question (written 2026-11-27, before the set) is an everyday question of one of its pairs
    # (found by this guard)
    "how do i install python on windows",
    # recall_test43.jsonl (a helper who read no code): the recall tests' list-and-tuple question
    # (written 2026-11-27, before the set) is an everyday question of one of its pairs (found by
    # this guard)
    "what is the difference between a list and a tuple",
    # recall_test46.jsonl (a helper who read no code): the verifier tests' kayak question
    # (written before the set) asks as one of its pairs does (found by this guard)
    "is it better to rent or buy a",
    # recall_test48.jsonl (a helper who read no code): the verifier tests' gift question for a
    # boss (in them since the verifier began) asks as one of its pairs does (found by this guard)
    "what should i buy my boss for christmas",
    # context_test.jsonl (a helper who read no code): the recall tests' feeding question (in
    # them since the façade) asks as one of its rows does (found by this guard)
    "how often should i feed",
    # recall_test49.jsonl (a helper who read no code): the verifier tests' descaling question
    # (written before the set) asks as one of its pairs does (found by this guard)
    "how do i descale a coffee machine",
    # recall_test50.jsonl (a helper who read no code): two of the verifier tests' questions
    # (the Oslo airport one and a gift for a mum, both written before the set) open as its
    # pairs do (found by this guard)
    "what is the fastest way to get",
    "should i buy my mum for her",
    # context_test2.jsonl (a helper who read no code): the sleep-cycle tests' tomato question
    # (written long before the set) asks as one of its rows does (found by this guard)
    "how often should i fertilize",
    # recall_test55.jsonl (a helper who read no code): the verifier tests' Oslo weather question
    # (written long before the set) asks as one of its pairs does (found by this guard)
    "what will the weather be like in",
}


# Phrasings read from a reader question of a read set, for a rule that is tune for that set
# (REVIEWED says which): quoted by the rule and its tests.
READ_FROM = {"is there a doi", "how am i supposed to cite it", "how do i get started with it"}


def predating(run: str) -> bool:
    """The run is, or shares five words in a row with, a reviewed everyday question, or is a
    phrasing a rule was read from."""
    if run in PREDATING or run in READ_FROM:
        return True
    fives = set(runs(run, 5))
    return any(fives & set(runs(p, 5)) for p in PREDATING)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# A set's own description (when and by whom it was written), which these files repeat.
METADATA = frozenset({"written", "by"})


def texts(path: Path) -> Iterator[str]:
    """Every string of a JSONL data file (questions, turns, facts), or of a JSON one."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in METADATA:
                    yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    if path.suffix == ".json":
        yield from walk(json.loads(path.read_text("utf-8")))
        return
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            yield from walk(json.loads(line))


def corpus(paths: list[Path]) -> str:
    """All sentences as " w w w " runs separated by "|", so no run crosses two texts."""
    parts = []
    for path in paths:
        for text in texts(path):
            parts += [" ".join(words(s)) for s in re.split(r"[.?!;:\n]+", text)]
    return " | ".join(p for p in parts if p)


def runs(text: str, n: int) -> set[str]:
    """The sentence itself (4 words or more) and its runs of ``n`` words."""
    w = words(text)
    whole = {" ".join(w)} if len(w) >= 4 else set()
    return whole | {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


def scanned() -> list[Path]:
    files = [p for d in ("sleepchat", "tests") for p in (ROOT / d).rglob("*") if p.is_file()]
    return [
        p for p in files
        if DATA not in p.parents and p.parent.name != "data" and "__pycache__" not in p.parts
        and p.suffix in {".py", ".md", ".txt", ".yaml", ".toml", ".json", ".tcss"}
    ]


def test_no_file_quotes_a_sentence_of_a_frozen_split() -> None:
    tune = f" {corpus(TUNE)} "
    frozen: set[str] = set()
    for path in FROZEN:
        for text in texts(path):
            for sentence in re.split(r"[.?!;:\n]+", text):
                found = {r for r in runs(sentence, WINDOW) if f" {r} " not in tune}
                frozen |= {r for r in found if not predating(r)}
    by_start: dict[str, list[str]] = {}  # a run's first three words: only those are searched
    for r in frozen:
        by_start.setdefault(" ".join(r.split()[:3]), []).append(r)
    quoted = []
    for path in scanned():
        w = words(path.read_text("utf-8", errors="replace"))
        body = f" {' '.join(w)} "
        starts = {" ".join(w[i : i + 3]) for i in range(len(w) - 2)} & by_start.keys()
        found = [r for key in starts for r in by_start[key] if f" {r} " in body]
        quoted += [f"{path.relative_to(ROOT)}: {r!r}" for r in found]
    assert quoted == []


def test_no_rule_phrase_is_found_only_in_a_frozen_split() -> None:
    tune, frozen = f" {corpus(TUNE)} ", f" {corpus(FROZEN)} "
    fitted = []
    for path in scanned():  # the rules live in the package; tests are held to the sentences
        if path.suffix != ".py" or "sleepchat" not in path.relative_to(ROOT).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            # A regex or a word list: its literal runs of words are its phrases.
            for run in re.split(r"[^a-zA-Z' ]+|\s{2,}", node.value):
                phrase = " ".join(words(run))
                distinct = len(phrase.split()) >= PHRASE and f" {phrase} " not in tune
                if distinct and f" {phrase} " in frozen and phrase not in REVIEWED:
                    fitted.append(f"{path.relative_to(ROOT)}: {phrase!r}")
    assert fitted == []
