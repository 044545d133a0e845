"""A loopback HTTP server that speaks Ollama's wire protocol, for tests and offline demos.

Stdlib only. It runs in a background thread so code on the test's event loop can talk to it
through the real ``ollama.AsyncClient``. Like a default Ollama (``OLLAMA_NUM_PARALLEL=1``) it
serves one chat request at a time, so a background request left running delays the next one;
it keeps a one-entry prompt cache (prefill cost applies to uncached tokens only) and reloads
the model when ``num_ctx`` changes. Every request is recorded, with monotonic timestamps
(``time.monotonic()``, the clock asyncio uses), and a client that leaves mid-reply is noticed
at once (the socket is polled while the server waits), as Ollama stops generating then.

Manual demo: ``python -m sleepchat.devtools.fake_ollama --port 11434 --token-delay 0.02``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import re
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sleepchat.devtools.json_example import example_from_schema

Reply = str | Callable[[dict[str, Any]], str] | None

DEFAULT_MODELS = ("llama3.2:latest", "qwen2.5:0.5b", "all-minilm:latest")
FAKE_VERSION = "0.6.5"


@dataclass
class Behaviour:
    """How the server answers one ``/api/chat`` request."""

    reply: Reply = None  # text, or callable(request_json) -> text; None: canned_reply
    token_delay: float = 0.0  # seconds before each streamed chunk
    first_byte_delay: float = 0.0  # seconds before anything is sent (after taking the slot)
    prefill_delay: float = 0.0  # seconds per uncached prompt token
    load_delay: float = 0.0  # seconds to "load" the model (first request, or num_ctx changed)
    error_after: int | None = None  # after N chunks, an {"error": error_text} line ends it
    error_text: str = "an error was encountered while running the model"
    garbage_after: int | None = None  # after N chunks, a line that is not JSON
    drop_after: int | None = None  # after N chunks, the socket is closed mid-body
    status: int | None = None  # answer this HTTP status with {"error": status_text}
    status_text: str = "llama runner process has terminated: exit status 2"
    hang: bool = False  # never answer (until the client leaves or the server stops)


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: dict[str, Any] | None
    received_at: float  # time.monotonic() when the request arrived
    started_at: float | None = None  # when it took the one slot (chat) or began (others)
    first_byte_at: float | None = None  # when the first reply line was sent
    finished_at: float | None = None
    status: int = 200
    chunks_sent: int = 0
    prompt_tokens: int = 0  # whole prompt, in the fake's word tokens
    cached_tokens: int = 0  # prompt tokens found in the cache (not prefilled)
    reloaded: bool = False  # the model was (re)loaded for this request
    disconnected: bool = False  # the client left before the reply was complete
    dropped: bool = False  # the server dropped the connection on purpose
    hung: bool = False  # it took a ``hang`` behaviour: never answered

    def describe(self) -> str:
        """One line for a failing test's message: what it asked and how it ended."""
        messages = (self.body or {}).get("messages") or [{}]
        last = " ".join(str(messages[-1].get("content", "")).split())[:60]
        states = {
            "started": self.started_at is not None,
            "finished": self.finished_at is not None,
            "disconnected": self.disconnected,
            "hung": self.hung,
        }
        shown = ", ".join(name for name, held in states.items() if held) or "waiting"
        return f"{self.method} {self.path} [{shown}] {last!r}"


def split_tokens(text: str) -> list[str]:
    """Word-ish tokens that keep their leading whitespace, so they join back exactly."""
    return re.findall(r"\s*\S+(?:\s+$)?", text) or ([text] if text else [])


