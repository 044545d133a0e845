"""Fault suite, privacy: private files, no traffic but to the model host, a warning for plain
HTTP to another machine, and no message text in logs unless debug is on."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli

from sleepchat.devtools.fake_ollama import FakeOllama

MODEL = "llama3.2"
SECRET = "zebra-marmalade-4417"  # a word that appears only in the conversation


def test_files_are_private_even_with_an_open_umask(tmp_path: Path) -> None:
    data, log = tmp_path / "d", tmp_path / "logs" / "sleepchat.log"
    with FakeOllama(reply=f"the {SECRET} answer") as srv:
        chat = ["--data-dir", str(data), "--log-file", str(log), "--backend", "ollama"]
        chat += ["--host", srv.url, "--model", MODEL, "--json"]
        stdin = f"tell me about {SECRET}\n/idle\n/new second\nmore?\n".encode()
        proc = run_cli(*chat, stdin=stdin, umask=0)
        assert proc.returncode == 0, proc.stderr.decode()
        out = tmp_path / "exported.md"
        exp = run_cli("export", "--data-dir", str(data), "-o", str(out), umask=0)
        assert exp.returncode == 0, exp.stderr.decode()
    checked = 0
    for root in (data, log.parent):
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            want = 0o700 if path.is_dir() else 0o600
            assert mode == want, f"{path} is {oct(mode)}, want {oct(want)}"
            checked += 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert checked >= 8  # data dir, lock, index, sessions/, 2 session dirs with files, log dir+file


async def test_a_whole_session_talks_only_to_the_model_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sleepchat.config import load_config
    from sleepchat.runtime import open_runtime
    from sleepchat.script import run_script

    connects: list[Any] = []
    lookups: list[Any] = []
    guarded_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        connects.append(address)
        return guarded_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    with FakeOllama(token_delay=0.001) as srv:
        config = load_config(
            {
                "data_dir": str(tmp_path / "d"),
                "backend": "ollama",
                "host": srv.url,
                "model": MODEL,
                "log_file": str(tmp_path / "log"),
            },
            dict(os.environ),
        )
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        rt = await open_runtime(config, check_backend=False)
        try:
            await rt.assistant.start()
            lines = ["hello there", "/idle", "what about tomorrow?", "/regen", "/stats"]
            code = await run_script(rt.assistant, lines, json_mode=True)
        finally:
            await rt.close()
        port = srv.port if hasattr(srv, "port") else int(srv.url.rsplit(":", 1)[1])
        requests = srv.recorded(None)
    assert code == 0
    assert len(requests) >= 4  # chats, the reflection's steps, a warm-up
    assert connects, "no connection was recorded: the patch missed the client"
    assert {(a[0], a[1]) for a in connects} == {("127.0.0.1", port)}
    assert {h for h in lookups} <= {"127.0.0.1"}


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("http://192.0.2.10:11434", True),
        ("http://ollama.example.org", True),
        ("192.0.2.10", True),
        ("https://ollama.example.org", False),
        ("http://127.0.0.1:11434", False),
        ("http://localhost:11434", False),
        ("http://[::1]:11434", False),
    ],
)
def test_plain_http_to_another_machine_is_warned_about(
    host: str, warned: bool, tmp_path: Path
) -> None:
    proc = run_cli("sessions", "--host", host, "--data-dir", str(tmp_path / "d"))  # no connection
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    assert ("messages will travel unencrypted" in err) == warned, err


@pytest.mark.parametrize("debug", [False, True], ids=["normal", "debug"])
def test_logs_hold_message_text_only_in_debug(debug: bool, tmp_path: Path) -> None:
    log = tmp_path / "sleepchat.log"
    with FakeOllama(reply=f"the {SECRET} reply", status=None) as srv:
        srv.then()
        srv.then(error_after=1, error_text="boom")  # errors are logged too
        args = ["--data-dir", str(tmp_path / "d"), "--log-file", str(log), "--backend", "ollama"]
        args += ["--host", srv.url, "--model", MODEL, "--json"] + (["--debug"] if debug else [])
        stdin = f"my {SECRET} question\nsecond {SECRET}\n/idle\n/notes\n".encode()
        proc = run_cli(*args, stdin=stdin)
    assert "Traceback" not in proc.stderr.decode()
    text = log.read_text()
    assert text.strip(), "nothing was logged"
    assert (SECRET in text) == debug, text[-1500:]
