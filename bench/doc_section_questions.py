"""Would a question per section have been served? The chat model writes, for every section of
an attached document (cut as the document study cuts it), the one question a reader of that
part would type; each reader question of a document set is then paired with every one of them
and matched as a session matches (``sleepchat bench recall --judge --pairs OUT``: a pair
served is a reader question a section's precomputed answer would have answered).

    python bench/doc_section_questions.py --model PATH.gguf --set bench/doc_questions_testN.json \
        --doc NAME [--doc NAME ...] --out pairs.jsonl

Each pair's class names the document and the reader question's number, so the bench's table
says which reader questions were served.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from doc_questions import from_set
from llama_cpp import Llama

from sleepchat.core.memory.doc_sections import split

ASK = (
    "Write the one question a reader of this part would type into a chat box, which this part "
    "answers: short, specific, in plain words (about a task, an option, a default, a "
    "behaviour). Reply with the question only."
)


def section_question(llm: Llama, name: str, number: int, of: int, text: str) -> str:
    head = f"Below is part {number} of {of} of the document {name}."
    prompt = f"{head}\n\n<section>\n{text}\n</section>\n\n{ASK}"
    reply = llm.create_chat_completion(
        [{"role": "user", "content": prompt}], max_tokens=40, temperature=0
    )
    content = str(reply["choices"][0]["message"]["content"] or "").strip()  # type: ignore[index]
    return content.splitlines()[0] if content else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--set", type=Path, required=True, action="append")
    parser.add_argument("--doc", action="append", required=True, help="a document of the sets")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    llm = Llama(model_path=args.model, n_ctx=2048, n_threads=2, verbose=False)
    docs = {}
    for path in args.set:
        docs |= from_set(path)
    with tempfile.TemporaryDirectory() as tmp, args.out.open("w", encoding="utf-8") as out:
        for name in args.doc:
            make, questions = docs[name]
            parts = split(make(Path(tmp)).read_text(encoding="utf-8"))
            made = [section_question(llm, name, i, len(parts), t) for i, t in enumerate(parts, 1)]
            made = [q for q in made if q]
            print(f"{name}: {len(parts)} sections, {len(made)} questions", flush=True)
            for k, reader in enumerate(questions):
                for q in made:
                    row = {"predicted": q, "asked": reader.text, "same": True}
                    row |= {"class": f"para-{name.split()[0]}-{k + 1}", "split": "test"}
                    out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
