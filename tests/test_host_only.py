"""The conversation goes only to the configured host (issue 11 item 1): a redirect to another
origin is an error, never followed; a loopback host never goes through HTTP(S)_PROXY; a proxy
in use is said."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.http_stub import Reply, Stub, json_reply, redirect_to
from support.ollama_server import MODEL, fake_ollama, refused_port

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.hosts import proxy_for, proxy_notice
from sleepchat.llm.http import RedirectRefused
from sleepchat.llm.ollama import OllamaBackend

__all__ = ["fake_ollama"]

ASK = [{"role": "user", "content": "Say hello"}]


async def reply_text(backend: OllamaBackend) -> str:
    parts = [chunk.text async for chunk in backend.chat_stream(ASK)]
    return "".join(parts)


async def test_ollama_refuses_a_redirect_to_another_origin(fake_ollama: FakeOllama) -> None:
    with Stub(redirect_to(fake_ollama.url)) as redirector:
        backend = OllamaBackend(redirector.url, MODEL, connect_timeout=2, read_timeout=10)
        try:
            calls = (lambda: reply_text(backend), backend.list_models, lambda: backend.embed(["x"]))
            for call in calls:
                with pytest.raises(RedirectRefused) as caught:
                    await call()
                message = caught.value.message
                assert "\n" not in message
                assert fake_ollama.url.removeprefix("http://") in message
                assert "set host" in message
        finally:
            await backend.aclose()
    assert fake_ollama.recorded(None) == []  # nothing reached the other server


async def test_ollama_follows_a_redirect_on_the_same_origin(fake_ollama: FakeOllama) -> None:
    # A path moved on the same server is still the configured host.
    def handler(request):  # type: ignore[no-untyped-def]
        if request.path.startswith("/old"):
            return Reply(308, b"", {"Location": request.path.removeprefix("/old")})
        return json_reply({"models": [{"model": MODEL, "name": MODEL}]})

    with Stub(handler) as server:
        backend = OllamaBackend(server.url + "/old", MODEL, connect_timeout=2, read_timeout=10)
        try:
            assert await backend.list_models() == [MODEL]
        finally:
            await backend.aclose()


async def test_a_loopback_host_never_goes_through_the_proxy(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Stub(lambda request: Reply(502, b"proxy")) as proxy:
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(var, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        backend = OllamaBackend(fake_ollama.url, MODEL, connect_timeout=2, read_timeout=10)
        try:
            assert (await reply_text(backend)).strip()
        finally:
            await backend.aclose()
        assert proxy.requests == []
    assert len(fake_ollama.chat_requests) == 1


def test_proxy_policy_and_notice() -> None:
    env = {"HTTPS_PROXY": "http://user:secret@proxy.corp:3128", "NO_PROXY": "internal.corp"}
    assert proxy_for("https://models.example:443/v1", env) == (env["HTTPS_PROXY"], "HTTPS_PROXY")
    assert proxy_for("http://models.example", env) is None  # no HTTP_PROXY set
    assert proxy_for("https://gpu.internal.corp/v1", env) is None  # NO_PROXY
    for local in ("http://127.0.0.1:8080/v1", "https://localhost:1", "http://[::1]:11434"):
        assert proxy_for(local, {"HTTP_PROXY": "http://p:1", "HTTPS_PROXY": "http://p:1"}) is None
    notice = proxy_notice("https://models.example/v1", env)
    assert notice is not None
    assert "proxy.corp:3128" in notice and "HTTPS_PROXY" in notice
    assert "secret" not in notice and "user" not in notice
    assert proxy_notice("http://127.0.0.1:11434", {"HTTP_PROXY": "http://p:1"}) is None


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sleepchat", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_doctor_and_start_up_say_when_a_proxy_is_in_use(tmp_path: Path) -> None:
    with Stub(lambda request: Reply(502, b"bad gateway")) as proxy:
        env = {**os.environ, "HTTP_PROXY": proxy.url.replace("http://", "http://me:pw@")}
        env.pop("NO_PROXY", None)
        common = ["--backend", "ollama", "--data-dir", str(tmp_path / "d"), "--model", MODEL]
        # A host on another machine: its requests go through the proxy (here a loopback stub
        # that refuses them, so nothing leaves this machine), and doctor says so.
        remote = _run(["doctor", *common, "--host", "http://models.example:11434"], env)
        assert f"go through the proxy {proxy.url}" in remote.stdout
        assert "HTTP_PROXY" in remote.stdout and "pw" not in remote.stdout + remote.stderr
        assert proxy.requests, "a remote host honours the proxy"
        seen = len(proxy.requests)
        # The same at start-up of a chat, on stderr.
        chat = _run(["--script", "-", *common, "--host", "http://models.example:11434"], env)
        assert "go through the proxy" in chat.stderr and "pw" not in chat.stderr
        # A loopback host goes direct and doctor says that too.
        local = _run(["doctor", *common, "--host", f"http://127.0.0.1:{refused_port()}"], env)
        assert "requests go to the server directly" in local.stdout
        assert len(proxy.requests) == seen


async def test_ollama_behind_an_authenticating_proxy_gets_the_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tags = {"models": [{"model": MODEL, "name": MODEL}]}
    with Stub(lambda request: json_reply(tags)) as server:
        headers = {"Authorization": "Bearer proxy-token-1", "X-Team": "bakers"}
        backend = OllamaBackend(server.url, MODEL, headers=headers)
        try:
            assert await backend.list_models() == [MODEL]
        finally:
            await backend.aclose()
        # Without headers, the client sends OLLAMA_API_KEY as a bearer token itself.
        monkeypatch.setenv("OLLAMA_API_KEY", "env-key-2")
        plain = OllamaBackend(server.url, MODEL)
        try:
            await plain.list_models()
        finally:
            await plain.aclose()
    first, second = server.requests
    assert first.headers["authorization"] == "Bearer proxy-token-1"
    assert first.headers["x-team"] == "bakers"
    assert second.headers["authorization"] == "Bearer env-key-2"
