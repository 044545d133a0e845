"""A document's own description of itself, whose words idle time wants its summary to hold: the
sentence a reader's "what is it?" is answered from, not a history, a badge or a file name."""

from __future__ import annotations

from sleepchat.core.memory.doc_lead import MAX_CHARS, lead_of
from sleepchat.core.models import Document


def doc(name: str, text: str) -> Document:
    return Document("d1", "s1", name, text, 1, len(text) // 4, 0.0)


README = """# driftwood

[![build](https://ci.example/badge.svg)](https://ci.example)
![logo](logo.png)

- fast
- small

Back in 2019 we needed to sync folders between boats over flaky radio links.

**driftwood** is a `rsync`-style tool that syncs folders over lossy links with
[erasure codes](https://example.org/ec).

## Install

    pip install driftwood
"""


def test_a_readme_is_described_by_its_first_paragraph_that_names_it() -> None:
    lead = lead_of(doc("README.md", README))
    # past the title, badges, a list and a story that does not name it; markup taken off
    assert lead == (
        "driftwood is a rsync-style tool that syncs folders over lossy links with erasure codes."
    )


def test_a_name_inside_a_file_name_or_an_address_is_not_the_subject() -> None:
    text = (
        "# driftwood\n\nThe settings live in driftwood.toml next to the data folder.\n\n"
        "Docs are at https://driftwood.example.org for every release we made.\n"
    )
    # nothing names it as a word: the opening paragraph, whatever it says
    assert lead_of(doc("README.md", text)) == (
        "The settings live in driftwood.toml next to the data folder."
    )


def test_a_hyphenated_name_is_found_written_as_one_word() -> None:
    text = "# tide-table\n\nSome history of tides here in six words.\n\nA TideTable holds the "
    text += "predicted high and low waters of one harbour.\n"
    assert lead_of(doc("tide-table-README.md", text)).startswith("A TideTable holds")


def test_a_module_is_described_by_its_docstring_past_its_title() -> None:
    text = '"""\n    driftwood.sync\n    ~~~~~~~~~~~~~~\n\n    Syncs two folders over a lossy '
    text += 'link, block by block.\n\n    Details follow.\n"""\n\nimport os\n'
    assert lead_of(doc("sync.py", text)) == "Syncs two folders over a lossy link, block by block."
    assert lead_of(doc("broken.py", "def f(:\n")) == ""  # no docstring to read: nothing quoted


def test_a_paper_is_described_by_its_title() -> None:
    text = (
        "---\ntitle: 'Driftwood: erasure-coded folder sync for lossy links'\ntags:\n  - Python\n"
        "---\n\n# Summary\n\nNetworks at sea lose packets.\n"
    )
    assert lead_of(doc("paper.md", text)) == "Driftwood: erasure-coded folder sync for lossy links"


def test_a_long_opening_is_cut_at_a_sentence_end() -> None:
    sentence = "Driftwood syncs folders over lossy links with erasure codes and retries. "
    lead = lead_of(doc("README.md", "# driftwood\n\n" + sentence * 10))
    assert len(lead) <= MAX_CHARS and lead.endswith("retries.") and lead.startswith("Driftwood")
