"""Command line: argument parsing and the choice of mode (TUI, plain REPL, script, commands).

Imports stay lazy: the TUI's time to first frame starts here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sleepchat import __version__

if TYPE_CHECKING:
    from sleepchat.config import Config

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = (
    "A terminal chat assistant for a local model that thinks while you are idle. "
    "On a terminal it opens the full-screen app; with --plain a line REPL; with --script FILE "
    "or piped input it runs a scripted session."
)


def _global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Flags valid before and after a sub-command (sub-parsers must not reset them)."""
    default: Any = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument("--config", metavar="PATH", default=default, help="config file (YAML)")
    g.add_argument(
        "--host",
        default=default,
        help="model server URL (default http://127.0.0.1:11434; openai: the base URL, …/v1)",
    )
    g.add_argument("--model", default=default, help="model name (as the server lists it)")
    g.add_argument(
        "--backend",
        choices=("auto", "ollama", "local", "openai"),
        default=default,
        help="model backend (openai: an OpenAI-compatible server; key in SLEEPCHAT_API_KEY)",
    )
    g.add_argument("--data-dir", metavar="DIR", default=default, help="where sessions are kept")
    g.add_argument(
        "--idle-seconds",
        type=float,
        metavar="N",
        default=default,
        help="idle time before reflecting",
    )
    g.add_argument("--theme", default=default, help="TUI theme name")
    g.add_argument("--log-file", metavar="PATH", default=default, help="log file")
    g.add_argument(
        "--debug",
        action="store_true",
        default=default if suppress else False,
        help="debug logging (logs include message text)",
    )


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

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("sessions", help="list stored sessions")
    _global_flags(p, suppress=True)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = sub.add_parser("export", help="export a session as Markdown or JSON")
    _global_flags(p, suppress=True)
    p.add_argument("session", nargs="?", default="last", help="session id, prefix or 'last'")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p = sub.add_parser("doctor", help="check config, data dir, server and model")
    _global_flags(p, suppress=True)
    p = sub.add_parser("bench", help="measure the sleep cycle: stateless vs sleep arms")
    _global_flags(p, suppress=True)
    p.add_argument("--conversations", metavar="FILE", help="JSONL conversations (default: bundled)")
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N conversations")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="also write the results as JSON")
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("config", "host", "model", "backend", "data_dir", "idle_seconds", "theme", "log_file")
    flags = {k: getattr(args, k, None) for k in keys}
    flags["debug"] = getattr(args, "debug", False) or None
    return flags


def _err(message: str) -> None:
    print(f"sleepchat: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # sleepchat uses no pydantic plugins; looking for them scans every installed package's
    # entry points, ~30 ms of each start.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if _tui_mode(args):
        from sleepchat.tui import run_app

        # The app paints its first frame, then loads the config (a bad one: exit 2).
        return run_app(lambda: _load(args), session=args.session, new=args.new)
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
        return commands.run(commands.export(config, args.session, args.format, args.output))
    if args.command == "doctor":
        return commands.run(commands.doctor(config))
    if args.command == "bench":
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

        return commands.run(run_plain(config, session=args.session, new=args.new))
    _err("stdout is not a terminal — use --script FILE, pipe input, or --plain")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
