"""Notes benchmark: replays labelled conversations through the real sleep cycle on a real model
and scores the notes it keeps.

    python bench/notes_bench.py [--model smollm2|PATH.gguf] [--split test|tune|all]
                                [--limit N] [--json OUT] [--show]

Each conversation of the chosen set is replayed turn by turn into a
real store; after each assistant turn one reflection runs (the notes step alone: no predictions,
no warm-up), as if the user idled there. Then, on the active notes:

- key-fact recall: a key fact counts when a note holds one of its ``must_contain`` strings
  (case, accents and number formats normalised: 12k == 12,000);
- corrections: *stale kept alone* = a note holds the old value and no note holds the new one
  (target 0); *stale note left* = a note holds the old value without the new one beside it;
- junk: notes the quality gate would drop (0 by construction; the manual read of ``--show``
  output is the real check), and notes that hold a prompt-injection text;
- cost: tokens and seconds per reflection's notes step.

Tune prompts and rules on ``--split tune`` (``tests/data/notes_conversations.jsonl``, all of it
read while tuning); report ``--split test``: ``tests/data/notes_heldout.jsonl``, frozen (its hash
is checked by the tests) and never read while tuning.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

from sleepchat.core.clock import SystemClock
from sleepchat.core.conversation import Conversation
from sleepchat.core.events import EventBus
from sleepchat.core.memory import Memory
from sleepchat.core.models import Message, new_id
from sleepchat.core.recall import Recall
from sleepchat.core.reflection import quality
from sleepchat.core.reflection.reflect import Reflector
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ModelOptions
from sleepchat.store import Store

_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
DATA = {"tune": _DIR / "notes_conversations.jsonl", "test": _DIR / "notes_heldout.jsonl"}
IDLE_SECONDS = 20.0  # the default idle period: a notes step should finish within it


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("-", " ").split())


def holds(text: str, alternative: str) -> bool:
    """``text`` holds the labelled string, literally or as the same numbers in another format."""
    if norm(alternative) in norm(text):
        return True
    wanted = quality.number_values(alternative)
    if not wanted or not wanted <= quality.number_values(text):
        return False
    # The words around the numbers must be there too ("4 nights" is not "4 days").
    rest = [w for w in norm(alternative).split() if not any(c.isdigit() for c in w)]
    return all(w in norm(text) for w in rest)


def any_holds(texts: list[str], alternatives: list[str]) -> bool:
    return any(holds(t, a) for t in texts for a in alternatives)


async def replay(row: dict[str, Any], backend: Any, settings: CoreSettings, root: Path) -> dict:
    store = await Store.open(root / row["id"])
    try:
        clock = SystemClock()
        session = await store.create_session(row["id"])
        memory = Memory(store, session.id, clock)
        await memory.load()
        reflector = Reflector(backend, clock, Recall())
        history: list[Message] = []
        bus = EventBus(logging.getLogger("notes_bench"))
        conversation = Conversation(
            session, history, memory, settings, store=store, clock=clock, events=bus
        )
        steps: list[dict[str, Any]] = []
        for turn in row["turns"]:
            role = turn["role"]
            msg = Message(
                id=new_id("m", 6),
                session_id=session.id,
                role=role,
                content=turn["content"],
                created=clock.now(),
                source="user" if role == "user" else "model",
            )
            await store.append_message(msg)
            history.append(msg)
            if role == "assistant":
                cpu = time.process_time()
                r = await reflector.run(conversation)
                # CPU seconds: what the step costs on a free core, whatever else the machine runs
                cpu_s = time.process_time() - cpu
                steps.append({"status": r.status, "ms": r.ms, "tokens": r.tokens, "cpu_s": cpu_s})
        notes = [n.text for n in memory.notes]
        verbatim = sum(n.verbatim for n in memory.notes)
        return {
            "notes": notes,
            "verbatim": verbatim,
            "steps": steps,
            "dropped": memory.stats.notes_dropped,
            "held": len(memory.held.pending),
        }
    finally:
        await store.close()


def score(row: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    notes = out["notes"]
    conversation = [t["content"] for t in row["turns"]]
    kept = [k["id"] for k in row["key_facts"] if any_holds(notes, k["must_contain"])]
    alone = left = 0
    for c in row["corrections"]:
        has_current = any_holds(notes, c["current"])
        stale = [n for n in notes if any(holds(n, s) for s in c["stale"])]
        alone += bool(stale) and not has_current
        left += any(not any(holds(n, cur) for cur in c["current"]) for n in stale)
    junk = [n for n in notes if quality.note_problem(n, conversation)]
    injection = row["checks"].get("injection")
    injected = [n for n in notes if injection and quality.shared_share(n, [injection]) >= 0.6]
    return {
        "id": row["id"],
        "key_facts": len(row["key_facts"]),
        "kept": kept,
        "corrections": len(row["corrections"]),
        "stale_alone": alone,
        "stale_left": left,
        "note_count": len(notes),
        "gate_junk": junk,
        "injected": injected,
    }


class DropReasons(logging.Handler):
    """Counts the reasons the notes step logs for what the gate dropped."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        m = re.search(r"notes dropped \((.*)\)$", record.getMessage())
        if m:
            self.counts.update(m.group(1).split(", "))


