"""The non-TUI entry points: scripted sessions and the stored-data commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sleepchat.config import Config
from sleepchat.core.recall.calibration import STORE_KEY as JUDGE_CALIBRATIONS
from sleepchat.errors import SleepchatError, StartupError, shown
from sleepchat.hints import cli_message
from sleepchat.runtime import build_backend, open_runtime, open_store, patiently, warn
from sleepchat.signals import STOP_SIGNALS, StopSignals
from sleepchat.text import ascii_json, clip, safe_json, takes_any_text, terminal_safe, when


def run(coro: Coroutine[Any, Any, int]) -> int:
    """Run a mode to its exit code; known failures become one line on stderr. SIGTERM and
    SIGHUP cancel it as Ctrl-C does (the reply in progress is kept, the store closed).

    Ctrl-C is one of those signals here rather than asyncio's own: asyncio cancels the running
    task from inside the signal handler, between two bytecodes of whatever was running, and a
    stream reader that had just found its waiter pending then set a cancelled one (a traceback
    on the way out); handed to the loop, the cancel waits for the reader's step to end."""
    stop = StopSignals(signals=(*STOP_SIGNALS, signal.SIGINT))

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        stop.install(task.cancel)
        try:
            return await coro
        finally:
            stop.uninstall()  # from here a SIGTERM ends the process at once

    try:
        return stop.exit_code(asyncio.run(main()))
    except asyncio.CancelledError:
        if stop.signum is None:
            raise
        return stop.exit_code(0)
    except SleepchatError as exc:
        warn(cli_message(exc))
        return stop.exit_code(exc.exit_code)
    except KeyboardInterrupt:
        return stop.exit_code(130)


async def script(config: Config, args: argparse.Namespace) -> int:
    from sleepchat.script import run_script
    from sleepchat.script_io import read_lines

    if args.script in (None, "-"):
        stream = sys.stdin.buffer
    else:
        try:
            stream = Path(args.script).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StartupError(f"cannot read script {args.script}: {exc.strerror}", 2) from None
    rt = await open_runtime(config)
    try:
        if args.new:
            await rt.assistant.new_session()
        else:
            await rt.assistant.start(args.session)
        return await run_script(
            rt.assistant, read_lines(stream), json_mode=args.json, files=args.files
        )
    finally:
        await rt.close()
        if stream is not sys.stdin.buffer:
            stream.close()


async def list_sessions(config: Config, *, json_mode: bool) -> int:
    store = await open_store(config.resolved_data_dir(), read_only=True)
    try:
        sessions = await store.list_sessions()
    finally:
        await store.close()
    if json_mode:
        ascii_only = not takes_any_text(sys.stdout)
        for s in sessions:
            print(safe_json(s.to_dict(), ascii_only=ascii_only))
        return 0
    if not sessions:
        print("no sessions yet — start one with `sleepchat`", file=sys.stderr)
        return 0
    print(f"{'ID':10} {'MESSAGES':>8}  {'LAST ACTIVITY':16}  TITLE")
    for s in sessions:  # a title is stored text: it may hold escape sequences
        title = clip(terminal_safe(s.title), 200)
        print(f"{s.id:10} {s.message_count:8d}  {when(s.updated):16}  {title}")
    return 0


async def search(config: Config, query: str, *, json_mode: bool, limit: int) -> int:
    from sleepchat.search_view import print_hits

    if not query.strip():
        raise StartupError("nothing to search for — give the words: sleepchat search TEXT", 2)
    if limit < 1:
        raise StartupError(f"--limit must be 1 or more, not {limit}", 2)
    from sleepchat.store import DataDirError

    data_dir = config.resolved_data_dir()
    try:  # writable when free: the index is built (once) and kept
        store = await open_store(data_dir)
    except DataDirError:  # another sleepchat owns it, or the disk is read-only: read it only
        store = await open_store(data_dir, read_only=True)
    try:
        hits = await store.search(query.strip(), limit + 1, progress=_index_progress())
    finally:
        await store.close()
    return print_hits(hits[:limit], query, json_mode=json_mode, more=len(hits) > limit)


