"""Running the real command line in a child process (bytes in, bytes out)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


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