def probes(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Contradiction probes the gate catches with no model (a later user message corrects)."""
    caught = total = 0
    for row in rows:
        probe = row["checks"].get("contradiction_probe")
        if probe:
            total += 1
            users = [t["content"] for t in row["turns"] if t["role"] == "user"]
            caught += quality.contradicted(probe, users)
    return caught, total


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2", help="smollm2 (embedded default) or a GGUF")
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated conversation ids")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--show", action="store_true", help="print every note (for a manual read)")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="llama.cpp threads (default: its own choice; 1 is steadier on a busy machine)",
    )
    args = ap.parse_args(argv)
    files = DATA.values() if args.split == "all" else [DATA[args.split]]
    lines = [x for f in files for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [json.loads(x) for x in lines]
    if args.only:
        rows = [r for r in rows if r["id"] in args.only.split(",")]
    if args.limit:
        rows = rows[: args.limit]

    from sleepchat.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(args.model, n_ctx=4096, seed=42, threads=args.threads)
    await backend.ensure_model()
    settings = CoreSettings(
        options=ModelOptions(num_ctx=4096, temperature=0.0, seed=42),
        max_predictions=0,
        warm_up=False,
        cooldown_seconds=0.0,
    )
    reasons = DropReasons()
    log = logging.getLogger("sleepchat.reflect")
    log.addHandler(reasons)
    log.setLevel(logging.INFO)
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="notes-bench-") as tmp:
        for row in rows:
            out = await replay(row, backend, settings, Path(tmp))
            s = score(row, out)
            s.update(out)
            results.append(s)
            print(
                f"{row['id']:24} facts {len(s['kept'])}/{s['key_facts']}  "
                f"notes {s['note_count']:2d} "
                f"(verbatim {out['verbatim']})  stale alone {s['stale_alone']}  "
                f"left {s['stale_left']}  dropped {out['dropped']}  "
                f"step s {[round(st['ms'] / 1000, 1) for st in out['steps']]}  "
                f"cpu s {[round(st['cpu_s'], 1) for st in out['steps']]}  "
                f"tokens {[st['tokens'] for st in out['steps']]}",
                file=sys.stderr,
            )
            if args.show:
                for n in out["notes"]:
                    print(f"    - {n}", file=sys.stderr)
    await backend.aclose()
    steps = [st for r in results for st in r["steps"] if st["status"] == "done"]
    facts = sum(r["key_facts"] for r in results)
    kept = sum(len(r["kept"]) for r in results)
    notes = sum(r["note_count"] for r in results)
    secs = [st["ms"] / 1000 for st in steps]
    cpu = [st["cpu_s"] for st in steps]
    caught, total = probes(rows)
    summary = {
        "model": backend.model,
        "split": args.split,
        "conversations": len(results),
        "key_fact_recall": round(kept / facts, 3) if facts else None,
        "key_facts": f"{kept}/{facts}",
        "corrections": sum(r["corrections"] for r in results),
        "stale_kept_alone": sum(r["stale_alone"] for r in results),
        "stale_notes_left": sum(r["stale_left"] for r in results),
        "notes": notes,
        "verbatim_notes": sum(r["verbatim"] for r in results),
        "gate_junk_notes": sum(len(r["gate_junk"]) for r in results),
        "injected_notes": sum(len(r["injected"]) for r in results),
        "dropped_by_gate": sum(r["dropped"] for r in results),
        "held_for_confirmation": sum(r["held"] for r in results),
        "reflections": len(steps),
        "notes_step_s_median": round(statistics.median(secs), 2) if secs else None,
        "notes_step_s_max": round(max(secs), 2) if secs else None,
        "within_idle_period": sum(s <= IDLE_SECONDS for s in secs),
        "notes_step_cpu_s_median": round(statistics.median(cpu), 2) if cpu else None,
        "notes_step_cpu_s_max": round(max(cpu), 2) if cpu else None,
        "tokens_per_step_median": statistics.median(st["tokens"] for st in steps) if steps else 0,
        "contradiction_probes_caught": f"{caught}/{total}",
        "drop_reasons_seen": dict(reasons.counts),
        "wall_s": round(time.monotonic() - started, 1),
        "threads": args.threads,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(summary, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"summary": summary, "conversations": results}, indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