def _index_progress() -> Callable[[int, int], None]:
    """Building the index of an old data dir reads every session once: show it when long."""
    from sleepchat.progress import Progress

    shown: list[Progress] = []

    def progress(done: int, total: int) -> None:
        if total < 20:
            return
        if not shown:
            shown.append(Progress("building the search index (once)", total))
        shown[0].advance()
        if done == total:
            shown[0].done(f"{total} sessions read")

    return progress


async def export(
    config: Config, which: str, fmt: str, output: str | None, *, force: bool = False
) -> int:
    from sleepchat.core.clock import SystemClock
    from sleepchat.core.session_lookup import find_session, read_session
    from sleepchat.export import to_json, to_markdown, write_export

    store = await open_store(config.resolved_data_dir(), read_only=True)
    try:
        if which == "last":
            session = await store.last_session()
            if session is None:
                raise StartupError("no sessions yet — start one with `sleepchat`")
        else:
            session = await find_session(store, which)
        record = await read_session(store, session, SystemClock())
    finally:
        await store.close()
    messages, notes, predictions = record.messages, record.notes, record.predictions
    if fmt == "md":
        text = to_markdown(session, messages, notes, record.documents)
    else:
        text = to_json(session, messages, notes, predictions, record.documents)
    if output is None:
        # The file keeps what the model said (it is the record); a terminal gets it inert.
        if sys.stdout.isatty():
            text = terminal_safe(text)
        if fmt == "json" and not takes_any_text(sys.stdout):
            text = ascii_json(text)  # exact JSON on a stdout that cannot take all text
        sys.stdout.write(text)
        return 0
    write_export(Path(output), text, replace=force)
    print(f"exported session {session.id} to {output}", file=sys.stderr)
    return 0


def _note(text: str) -> None:
    print(f"[note] {shown(text)}", flush=True)


