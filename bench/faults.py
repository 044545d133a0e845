"""The full fault suite (issue 6): many more iterations than the quick tests in CI.

    python bench/faults.py                       # the full run (about 25 minutes on 2 cores)
    python bench/faults.py --kills 20 --corrupt 60 --disk 20 --model-rounds 2 --props 200
    python bench/faults.py --json faults.json    # also write the figures as JSON
    python bench/faults.py --only-hardening      # just the classes of issue 11 (~15 minutes)
    python bench/faults.py --hardening-scale 0.1 # fewer iterations of those classes

Prints, per fault class: iterations, faults injected, inputs tried, and losses (anything a user
would have lost or seen crash). Exit code 1 when any loss or problem was found.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import errno
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Why tests/ goes on the path: this script runs from a checkout, not the package, and drives
# the very harnesses the tests use (tests/support), so the bench and the tests measure one code
# path. They are test code (one imports a test module), so they do not move into sleepchat/,
# which ships.
sys.path.insert(0, str(ROOT / "tests"))

from support.corrupt import (  # noqa: E402
    KINDS,
    build_template,
    check_variant,
    is_store_file,
    make_variant,
    run_cli_after,
    target_file,
)
from support.hardening import RUNNERS as STORE_AND_CLI  # noqa: E402
from support.hardening_sleep import RUNNERS as SERVER_AND_MEMORY  # noqa: E402

RUNNERS = {**STORE_AND_CLI, **SERVER_AND_MEMORY}
from support.killer import run_kills  # noqa: E402


def _section(name: str, figures: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    print(f"\n== {name}")
    for key, value in figures.items():
        print(f"  {key:28} {value}")
    for p in problems[:10]:
        print(f"  PROBLEM: {p}")
    if len(problems) > 10:
        print(f"  ... and {len(problems) - 10} more problems")
    return {**figures, "problems": problems[:50]}


# -- 1. kill -9 ------------------------------------------------------------------------------------
def kills(work: Path, n: int, seed: int) -> dict[str, Any]:
    t = run_kills(work / "kills", n, seed=seed)
    figures = {
        "iterations": t.iterations,
        "faults injected (kill -9)": t.kills,
        "inputs tried (lines)": t.inputs,
        "replies seen before kills": t.replies_seen,
        "reflections finished": t.reflections_seen,
        "killed mid-reply": t.streaming_at_kill,
        "killed mid-reflection": t.reflecting_at_kill,
        "stale locks taken over": f"{t.takeovers}/{t.stale_locks}",
        "losses": t.losses,
        "seconds": round(t.seconds),
    }
    return _section("kill -9 at random moments (script mode, then reopen)", figures, t.problems)


# -- 3. corrupt files ------------------------------------------------------------------------------
async def _corrupt_in_process(work: Path, n: int, seed: int) -> tuple[dict[str, Any], list[str]]:
    tpl = await build_template(work / "template")
    rng = random.Random(seed)
    tried: collections.Counter[str] = collections.Counter()
    quarantined = lost = crashes = 0
    problems: list[str] = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        out = await check_variant(tpl, work / "w", kind, rng)
        tried[f"{kind}/{out.mutation}"] += 1
        quarantined += out.quarantined
        lost += out.lost_elsewhere
        crashes += any(p.startswith("crashed") for p in out.problems)
        problems += [f"#{i} {kind}/{out.mutation} {out.file}: {p}" for p in out.problems]
    per_kind = {k: sum(v for key, v in tried.items() if key.startswith(k)) for k in KINDS}
    figures = {
        "variants (in-process)": n,
        "per file": per_kind,
        "mutation kinds": len(tried),
        "quarantined": quarantined,
        "crashes": crashes,
        "messages lost outside the file": lost,
    }
    return figures, problems


def _corrupt_cli(work: Path, n: int, seed: int) -> tuple[dict[str, Any], list[str]]:
    from sleepchat.devtools.fake_ollama import FakeOllama

    tpl = asyncio.run(build_template(work / "cli-template"))
    rng = random.Random(seed + 1)
    problems: list[str] = []
    ok = 0
    with FakeOllama() as srv:
        for i in range(n):
            data = work / "cli"
            if data.exists():
                shutil.rmtree(data)
            shutil.copytree(tpl.path, data)
            kind = KINDS[i % len(KINDS)]
            path = target_file(data, tpl, kind, rng)
            mutation, raw = make_variant(path.read_bytes(), rng)
            path.write_bytes(raw)
            proc = run_cli_after(data, srv.url, tpl.target)
            err = proc.stderr.decode(errors="replace")
            bad = []
            if proc.returncode != 0 or "Traceback" in err:
                bad.append(f"exit {proc.returncode}: {err[-300:]}")
            if not is_store_file(raw) and (str(path) not in err or ".corrupt-" not in err):
                bad.append(f"the user was not told about {path.name}: {err[-300:]}")
            problems += [f"cli #{i} {kind}/{mutation}: {b}" for b in bad]
            ok += not bad
    return {"variants (real process)": n, "clean starts": ok}, problems


def corrupt(work: Path, n: int, n_cli: int, seed: int) -> dict[str, Any]:
    figures, problems = asyncio.run(_corrupt_in_process(work / "corrupt", n, seed))
    if n_cli:
        more, cli_problems = _corrupt_cli(work / "corrupt", n_cli, seed)
        figures.update(more)
        problems += cli_problems
    figures["losses"] = figures["messages lost outside the file"] + figures["crashes"]
    return _section("corrupt, truncated, wrong-schema store files", figures, problems)


# -- 2. disk full at random writes ----------------------------------------------------------------
async def _disk_round(work: Path, rng: random.Random, stats: collections.Counter[str]) -> list[str]:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.clock import FakeClock
    from sleepchat.core.events import ReplyDone
    from sleepchat.core.settings import CoreSettings
    from sleepchat.llm.fake import FakeBackend
    from sleepchat.store import DiskFullError, FileOps, Store, StoreError

    real = FileOps()
    writes = 0
    armed = False  # a full disk at start-up is a start-up error (one line), tested in the tests
    start, length = rng.randint(1, 25), rng.randint(1, 6)

    def write_all(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += armed
        if armed and start <= writes < start + length:
            stats["faults injected (ENOSPC)"] += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real.write_all(fd, data)

    data = work / "disk"
    if data.exists():
        shutil.rmtree(data)
    problems: list[str] = []
    answered: list[str] = []
    store = await Store.open(data, file_ops=FileOps(write_all=write_all))
    a = Assistant(
        backend=FakeBackend(lambda _m: "fine"),
        store=store,
        settings=CoreSettings(cooldown_seconds=0),
        clock=FakeClock(),
    )
    armed = True
    try:
        for k in range(8):
            stats["inputs tried"] += 1
            try:
                if rng.random() < 0.3:
                    await a.reflect()
                    continue
                q = f"question {k}?"
                async for e in a.ask(q):
                    if isinstance(e, ReplyDone):
                        answered.append(q)
            except DiskFullError as exc:
                stats["clear errors"] += 1
                if "disk full" not in exc.message or "\n" in exc.message:
                    problems.append(f"unclear message: {exc.message}")
            except StoreError as exc:
                problems.append(f"not reported as disk full: {exc.message}")
        start = 10**9  # space is back: the next question must be answered and saved
        final = [e async for e in a.ask("final?") if isinstance(e, ReplyDone)]
        if final:
            answered.append("final?")
            stats["recovered"] += 1
        else:
            problems.append("nothing could be saved after space came back")
        await a.close()
    except Exception as exc:  # the app must keep running through the fault
        problems.append(f"crashed: {type(exc).__name__}: {exc}")
    finally:
        await store.close()
    again = await Store.open(data)
    try:
        stored = [
            m.content for s in await again.list_sessions() for m in await again.messages(s.id)
        ]
    finally:
        await again.close()
    for q in answered:
        if stored.count(q) != 1:
            problems.append(f"{q!r} was answered but stored {stored.count(q)} times")
            stats["losses"] += 1
    return problems


def disk(work: Path, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    stats: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    for _ in range(n):
        problems += asyncio.run(_disk_round(work, rng, stats))
    figures = {"iterations": n, **dict(stats), "losses": stats["losses"] + len(problems)}
    return _section("disk full (ENOSPC at random writes, through the Assistant)", figures, problems)


# -- 5. model-server faults ------------------------------------------------------------------------
async def _model_round(
    work: Path, rng: random.Random, stats: collections.Counter[str]
) -> list[str]:
    from test_faults_model import FAULTS, REPLY, _assistant

    from sleepchat.core.events import ReplyDone, ReplyFailed
    from sleepchat.devtools.fake_ollama import FakeOllama
    from sleepchat.store import Store

    problems: list[str] = []
    data = work / "model"
    if data.exists():
        shutil.rmtree(data)
    faults = rng.sample(FAULTS, len(FAULTS))
    with FakeOllama(reply=REPLY) as srv:
        store = await Store.open(data)
        a = _assistant(srv.url, store)
        try:
            await a.start()
            for fault in faults:
                srv.then(**fault.behaviour)
                stats["faults injected"] += 1
                stats["inputs tried"] += 2
                events = [e async for e in a.ask(f"{fault.name}?")]
                failed = [e for e in events if isinstance(e, ReplyFailed)]
                if len(failed) != 1 or fault.message(srv.url) not in failed[0].error:
                    problems.append(f"{fault.name}: unclear or missing error: {failed}")
                elif fault.partial is not None and (
                    failed[0].partial is None or not failed[0].partial.interrupted
                ):
                    problems.append(f"{fault.name}: the partial reply was not kept and marked")
                events = [e async for e in a.ask(f"after {fault.name}?")]
                if not any(isinstance(e, ReplyDone) for e in events):
                    problems.append(f"{fault.name}: the next question failed")
                else:
                    stats["recovered"] += 1
            stored = [m.content for m in await store.messages(a.session.id)]
        finally:
            await a.close()
            await store.close()
    for fault in faults:
        for q in (f"{fault.name}?", f"after {fault.name}?"):
            if stored.count(q) != 1:
                problems.append(f"{q!r} stored {stored.count(q)} times")
    return problems


def model(work: Path, rounds: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    stats: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    for _ in range(rounds):
        problems += asyncio.run(_model_round(work, rng, stats))
    figures = {"rounds": rounds, **dict(stats), "losses": len(problems)}
    return _section("model-server faults (through the Assistant)", figures, problems)


# -- 8. properties ---------------------------------------------------------------------------------
def props(n: int) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from test_faults_memory_props import _run, ops

    seen = collections.Counter[str]()

    def one(sequence: list[tuple[Any, ...]]) -> None:
        seen["sequences"] += 1
        seen["operations"] += len(sequence)
        asyncio.run(_run(sequence))

    test = settings(
        max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )(given(st.lists(ops, max_size=40))(one))
    problems: list[str] = []
    try:
        test()
    except Exception as exc:
        problems.append(f"{type(exc).__name__}: {str(exc)[:500]}")
    figures = {**dict(seen), "losses": len(problems)}
    return _section("note operations, property-based (hypothesis)", figures, problems)


def config_props(n: int) -> dict[str, Any]:
    """The config loader's hypothesis properties (tests/test_config_props.py), n examples each."""
    import subprocess

    env = {**os.environ, "SLEEPCHAT_PROPERTY_EXAMPLES": str(n)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(
        [*cmd, str(ROOT / "tests" / "test_config_props.py")], capture_output=True, env=env
    )
    last = (proc.stdout.decode().strip().splitlines() or [""])[-1]
    problems = [] if proc.returncode == 0 else [proc.stdout.decode()[-1500:]]
    figures = {"examples per property": n, "result": last, "losses": len(problems)}
    return _section("config loader, property-based (hypothesis)", figures, problems)


# -- 9. the hardening pass (issue 11): one section per class -------------------------------------
HARDENING: dict[str, tuple[str, int]] = {
    "folders": ("data dir on a user's folder (refused untouched); strays and links in ours", 200),
    "read_only": ("reading read-only: live owner, crashed owner, closed (nothing written)", 100),
    "big_messages": ("big messages (up to 4 MB): bytes written per append bounded", 20),
    "unicode": ("lone surrogates in questions, titles, replies and reflections", 200),
    "signals": ("SIGTERM / SIGHUP at random points of a streamed reply", 30),
    "export": ("export onto files, links, dangling links, folders, a full disk", 300),
    "escapes": ("escape sequences in titles, messages, replies and errors, every printer", 100),
    "lookups": ("session ids: unknown, ambiguous, hostile, huge", 100),
    "closed_stdout": ("stdout closed after a random number of bytes (sessions, export)", 40),
    "configs": ("config files: alias bombs, recursive aliases, over 1 MB, FIFOs, devices", 100),
    "secrets": ("credentials in log lines, arguments, tracebacks, errors, warnings", 1000),
    "redirects": ("model host redirecting every request elsewhere (both backends)", 200),
    "memory_caps": ("a model removing every note it can: caps, held removals, true count", 200),
}


@contextlib.contextmanager
def _full_tmpfs(path: Path) -> Iterator[Path | None]:
    """A tiny tmpfs to fill (None where mounting is not allowed)."""
    import subprocess

    path.mkdir(parents=True)
    cmd = ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(path)]
    try:
        mounted = subprocess.run(cmd, capture_output=True).returncode == 0
    except FileNotFoundError:
        mounted = False
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def hardening(work: Path, name: str, n: int, seed: int) -> dict[str, Any]:
    title, _default = HARDENING[name]
    folder = work / name
    folder.mkdir(parents=True)
    if name == "export":
        with _full_tmpfs(work / "full-disk") as full:
            out = RUNNERS[name](folder, n, seed, full_disk=full)
    else:
        out = RUNNERS[name](folder, n, seed)
    return _section(title, {**out.figures(), "losses": out.losses}, out.problems)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kills", type=int, default=200, help="kill -9 iterations (default 200)")
    p.add_argument("--corrupt", type=int, default=300, help="in-process corrupt variants")
    p.add_argument("--corrupt-cli", type=int, default=30, help="corrupt variants via the CLI")
    p.add_argument("--disk", type=int, default=100, help="disk-full rounds")
    p.add_argument("--model-rounds", type=int, default=5, help="rounds of every model fault")
    p.add_argument("--props", type=int, default=1000, help="hypothesis examples (notes)")
    p.add_argument("--config-props", type=int, default=1000, help="examples per config property")
    p.add_argument(
        "--hardening-scale",
        type=float,
        default=1.0,
        help="iterations of each hardening class, times their defaults (0: skip them)",
    )
    p.add_argument("--only-hardening", action="store_true", help="run only the hardening classes")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write the figures as JSON")
    args = p.parse_args(argv)
    quiet = logging.getLogger("sleepchat")  # in-process runs: no log chatter on the console
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    started = time.monotonic()
    results: dict[str, Any] = {}
    if args.only_hardening:
        args.kills = args.corrupt = args.disk = args.model_rounds = 0
        args.props = args.config_props = 0
    with tempfile.TemporaryDirectory(prefix="sleepchat-faults-") as tmp:
        work = Path(tmp)
        for name, (_title, default) in HARDENING.items():
            n = round(default * args.hardening_scale)
            if n:
                results[name] = hardening(work, name, n, args.seed)
        if args.corrupt:
            results["corrupt"] = corrupt(work, args.corrupt, args.corrupt_cli, args.seed)
        if args.disk:
            results["disk_full"] = disk(work, args.disk, args.seed)
        if args.model_rounds:
            results["model_faults"] = model(work, args.model_rounds, args.seed)
        if args.props:
            results["note_properties"] = props(args.props)
        if args.config_props:
            results["config_properties"] = config_props(args.config_props)
        if args.kills:
            results["kill9"] = kills(work, args.kills, args.seed)
    total = sum(int(r["losses"]) for r in results.values())
    results["total_losses"] = total
    results["seconds"] = round(time.monotonic() - started)
    print(f"\ntotal losses: {total}   ({results['seconds']} s)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
