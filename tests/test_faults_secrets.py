"""Secrets are never printed (issue 11.9): a password in the model host's URL (or a token) is
masked in every error, warning, notice and log line — including tracebacks in the log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.cli import run_cli

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.logs import LOGGER_NAME, setup_logging

PASSWORD = "s3cr3t-pa55"
TOKEN = "sk-" + "A1b2C3d4E5f6G7h8"


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "logs" / "sleepchat.log"
    setup_logging(path, debug=True)
    yield path
    for handler in list(logging.getLogger(LOGGER_NAME).handlers):
        handler.close()
        logging.getLogger(LOGGER_NAME).removeHandler(handler)


def test_log_lines_and_tracebacks_are_masked(log_file: Path) -> None:
    log = logging.getLogger(f"{LOGGER_NAME}.test")
    url = f"http://me:{PASSWORD}@10.0.0.5:11434/api/chat"
    log.warning("cannot reach %s", url)
    log.info(f"headers: Authorization: Bearer {TOKEN} api_key={PASSWORD}")
    try:
        raise ConnectionError(f"POST {url} failed (token {TOKEN})")
    except ConnectionError:
        log.exception("sending failed")
    log.error("with stack", stack_info=True, extra={"unused": url})
    text = log_file.read_text()
    assert PASSWORD not in text and TOKEN not in text, text
    assert "http://me:***@10.0.0.5:11434" in text  # where it went is still said
    assert "ConnectionError" in text and "sending failed" in text  # the traceback is kept


def test_secrets_in_the_host_or_from_the_server_appear_nowhere(tmp_path: Path) -> None:
    log = tmp_path / "sleepchat.log"
    echoed = f"upstream http://user:{PASSWORD}@10.1.2.3:8080 said no (key {TOKEN})"

    def server(request: dict[str, Any]) -> str:  # reflection replies that are not JSON
        return echoed if request.get("format") else "fine"

    with FakeOllama(reply=server) as srv:
        parts = urlsplit(srv.url)
        srv.then(status=500, status_text=echoed)  # a server that echoes what it was given
        srv.then(error_after=1, error_text=echoed)
        base = ["--data-dir", str(tmp_path / "d"), "--log-file", str(log), "--debug"]
        base += ["--backend", "ollama", "--model", "llama3.2"]
        chat = run_cli(*base, "--host", srv.url, stdin=b"first?\nsecond?\n/idle\n")
        bad_host = f"http://user:{PASSWORD}@{parts.netloc}"
        refused = [
            run_cli(*base, "--host", bad_host, stdin=b"hello?\n"),
            run_cli("doctor", *base, "--host", bad_host),
            run_cli(*base, stdin=b"hello?\n", env={"OLLAMA_HOST": bad_host}),
        ]
    for proc in (chat, *refused):
        shown = (proc.stdout + proc.stderr).decode()
        assert "Traceback" not in shown
        assert PASSWORD not in shown and TOKEN not in shown, shown
    assert "upstream" in chat.stdout.decode() + chat.stderr.decode()  # the error was shown
    for proc in refused:
        assert proc.returncode != 0 and "user:***@" in proc.stderr.decode(), proc.stderr
    logged = log.read_text()
    assert "upstream" in logged and PASSWORD not in logged and TOKEN not in logged, logged