async def doctor(config: Config) -> int:
    """Check each thing a chat needs; print what is wrong with the fix."""
    from sleepchat.llm.base import BackendError

    problems = 0
    calibrations: object = None

    def report(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        problems += not ok
        mark = "ok  " if ok else "FAIL"
        # what and fix quote the host and the server (version, models, errors): made safe
        print(f"[{mark}] {shown(what)}" + (f"\n       fix: {shown(fix)}" if fix and not ok else ""))

    report(True, f"config: {config.source or 'defaults (no config file)'}")
    if config.backend != "local":
        from sleepchat.hosts import proxy_notice

        route = proxy_notice(config.host, os.environ) or "requests go to the server directly"
        _note(route)
    try:
        store = await open_store(
            config.resolved_data_dir(), on_warning=lambda m: print(f"[warn] {shown(m)}")
        )
    except StartupError as exc:
        report(False, f"data dir {config.resolved_data_dir()}", exc.message)
    else:
        sessions = await store.list_sessions()
        calibrations = await store.get_meta(JUDGE_CALIBRATIONS)
        await store.close()
        report(True, f"data dir {config.resolved_data_dir()} ({len(sessions)} sessions)")
    ollama_ok = weak = False
    if config.backend in ("auto", "ollama"):
        backend = await build_backend("ollama", config)
        try:
            info = await patiently(backend.health(), backend, _note)
            report(True, f"Ollama {info.version or ''} at {config.host}".replace("  ", " "))
            try:
                await backend.ensure_model()
                report(True, f"model '{config.model}' is available")
                ollama_ok = True
                weak = _weak_note(config.model)
            except BackendError as exc:
                report(False, f"model '{config.model}'", exc.message)
        except BackendError as exc:
            if config.backend == "auto":  # not needed when the embedded model works (below)
                _note(f"{exc.message} (backend auto: the embedded model is used instead)")
            else:
                report(False, f"Ollama at {config.host}", exc.message)
        finally:
            await backend.aclose()
    if config.backend == "openai":
        await _doctor_openai(config, report)
    if config.backend == "local" or (config.backend == "auto" and not ollama_ok):
        weak = await _doctor_local(config, report)
    server = "ollama" if ollama_ok or config.backend == "ollama" else None
    await _doctor_recall(config, report, "openai" if config.backend == "openai" else server)
    in_use = "openai" if config.backend == "openai" else server or "local"
    _doctor_judge(config, in_use, calibrations, report)
    if problems:
        print(f"{problems} problem(s) found")
    else:  # a model that answers badly is not "good", though nothing is broken
        print("works, but the model is weak: see the notes above" if weak else "all good")
    return 0 if not problems else 1


def _weak_note(model: str) -> bool:
    """A note when ``model`` (any backend's name for it) is one known to answer badly."""
    from sleepchat.llm.model_catalog import WEAK, canonical

    key = canonical(model)
    if key in WEAK:
        _note(f"{model} is {WEAK[key]}: for better answers pull a bigger model (`ollama pull "
              "llama3.2:3b`) or see `sleepchat model list`")  # fmt: skip
    return key in WEAK


async def _doctor_local(config: Config, report: Callable[..., None]) -> bool:
    """The embedded model: that it loads, which file it is, and what would answer better.
    True when it works but is one of the weak models."""
    from sleepchat.llm.base import BackendError
    from sleepchat.llm.local_models import resolve_model
    from sleepchat.llm.model_catalog import WEAK
    from sleepchat.model_commands import better_models, in_use

    try:
        local = await build_backend("local", config)
    except BackendError as exc:
        problem, _, fix = exc.message.partition(" — ")
        report(False, f"embedded model: {problem}", fix)
        return False
    await local.aclose()
    report(True, f"embedded model in use: {local.model} ({resolve_model(config.local_model)})")
    for line in better_models(config):
        _note(line)
    return in_use(config) in WEAK


async def _doctor_recall(config: Config, report: Callable[..., None], server: str | None) -> None:
    """Which recall is in use and, for an embedding model, that it loads and works."""
    from sleepchat.llm.base import EmbeddingError
    from sleepchat.llm.embedders import choose_embedder, probe

    if config.recall.method == "lexical":
        print("[note] recall: matching words (recall.method is lexical)")
        return
    backend = await build_backend(server, config) if server else None
    try:
        choice = await choose_embedder(config.recall.method, config.recall.embed_model, backend)
        if choice.embedder is None:
            if config.recall.method == "embedding":
                report(False, f"recall: no embedding model: {choice.note}", choice.hint)
            else:
                print(f"[note] recall: matching words: {choice.note}\n       fix: {choice.hint}")
            return
        try:
            await probe(choice.embedder)
            report(True, f"recall: embedding with {choice.embedder.name}")
        except EmbeddingError as exc:
            report(False, f"recall: {exc.message}", choice.hint)
        finally:
            await choice.embedder.aclose()
    finally:
        if backend is not None:
            await backend.aclose()


def _doctor_judge(
    config: Config, backend: str, stored: object, report: Callable[..., None]
) -> None:
    """Whether reworded questions get the chat model as judge, and how to get one."""
    from sleepchat.core.recall.calibration import lookup
    from sleepchat.runtime import judge_key

    if config.recall.judge == "never":
        _note("recall judge: none (recall.judge is never): reworded questions are misses")
        return
    key = judge_key(backend, config.local_model if backend == "local" else config.model)
    found = lookup(key, stored)
    if found is None:
        _note(
            f"recall judge: {key} is not calibrated, so reworded questions are misses — "
            "`sleepchat bench recall --calibrate` measures whether it can judge them"
        )
    elif not found.usable:
        _note(f"recall judge: off, {found.summary}")
    else:
        report(True, f"recall judge: {found.method}, {found.summary}")


async def _doctor_openai(config: Config, report: Callable[..., None]) -> None:
    """The OpenAI-compatible server: what it is, what it serves, the model, its slots."""
    from sleepchat.llm.base import BackendError

    backend = await build_backend("openai", config)
    try:
        info = await patiently(backend.health(), backend, _note)
    except BackendError as exc:
        report(False, f"OpenAI-compatible server at {config.host}", exc.message)
        await backend.aclose()
        return
    try:
        served = ", ".join(info.models) or "no models"
        report(True, f"{info.version} server at {config.host} serves: {served}")
        try:
            await backend.ensure_model()
            report(True, f"model '{config.model}' is served")
        except BackendError as exc:
            report(False, f"model '{config.model}'", exc.message)
        slots = backend.capabilities.parallel_slots
        where = "server.parallel_slots" if config.server.parallel_slots else "the server / default"
        print(f"[note] parallel slots: {slots} ({where})")
    finally:
        await backend.aclose()
