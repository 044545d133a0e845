"""Running the real command line in a child process (bytes in, bytes out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

MODEL = "llama3.2"


def run_cli(
    *args: str,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    umask: int | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m sleepchat ARGS``; ``env`` adds to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "sleepchat", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def sleepchat(
    *args: str, data: Path, stdin: bytes | None = None, host: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """``run_cli`` on the data dir ``data`` and the test model (on the Ollama at ``host``)."""
    where = ["--data-dir", str(data), "--model", MODEL]
    if host is not None:
        where += ["--backend", "ollama", "--host", host]
    return run_cli(*where, *args, stdin=stdin or b"", timeout=timeout)


def events(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def stored_messages(data: Path) -> list[dict]:
    """The current session's messages in ``data``, as ``export --format json`` gives them."""
    out = run_cli("export", "--format", "json", "--data-dir", str(data), timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    messages: list[dict] = json.loads(out.stdout)["messages"]
    return messages
