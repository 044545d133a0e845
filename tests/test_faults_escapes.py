"""Terminal escapes never reach the terminal raw (issue 11.7): every place that prints stored or
server text — session titles in `sessions`, `/sessions` and the plain banner, model text in
`export` to a terminal, doctor's server details, warnings and errors quoting either, and the
app's notifications (which also must not read it as markup)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pexpect
from support.tui_app import loaded, make_app, make_config, until

from sleepchat.core.models import Message
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.store import Store

PAYLOAD = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\x1b]8;;file:///etc/passwd\x1b\\ln\x1b]8;;\x1b\\"
TITLE = f"Trip{PAYLOAD} plans"
MARKUP = "[/] [link=file:///etc/passwd]x[/link] [bold]"
RAW = re.compile("[\x1b\x07\x9b]")


def raw_controls(text: str) -> list[str]:
    return RAW.findall(text)


async def _populate(data: Path, *, malformed: bool = False) -> str:
    store = await Store.open(data)
    s = await store.create_session(TITLE)
    await store.append_message(Message("m1", s.id, "user", f"hi {PAYLOAD}", 1.0))
    await store.append_message(Message("m2", s.id, "assistant", f"reply {PAYLOAD} end", 2.0))
    await store.close()
    if malformed:  # a damaged message: the warning about it names the session's title
        seg = data / "sessions" / s.id / "messages-0000.json"
        doc = json.loads(seg.read_text())
        doc["messages"]["9"] = {"id": 5}
        seg.write_text(json.dumps(doc))
    return s.id


def run(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", *args, "--data-dir", str(data)]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)


def test_sessions_lists_titles_inert(tmp_path: Path) -> None:
    data = tmp_path / "d"
    sid = asyncio.run(_populate(data))
    text = run(data, "sessions")
    as_json = run(data, "sessions", "--json")
    for proc in (text, as_json):
        assert proc.returncode == 0 and not raw_controls(proc.stdout + proc.stderr), proc
    assert "Trip" in text.stdout and "plans" in text.stdout
    assert json.loads(as_json.stdout)["title"] == TITLE  # JSON carries it whole, escaped
    assert sid in text.stdout


def test_script_sessions_and_the_plain_banner(tmp_path: Path) -> None:
    data = tmp_path / "d"
    sid = asyncio.run(_populate(data))
    with FakeOllama(reply="ok") as srv:
        base = ["--backend", "ollama", "--host", srv.url, "--model", "llama3.2"]
        proc = run(data, *base, stdin=f"/sessions\n/session {sid}\n/help\n")
        assert proc.returncode == 0, proc.stderr
        assert not raw_controls(proc.stdout + proc.stderr)
        assert "Trip" in proc.stdout
        child = pexpect.spawn(
            sys.executable,
            ["-m", "sleepchat", "--plain", *base, "--data-dir", str(data)],
            timeout=30,
            dimensions=(30, 200),
        )
        child.expect("›".encode())
        banner = (child.before or b"").decode(errors="replace")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    assert "Trip" in banner and "PWNED" not in banner and "\x9b" not in banner


def test_export_to_a_terminal_is_inert_to_a_file_it_is_the_record(tmp_path: Path) -> None:
    data = tmp_path / "d"
    asyncio.run(_populate(data, malformed=True))
    child = pexpect.spawn(
        sys.executable, ["-m", "sleepchat", "export", "--data-dir", str(data)], timeout=30
    )
    child.expect(pexpect.EOF)
    shown = (child.before or b"").decode(errors="replace")
    child.close()
    assert child.exitstatus == 0, shown
    assert "reply" in shown and "end" in shown and "skipped 1 malformed" in shown
    assert not raw_controls(shown)
    piped = run(data, "export")
    assert f"reply {PAYLOAD} end" in piped.stdout  # the record keeps what was said
    assert "skipped 1 malformed" in piped.stderr and not raw_controls(piped.stderr)
    as_json = run(data, "export", "--format", "json")
    assert not raw_controls(as_json.stdout)  # C1 controls \\u-escaped too
    assert json.loads(as_json.stdout)["messages"][1]["content"] == f"reply {PAYLOAD} end"


def test_errors_quoting_what_was_typed_are_inert(tmp_path: Path) -> None:
    data = tmp_path / "d"
    asyncio.run(_populate(data))
    proc = run(data, "export", f"ab{PAYLOAD}")
    assert proc.returncode != 0 and "no session" in proc.stderr
    assert not raw_controls(proc.stderr) and len(proc.stderr.strip().splitlines()) == 1


def test_doctor_shows_server_details_inert(tmp_path: Path) -> None:
    with FakeOllama(version=f"0.6{PAYLOAD}", models=[f"llama3.2{PAYLOAD}"]) as srv:
        proc = run(
            tmp_path / "d", "doctor", "--backend", "ollama", "--host", srv.url, "--model", "x"
        )
    assert "0.6" in proc.stdout and "Traceback" not in proc.stderr
    assert not raw_controls(proc.stdout + proc.stderr)


async def test_app_notifications_are_plain_inert_text(tmp_path: Path) -> None:
    with FakeOllama(reply="fine") as srv:
        srv.configure(status=500, status_text=f"boom {MARKUP} {PAYLOAD}")
        app, _clock = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=(140, 30)) as pilot:
            await loaded(pilot, app)
            app.prompt.load_text("hello?")
            await pilot.press("enter")
            await until(pilot, lambda: any("boom" in n for n in app.notices))
            await pilot.pause()
            assert app.is_running and app.return_code is None
            shown = [str(n.message) for n in app._notifications]  # what the toasts render
            [error] = [n for n in shown if "boom" in n]
            assert MARKUP in error and not raw_controls(error)