def _prompt_tokens(messages: Iterable[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for message in messages:
        out.append(f"<{message.get('role', 'user')}>")
        out.extend(str(message.get("content") or "").split())
    return out


_TEMPLATES = (
    "Good question. For “{topic}”, start by writing down what you already know, then test the "
    "smallest piece of it. If that works, build on it one step at a time; if it does not, the "
    "failure usually points at the next thing to check.",
    "Here is how I would approach “{topic}”: first clarify the goal, then pick the simplest option "
    "that could work, and try it while noting what happens. Tell me more about your constraints "
    "and I can be more specific.",
    "Short answer: it depends on your setup. With “{topic}” the usual trade-off is speed against "
    "simplicity — the simple route is easier to keep working, and the fast one pays off only "
    "when it runs often.",
)


def canned_reply(request: dict[str, Any]) -> str:
    """A plausible reply; for ``format=`` requests, JSON that validates against the schema."""
    fmt = request.get("format")
    if isinstance(fmt, dict):
        return json.dumps(example_from_schema(fmt))
    if fmt == "json":
        return "{}"
    messages = request.get("messages") or []
    last = next(
        (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    topic = " ".join(last.split()).rstrip("?.! ")[:60]
    if not topic:
        return "Hello! What would you like to talk about?"
    pick = int(hashlib.sha256(topic.encode()).hexdigest(), 16) % len(_TEMPLATES)
    return _TEMPLATES[pick].format(topic=topic)


def fake_embedding(text: str, dim: int) -> list[float]:
    """Hashed bag of words, L2-normalised: shared words give a high cosine, like a real model."""
    vec = [0.0] * dim
    for word in re.findall(r"[a-z0-9']+", text.lower()):
        h = int(hashlib.md5(word.encode()).hexdigest(), 16)
        vec[h % dim] += 1.0 if (h >> 64) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeOllama) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that leaves mid-reply is an expected event here, not a server error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FakeOllama:
    """``with FakeOllama() as srv: OllamaBackend(srv.url, "llama3.2")``.

    Behaviour: ``srv.behaviour`` (a :class:`Behaviour`, the default for every chat request;
    constructor keywords set its fields) and ``srv.script``, a queue of one-off Behaviours
    consumed one per chat request (``srv.then(**changes)`` queues the default with changes).
    """

    def __init__(
        self,
        *,
        models: Iterable[str] = DEFAULT_MODELS,
        any_model: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = FAKE_VERSION,
        embed_dim: int = 64,
        serialize: bool = True,
        verbose: bool = False,
        **behaviour: Any,
    ) -> None:
        self.behaviour = Behaviour(**behaviour)
        self.script: deque[Behaviour] = deque()
        self.models: list[str] = list(models)
        self.any_model = any_model
        self.version = version
        self.embed_dim = embed_dim
        self.serialize = serialize
        self.verbose = verbose
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.disconnected = threading.Event()
        self._host = host
        self._port = port
        self._cond = threading.Condition()
        self._slot = threading.Lock()
        self._stopping = threading.Event()
        self._cache: list[str] = []  # the prompt + reply tokens the last request left behind
        self._loaded: tuple[str, Any] | None = None  # (model, num_ctx) currently "loaded"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOllama:
        self._server = _Server((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for conn in list(self._connections):  # unblock keep-alive handler threads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    # configuration ---------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change the default behaviour (fields of :class:`Behaviour`)."""
        self.behaviour = dataclasses.replace(self.behaviour, **changes)

    def then(self, **changes: Any) -> Behaviour:
        """Queue a one-off behaviour (the default with ``changes``) for the next chat request."""
        step = dataclasses.replace(self.behaviour, **changes)
        self.script.append(step)
        return step

    def forget_cache(self) -> None:
        """Drop the prompt cache and unload the model (like restarting Ollama)."""
        with self._cond:
            self._cache = []
            self._loaded = None

    # observation -----------------------------------------------------------------------

    def recorded(self, path: str | None = "/api/chat") -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self.requests if path is None or r.path == path]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return self.recorded("/api/chat")

    def bodies(self, path: str = "/api/chat") -> list[dict[str, Any]]:
        return [r.body or {} for r in self.recorded(path)]

    def wait_until(self, predicate: Callable[[FakeOllama], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (re-checked on every recorded change)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout=timeout)

    def wait_for_requests(self, n: int, path: str = "/api/chat", timeout: float = 5.0) -> bool:
        return self.wait_until(lambda s: len(s.recorded(path)) >= n, timeout)

    def wait_for_started(self, n: int = 1, timeout: float = 5.0) -> bool:
        """Until ``n`` chat requests have taken the server's one slot."""
        return self.wait_until(
            lambda s: sum(r.started_at is not None for r in s.recorded("/api/chat")) >= n, timeout
        )

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        return self.disconnected.wait(timeout)

    def clear(self) -> None:
        """Forget recorded requests and disconnects (not the cache)."""
        with self._cond:
            self.requests.clear()
            self.disconnects = 0
            self.disconnected.clear()
            self._cond.notify_all()

    # internals used by the handler -----------------------------------------------------

    def has_model(self, name: str) -> bool:
        if self.any_model:
            return True
        base = name.removesuffix(":latest")
        return any(m == name or m.removesuffix(":latest") == base for m in self.models)

    def _record(self, rec: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _changed(self, rec: RecordedRequest, **fields: Any) -> None:
        with self._cond:
            for key, value in fields.items():
                setattr(rec, key, value)
            if fields.get("disconnected"):
                self.disconnects += 1
                self.disconnected.set()
            self._cond.notify_all()

    def _next_behaviour(self) -> Behaviour:
        with self._cond:
            return self.script.popleft() if self.script else self.behaviour


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def fake(self) -> FakeOllama:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        self.fake._connections.add(self.connection)

    def finish(self) -> None:
        self.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        if self.fake.verbose:
            sys.stderr.write(f"fake-ollama: {format % args}\n")

    # plumbing ----------------------------------------------------------------------------

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> bool:
        try:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
            return True
        except OSError:
            return False

    def _client_gone(self, timeout: float) -> bool:
        """Whether the client closed its end (polls the socket for EOF up to ``timeout``)."""
        try:
            ready, _, _ = select.select([self.connection], [], [], timeout)
            if not ready:
                return False
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except (OSError, ValueError):
            return True
        time.sleep(min(timeout, 0.01))  # client sent bytes; don't spin on them
        return False

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (inf: forever); False as soon as the client leaves or we stop."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if self.fake._stopping.is_set() or self._client_gone(min(remaining, 0.05)):
                return False

    def _read_body(self) -> tuple[dict[str, Any] | None, str | None]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}, None
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return None, f"invalid JSON body: {exc}"
        if not isinstance(body, dict):
            return None, "request body must be a JSON object"
        return body, None

    # routes ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        rec = RecordedRequest("GET", self.path, None, time.monotonic(), started_at=time.monotonic())
        self.fake._record(rec)
        status = 200
        if self.path == "/":
            self._send_text(200, "Ollama is running")
        elif self.path == "/api/version":
            self._send_json(200, {"version": self.fake.version})
        elif self.path == "/api/tags":
            self._send_json(200, {"models": [_model_entry(m) for m in self.fake.models]})
        elif self.path == "/api/ps":
            loaded = self.fake._loaded
            self._send_json(200, {"models": [_model_entry(loaded[0])] if loaded else []})
        else:
            status = 404
            self._send_text(404, "404 page not found")
        self.fake._changed(rec, status=status, finished_at=time.monotonic())

    def do_POST(self) -> None:
        received = time.monotonic()
        body, problem = self._read_body()
        rec = RecordedRequest("POST", self.path, body, received)
        self.fake._record(rec)
        if body is None:
            self._send_json(400, {"error": problem})
            self.fake._changed(rec, status=400, finished_at=time.monotonic())
            return
        try:
            if self.path == "/api/chat":
                self._chat(body, rec)
            elif self.path == "/api/show":
                self._show(body, rec)
            elif self.path == "/api/embed":
                self._embed(body, rec)
            else:
                self._send_text(404, "404 page not found")
                self.fake._changed(rec, status=404)
        except OSError:  # the client vanished while we wrote
            self.close_connection = True
            self.fake._changed(rec, disconnected=True)
        if rec.finished_at is None:
            self.fake._changed(rec, finished_at=time.monotonic())

    def _missing_model(self, body: dict[str, Any], rec: RecordedRequest, quote: str) -> bool:
        name = str(body.get("model") or "")
        if self.fake.has_model(name):
            return False
        if quote == "'":
            message = f"model '{name}' not found"
        else:
            message = f'model "{name}" not found, try pulling it first'
        self._send_json(404, {"error": message})
        self.fake._changed(rec, status=404, started_at=time.monotonic())
        return True

    def _show(self, body: dict[str, Any], rec: RecordedRequest) -> None:
        if self._missing_model(body, rec, "'"):
            return
        self.fake._changed(rec, started_at=time.monotonic())
        entry = _model_entry(str(body.get("model")))
        self._send_json(
            200,
            {
                "modelfile": f"FROM {entry['name']}\n",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": entry["details"],
                "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
                "capabilities": ["completion"],
                "modified_at": entry["modified_at"],
            },
        )

    def _embed(self, body: dict[str, Any], rec: RecordedRequest) -> None:
        if self._missing_model(body, rec, '"'):
            return
        start = time.perf_counter_ns()
        self.fake._changed(rec, started_at=time.monotonic())
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
        dim = int(body.get("dimensions") or self.fake.embed_dim)
        vectors = [fake_embedding(t, dim) for t in texts]
        self._send_json(
            200,
            {
                "model": body.get("model"),
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - start,
                "load_duration": 0,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            },
        )

    def _chat(self, body: dict[str, Any], rec: RecordedRequest) -> None:
        fake = self.fake
        if self._missing_model(body, rec, '"'):
            return
        step = fake._next_behaviour()
        if fake.serialize:
            while not fake._slot.acquire(timeout=0.05):  # Ollama's one slot: wait our turn
                if fake._stopping.is_set() or self._client_gone(0):
                    self.close_connection = True
                    fake._changed(rec, disconnected=not fake._stopping.is_set())
                    return
        try:
            fake._changed(rec, started_at=time.monotonic())
            self._generate(body, rec, step)
        finally:
            fake._changed(rec, finished_at=time.monotonic())  # before the next one may start
            if fake.serialize:
                fake._slot.release()

    def _gone(self, rec: RecordedRequest) -> None:
        self.close_connection = True
        self.fake._changed(rec, disconnected=not self.fake._stopping.is_set())

    def _generate(self, body: dict[str, Any], rec: RecordedRequest, step: Behaviour) -> None:
        fake = self.fake
        stream = body.get("stream", True) is not False
        t0 = time.perf_counter_ns()
        if step.status is not None:
            self._send_json(step.status, {"error": step.status_text})
            fake._changed(rec, status=step.status)
            return
        if step.hang:
            fake._changed(rec, hung=True)
            self._pause(math.inf)
            self._gone(rec)
            return
        if not self._pause(step.first_byte_delay):
            self._gone(rec)
            return

        # model load and prefill, against a one-entry cache like a single llama.cpp slot
        options = body.get("options") or {}
        model = str(body.get("model"))
        prompt = _prompt_tokens(body.get("messages") or [])
        with fake._cond:
            reload = fake._loaded != (model, options.get("num_ctx"))
            if reload:
                fake._cache = []
                fake._loaded = (model, options.get("num_ctx"))
            cached = 0
            for a, b in zip(prompt, fake._cache, strict=False):
                if a != b:
                    break
                cached += 1
            cached = min(cached, max(len(prompt) - 1, 0))  # the last token is always evaluated
        fake._changed(rec, prompt_tokens=len(prompt), cached_tokens=cached, reloaded=reload)
        t_load = time.perf_counter_ns()
        if reload and not self._pause(step.load_delay):
            self._gone(rec)
            return
        load_ns = time.perf_counter_ns() - t_load
        t_prompt = time.perf_counter_ns()
        if not self._pause(step.prefill_delay * (len(prompt) - cached)):
            self._gone(rec)
            return
        prompt_ns = time.perf_counter_ns() - t_prompt
        with fake._cond:  # the reply follows in the cache, as the next prompt will repeat it
            fake._cache = [*prompt, "<assistant>"]

        text = step.reply if isinstance(step.reply, str) else (step.reply or canned_reply)(body)
        tokens = split_tokens(text)
        num_predict = options.get("num_predict")
        done_reason = "stop"
        if isinstance(num_predict, int) and num_predict >= 0 and len(tokens) > num_predict:
            tokens, done_reason = tokens[:num_predict], "length"

        def head(content: str, done: bool) -> dict[str, Any]:
            return {
                "model": model,
                "created_at": _now_iso(),
                "message": {"role": "assistant", "content": content},
                "done": done,
            }

        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        t_eval = time.perf_counter_ns()
        sent: list[str] = []
        for i, token in enumerate(tokens):
            if i == step.drop_after:
                self._drop(rec, stream)
                return
            if i == step.error_after:
                self._stream_error(rec, step, stream)
                return
            if stream and i == step.garbage_after:
                self._write_chunk(b"this is not json\n")
            if not self._pause(step.token_delay) or (stream and self._client_gone(0)):
                self._gone(rec)
                return
            if stream:
                line = json.dumps(head(token, False)) + "\n"
                if not self._write_chunk(line.encode()):
                    self._gone(rec)
                    return
                if not sent:
                    fake._changed(rec, first_byte_at=time.monotonic())
            sent.append(token)
            with fake._cond:
                fake._cache.append(token.strip())
                rec.chunks_sent = len(sent)
                fake._cond.notify_all()  # wait_until may be waiting for a chunk count
        if len(tokens) == step.drop_after:
            self._drop(rec, stream)
            return
        if len(tokens) == step.error_after:
            self._stream_error(rec, step, stream)
            return
        eval_ns = max(time.perf_counter_ns() - t_eval, 1)
        final = head("" if stream else "".join(sent), True)
        final.update(
            done_reason=done_reason,
            total_duration=time.perf_counter_ns() - t0,
            load_duration=load_ns,
            prompt_eval_count=max(len(prompt) - cached, 1),
            prompt_eval_duration=prompt_ns,
            eval_count=len(sent),
            eval_duration=eval_ns,
        )
        if stream:
            if step.garbage_after == len(tokens):
                self._write_chunk(b"this is not json\n")
            if not self._write_chunk((json.dumps(final) + "\n").encode()):
                self._gone(rec)
                return
            if rec.first_byte_at is None:
                fake._changed(rec, first_byte_at=time.monotonic())
            self._write_chunk(b"")  # the terminating zero-length chunk
        elif step.garbage_after is not None:
            self._send_text(200, "this is not json")
        else:
            self._send_json(200, final)
            fake._changed(rec, first_byte_at=time.monotonic())

    def _drop(self, rec: RecordedRequest, stream: bool) -> None:
        """Close the socket mid-body (or before any answer when not streaming). Recorded as
        dropped first: the client sees the close at once, and a test reading the record then
        must not find it still open."""
        self.fake._changed(rec, dropped=True)
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream_error(self, rec: RecordedRequest, step: Behaviour, stream: bool) -> None:
        if stream:  # Ollama reports a failure after the headers as a final error line
            self._write_chunk((json.dumps({"error": step.error_text}) + "\n").encode())
            self._write_chunk(b"")
        else:
            self._send_json(500, {"error": step.error_text})
            self.fake._changed(rec, status=500)


def _model_entry(name: str) -> dict[str, Any]:
    full = name if ":" in name else f"{name}:latest"
    return {
        "name": full,
        "model": full,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": 400_000_000,
        "digest": hashlib.sha256(full.encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "1B",
            "quantization_level": "Q4_K_M",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sleepchat.devtools.fake_ollama",
        description="A fake Ollama server with canned replies, for demos without a model.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds per chunk")
    parser.add_argument("--first-byte-delay", type=float, default=0.0)
    parser.add_argument("--prefill-delay", type=float, default=0.0, help="seconds per new token")
    parser.add_argument(
        "--model", action="append", help="an installed model (repeat); default: any name works"
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    fake = FakeOllama(
        models=args.model or DEFAULT_MODELS,
        any_model=not args.model,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
        token_delay=args.token_delay,
        first_byte_delay=args.first_byte_delay,
        prefill_delay=args.prefill_delay,
    )
    try:
        fake.start()
    except OSError as exc:
        print(
            f"fake-ollama: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    # Ctrl-C and a polite kill both stop it, even when started in the background, where the
    # shell has it ignore SIGINT and Python then raises no KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: fake._stopping.set())
    print(f"fake Ollama listening on {fake.url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        while not fake._stopping.wait(0.5):
            pass  # a wait with a timeout lets the handler run on the main thread
    finally:
        fake.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
