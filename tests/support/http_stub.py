"""A scripted HTTP server on loopback: each request is recorded and answered by a function.

For what the fake Ollama does not cover: redirects, a proxy that must not be used, and the
OpenAI-compatible wire (``openai_stub.py``). A reply body may be an iterator of byte chunks,
written as they come (a stream); a write that fails marks the request ``disconnected``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    disconnected: bool = False
    finished: bool = False

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **headers})


Handler = Callable[[Request], Reply]


class Stub:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.changed = threading.Condition()
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with stub.changed:
                    stub.requests.append(request)
                    stub.changed.notify_all()
                reply = stub.handler(request)
                self.close_connection = True
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if isinstance(reply.body, bytes):
                        self.wfile.write(reply.body)
                    else:
                        for chunk in reply.body:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                except OSError:
                    request.disconnected = True
                finally:
                    with stub.changed:
                        request.finished = True
                        stub.changed.notify_all()

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Stub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.requests), timeout)


def redirect_to(target: str, status: int = 307) -> Handler:
    """Every request redirected to the same path on ``target``."""
    return lambda request: Reply(status, b"", {"Location": target + request.path})


def lines(items: Iterable[str]) -> Iterator[bytes]:
    for item in items:
        yield item.encode()
