"""Recall end to end on a real model: for each labelled pair (P, A), a scripted session queues P
with /later, idles until its answer is stored, then asks A. Was P's answer served?

    python bench/recall_later_e2e.py PAIRS.jsonl --model PATH.gguf [--limit N] [--every N]
        [--judge never]

Each pair is its own session in a fresh data dir (the judge's calibration is then the shipped
one). Replies are capped at --reply-tokens (default 128): what is measured is the match, not
the answer. Prints served / pairs for the pairs labelled same and for those labelled different.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_pair(predicted: str, asked: str, args: argparse.Namespace) -> tuple[bool, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(
            f"backend: local\nlocal_model: {args.model}\nmax_reply_tokens: {args.reply_tokens}\n"
            f"sleep:\n  predict: never\nrecall:\n  judge: {args.judge}\n"
        )
        script = f"/later {predicted}\n/idle\n{asked}\n"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "sleepchat", "--config", str(config), "--data-dir",
             str(Path(tmp) / "data"), "--script", "-", "--json"],
            input=script, capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        took = time.perf_counter() - started
    replies = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    replies = [r for r in replies if r.get("type") == "reply"]
    if not replies:
        raise SystemExit(f"no reply for {asked!r}: {done.stderr.strip()[-400:]}")
    return replies[-1].get("source") == "prediction", took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs")
    parser.add_argument("--model", required=True)
    parser.add_argument("--limit", type=int, default=0, help="pairs of each label (0: all)")
    parser.add_argument(
        "--every", type=int, default=1, help="every Nth pair of each label (a sample across styles)"
    )
    parser.add_argument("--judge", default="auto", choices=["auto", "never"])
    parser.add_argument("--reply-tokens", type=int, default=128)
    args = parser.parse_args()
    rows = [json.loads(x) for x in Path(args.pairs).read_text("utf-8").splitlines() if x.strip()]
    chosen = []
    for label in (True, False):
        same = [r for r in rows if r["same"] is label][:: args.every]
        chosen += same[: args.limit] if args.limit else same
    served = {True: 0, False: 0}
    total = {True: 0, False: 0}
    by_class: dict[str, list[int]] = {}
    for n, row in enumerate(chosen, 1):
        hit, took = run_pair(row["predicted"], row["asked"], args)
        served[row["same"]] += hit
        total[row["same"]] += 1
        counts = by_class.setdefault(
            row.get("class", "same" if row["same"] else "different"), [0, 0]
        )
        counts[0] += hit
        counts[1] += 1
        label = "same" if row["same"] else "diff"
        outcome = "SERVED" if hit else "miss"
        print(f"{n}/{len(chosen)} {label} {outcome} {took:.1f}s", file=sys.stderr, flush=True)
    print(f"judge {args.judge}, model {Path(args.model).name}")
    print(f"rewordings served: {served[True]}/{total[True]}")
    print(f"look-alikes served: {served[False]}/{total[False]}")
    for name in sorted(by_class):
        print(f"  {name:<24} {by_class[name][0]}/{by_class[name][1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
