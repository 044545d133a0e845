"""Questions a reader asks about an attached public document, through script mode on the
embedded model (SLEEPCHAT_LOCAL_MODEL picks it): how many were served precomputed, how many
answers hold what the document says, and the first question's time to first token after an
idle period vs asked at once (the document not yet in the server's cache).

Documents: TinyDB's README (from its installed package metadata) and the standard library's
heapq.py (a code file longer than the room for documents). The questions and the words a right
answer holds were written from the documents before any run.

Usage: python bench/doc_questions.py
"""

from __future__ import annotations

import heapq
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Question:
    text: str
    holds: tuple[str, ...]  # every one of these, in any case, in a right answer


def tinydb_readme(folder: Path) -> Path:
    path = folder / "tinydb-README.rst"
    path.write_text(metadata.metadata("tinydb").get_payload(), encoding="utf-8")  # type: ignore[attr-defined]
    return path


DOCS = {
    "tinydb README": (
        tinydb_readme,
        [
            Question("Can you summarize it?", ("database",)),
            Question("Does it need any external dependencies?", ("no",)),
            Question("Which Python versions does it support?", ("3.8",)),
        ],
    ),
    "heapq.py": (
        lambda folder: Path(heapq.__file__),
        [
            Question("What does this module do?", ("heap",)),
            Question("What does heappushpop do?", ("push", "pop")),
            Question("What is the time complexity of heappush?", ("log",)),
        ],
    ),
}


def run_script(lines: list[str], data: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sleepchat",
            "--backend",
            "local",
            "--data-dir",
            str(data),
            "--script",
            "-",
            "--json",
        ],
        input="\n".join(lines).encode(),
        capture_output=True,
        timeout=3600,
        env={**os.environ},
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode()[-2000:])
    return [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]


def replies(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in events if e.get("type") == "reply"]


def main() -> None:
    served = right = asked = 0
    ratios = []
    with tempfile.TemporaryDirectory(prefix="sleepchat-docq-") as tmp:
        folder = Path(tmp)
        for name, (make, questions) in DOCS.items():
            path = make(folder)
            lines = [f"/attach {path}"]
            for q in questions:
                lines += ["/idle", q.text]
            studied = replies(run_script(lines, folder / f"data-{len(lines)}-{name[:4]}"))
            cold = replies(
                run_script([f"/attach {path}", questions[0].text], folder / f"cold-{name[:4]}")
            )
            for q, reply in zip(questions, studied, strict=True):
                text = str(reply.get("text", ""))
                ok = all(h.casefold() in text.casefold() for h in q.holds)
                from_idle = reply.get("source") == "prediction"
                served += from_idle
                right += ok
                asked += 1
                print(
                    f"[{name}] {'served' if from_idle else 'model '} {'right' if ok else 'WRONG'} "
                    f"{reply.get('ttft_ms')} ms: {q.text} -> {' '.join(text.split())[:90]}"
                )
            warm_ms, cold_ms = studied[0].get("ttft_ms"), cold[0].get("ttft_ms")
            if isinstance(warm_ms, int | float) and isinstance(cold_ms, int | float) and cold_ms:
                ratios.append(warm_ms / cold_ms)
                print(
                    f"[{name}] first question TTFT after idle {warm_ms} ms vs at once {cold_ms} "
                    f"ms: {warm_ms / cold_ms:.2f}x"
                )
    print(
        f"served precomputed {served}/{asked}; answers holding the document's words {right}/{asked}"
    )
    if ratios:
        print("first-question TTFT after idle / at once: " + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
