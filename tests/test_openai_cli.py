"""``--backend openai`` end to end (real processes, the scripted loopback server): bad input is
one line naming the fix, the question is kept, the next one works; the key never shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.http_stub import Reply, json_reply
from support.ollama_server import fake_ollama
from support.openai_stub import MODEL, FakeOpenAI, fake_openai

from sleepchat.devtools.fake_ollama import FakeOllama

__all__ = ["fake_ollama", "fake_openai"]

KEY = "tok-5e7a19c0ffee"
HTML = Reply(200, b"<!doctype html><title>Router login</title>", {"Content-Type": "text/html"})


def sleepchat(
    *args: str, host: str, data: Path, stdin: str = "", backend: str = "openai", **env: str
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", "--backend", backend, "--host", host]
    cmd += ["--model", MODEL, "--data-dir", str(data), "--log-file", str(data.parent / "log")]
    return subprocess.run(
        [*cmd, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SLEEPCHAT_API_KEY": KEY, **env},
    )


def events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def stored_questions(data: Path, host: str) -> list[str]:
    out = sleepchat("export", "--format", "json", host=host, data=data).stdout
    return [m["content"] for m in json.loads(out)["messages"] if m["role"] == "user"]


def test_a_failed_turn_keeps_the_question_and_the_next_one_works(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.key = KEY
    busy = json_reply({"error": {"message": "Rate limit"}}, 429, **{"Retry-After": "20"})
    expired = json_reply({"error": {"message": f"API key {KEY} has expired"}}, 401)
    cut = Reply(
        200,
        b'data: {"choices":[{"index":0,"delta":{"content":"Half"},"finish_reason":null}]}\n\n',
        {"Content-Type": "text/event-stream"},
    )
    for n, (bad, words) in enumerate(
        [
            (busy, "try again in 20 s"),
            (expired, "has expired"),
            (HTML, "web page (HTML"),
            (cut, "ended the reply early"),
        ]
    ):
        data = tmp_path / f"d{n}"
        fake_openai.once_chat = [bad]  # the first chat request gets the failure
        proc = sleepchat("--json", host=fake_openai.url, data=data, stdin="first\nsecond\n")
        assert proc.returncode == 1, proc.stderr
        evs = events(proc.stdout)
        (error,) = [e for e in evs if e["type"] == "error"]
        assert words in error["message"] and "\n" not in error["message"]
        assert evs[-1]["type"] == "reply" and evs[-1]["text"] == fake_openai.reply
        assert all(e.get("interrupted") for e in evs[:-1] if e["type"] == "reply")  # kept, marked
        assert "Traceback" not in proc.stderr and KEY not in proc.stdout + proc.stderr
        assert stored_questions(data, fake_openai.url) == ["first", "second"]
    assert KEY not in (tmp_path / "log").read_text()


def test_wrong_addresses_and_models_stop_at_start_with_the_fix(
    fake_openai: FakeOpenAI, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    root = fake_openai.url.removesuffix("/v1")
    fake_openai.models = ["qwen2.5-0.5b-instruct"]
    cases = [
        ({"host": fake_openai.url}, "it serves: qwen2.5-0.5b-instruct"),
        ({"host": root}, f"set host to {root}/v1"),
        ({"host": fake_ollama.url}, "is an Ollama server — use backend ollama"),
        ({"host": fake_openai.url, "backend": "ollama"}, "use backend openai"),
    ]
    for n, (where, words) in enumerate(cases):
        proc = sleepchat("--json", data=tmp_path / f"d{n}", stdin="hello\n", **where)
        assert proc.returncode == 1, (where, proc.stderr)
        lines = proc.stderr.strip().splitlines() + [
            e["message"] for e in events(proc.stdout) if e["type"] == "error"
        ]
        assert any(words in line for line in lines), (where, lines)
        assert "Traceback" not in proc.stderr


def test_doctor_lists_the_servers_models_and_slots(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.owned_by, fake_openai.slots = "llamacpp", 3
    proc = sleepchat("doctor", host=fake_openai.url, data=tmp_path / "d")
    assert proc.returncode == 0, proc.stdout
    assert f"llama.cpp server at {fake_openai.url} serves: {MODEL}" in proc.stdout
    assert f"model '{MODEL}' is served" in proc.stdout
    assert "parallel slots: 3" in proc.stdout


def test_a_config_file_with_a_key_others_can_read_is_warned_about(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"api_key: {KEY}\n")
    config.chmod(0o644)
    fake_openai.key = KEY

    def chat() -> subprocess.CompletedProcess[str]:
        data = tmp_path / "d"
        args = ("--json", "--config", str(config))
        return sleepchat(*args, host=fake_openai.url, data=data, stdin="hi\n", SLEEPCHAT_API_KEY="")

    proc = chat()
    assert proc.returncode == 0, proc.stderr
    assert f"chmod 600 {config}" in proc.stderr and KEY not in proc.stderr
    config.chmod(0o600)
    assert "chmod" not in chat().stderr
    config.write_text("api_key: 12345\n")  # a wrong type: the value is not quoted back
    bad = sleepchat("--config", str(config), host=fake_openai.url, data=tmp_path / "d")
    assert bad.returncode == 2 and "12345" not in bad.stderr and "api_key" in bad.stderr
