"""Script mode and the stored-data commands end to end: real processes, a loopback fake Ollama."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import MODEL, events, sleepchat

from sleepchat.devtools.fake_ollama import FakeOllama


@pytest.fixture
def srv() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


def test_json_script_replies_sessions_and_comments(srv: FakeOllama, tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("# a comment\nhello there\n\n/new Second\nwhat is 2+2?\n/quit\nnever sent\n")
    proc = sleepchat("--script", str(script), "--json", data=tmp_path / "d", host=srv.url)
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc.stdout)
    assert [e["type"] for e in evs] == ["reply", "session", "reply"]
    first, session, second = evs
    assert first["source"] == "model" and first["text"] and not first["interrupted"]
    assert first["completion_tokens"] > 0 and first["prompt_tokens"] > 0
    assert first["ttft_ms"] <= first["total_ms"]
    assert session["title"] == "Second" and second["session"] == session["id"]
    assert first["session"] != session["id"]
    sent = [b["messages"][-1]["content"] for b in srv.bodies()]
    assert sent == ["hello there", "what is 2+2?"]  # comments, blanks, after /quit: not sent


def test_text_mode_from_a_pipe(srv: FakeOllama, tmp_path: Path) -> None:
    srv.configure(reply="plain answer")
    proc = sleepchat(data=tmp_path / "d", host=srv.url, stdin=b"one\ntwo\n")
    assert proc.returncode == 0
    assert proc.stdout.decode() == "plain answer\n\nplain answer\n"
    assert b"Traceback" not in proc.stderr


def test_model_output_escapes_are_stripped(srv: FakeOllama, tmp_path: Path) -> None:
    srv.configure(reply="\x1b[31mred\x1b[0m \x1b]0;pwned\x07text")
    proc = sleepchat(data=tmp_path / "d", host=srv.url, stdin=b"colour?\n")
    assert proc.stdout.decode() == "red text\n"


def test_unreachable_server_exits_nonzero_and_keeps_the_question(
    tmp_path: Path, refused_url: str
) -> None:
    host = refused_url
    proc = sleepchat("--json", data=tmp_path / "d", host=host, stdin=b"anyone home?\n")
    assert proc.returncode == 1
    (err,) = events(proc.stdout)
    assert err["type"] == "error"
    assert err["message"] == (
        f"Ollama is not reachable at {host} — start it with `ollama serve` or set OLLAMA_HOST"
    )
    listing = sleepchat("sessions", "--json", data=tmp_path / "d")
    assert listing.returncode == 0
    (session,) = events(listing.stdout)
    assert session["message_count"] == 1
    exported = sleepchat("export", "last", "--format", "json", data=tmp_path / "d")
    doc = json.loads(exported.stdout)
    assert [m["content"] for m in doc["messages"]] == ["anyone home?"]


def test_hostile_stdin_bytes_are_handled(srv: FakeOllama, tmp_path: Path) -> None:
    big = b"x" * (1024 * 1024)
    stdin = b"caf\xc3\xa9 \xff\xfe broken\nnul\x00byte\n" + big + b"\n"
    proc = sleepchat("--json", data=tmp_path / "d", host=srv.url, stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert [e["type"] for e in events(proc.stdout)] == ["reply"] * 3
    sent = [b["messages"][-1]["content"] for b in srv.bodies()]
    assert sent[0] == "café \ufffd\ufffd broken"
    assert sent[1] == "nulbyte"
    assert len(sent[2]) == len(big)


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sleep:\n  idle_secs: 3\n")
    proc = sleepchat("--config", str(cfg), data=tmp_path / "d", stdin=b"hi\n")
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(cfg) in err and "idle_seconds" in err


def test_second_instance_refused_then_lock_taken_over(srv: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--model", MODEL]
    cmd += ["--backend", "ollama", "--host", srv.url, "--json"]
    first = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert first.stdin is not None and first.stdout is not None
        first.stdin.write(b"hold the lock\n")
        first.stdin.flush()
        assert json.loads(first.stdout.readline())["type"] == "reply"  # it is running
        second = sleepchat(data=data, host=srv.url, stdin=b"me too\n")
        assert second.returncode != 0
        assert f"PID {first.pid}" in second.stderr.decode()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    third = sleepchat("--json", data=data, host=srv.url, stdin=b"after the crash\n")
    assert third.returncode == 0, third.stderr.decode()
    exported = json.loads(sleepchat("export", "--format", "json", data=data).stdout)
    contents = [m["content"] for m in exported["messages"] if m["role"] == "user"]
    assert contents == ["hold the lock", "after the crash"]


def test_sessions_and_markdown_export(srv: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    srv.configure(reply="An answer.")
    sleepchat(data=data, host=srv.url, stdin=b"/new Plants\nwater?\n")
    listing = sleepchat("sessions", data=data)
    assert listing.returncode == 0
    lines = listing.stdout.decode().splitlines()
    assert lines[0].split() == ["ID", "MESSAGES", "LAST", "ACTIVITY", "TITLE"]
    assert lines[1].endswith("Plants") and " 2 " in lines[1]
    out = tmp_path / "plants.md"
    exp = sleepchat("export", "last", "-o", str(out), data=data)
    assert exp.returncode == 0 and str(out) in exp.stderr.decode()
    text = out.read_text()
    assert text.startswith("# Plants") and "water?" in text and "An answer." in text
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    missing = sleepchat("export", "nope", data=data)
    assert missing.returncode == 1 and "no session 'nope'" in missing.stderr.decode()


def test_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "sleepchat", "--version"], capture_output=True)
    assert out.returncode == 0 and out.stdout.decode().startswith("sleepchat ")
    helptext = subprocess.run([sys.executable, "-m", "sleepchat", "--help"], capture_output=True)
    assert helptext.returncode == 0
    for word in ("--script", "--plain", "--json", "sessions", "export", "doctor", "bench"):
        assert word in helptext.stdout.decode()


def _sleepy_server_reply(request: dict) -> str:
    fmt = request.get("format")
    if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
        return json.dumps({"facts": ["The sourdough bread is dense"]})
    if isinstance(fmt, dict):
        return json.dumps({"questions": ["Should I lower the hydration?"]})
    last = request["messages"][-1]["content"]
    if last == "Should I lower the hydration?":
        return "Yes, try 70% for a few bakes."
    return "Dense loaves usually mean under-fermentation."


def test_idle_reflects_then_a_predicted_question_is_instant(
    srv: FakeOllama, tmp_path: Path
) -> None:
    srv.configure(reply=_sleepy_server_reply)
    stdin = (
        b"My sourdough is dense.\n/idle\n/notes\n/predictions\n"
        b"should i lower the hydration\n/regen\n/forget n1\n/undo\n/stats\n"
    )
    proc = sleepchat("--json", data=tmp_path / "d", host=srv.url, stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc.stdout)
    kinds = [e["type"] for e in evs]
    assert kinds == ["reply", "reflection", "notes", "predictions", "reply", "reply", "stats"]
    reflection = evs[1]
    assert reflection["status"] == "done" and reflection["predictions"] == 1
    assert reflection["notes_changed"] == 1 and reflection["tokens"] > 0
    # One event each, with every item and the fields a script needs.
    [note] = evs[2]["notes"]
    assert note["text"] == "The sourdough bread is dense" and note["id"] == "n1"
    assert len(note["sources"]) == 1 and note["sources"][0].startswith("m")
    assert note["updated"] > 0
    assert note["verbatim"] is False and evs[2]["pending"] == []
    [prediction] = evs[3]["predictions"]
    assert prediction["question"] == "Should I lower the hydration?" and prediction["fresh"]
    assert prediction["answer"] == "Yes, try 70% for a few bakes."
    hit, regen = evs[4], evs[5]
    assert hit["source"] == "prediction" and hit["prediction_id"] == prediction["id"]
    assert hit["text"] == "Yes, try 70% for a few bakes."
    assert regen["source"] == "model"
    assert evs[6]["session"]["hits"] == 1
    err = proc.stderr.decode()
    assert "forgot note n1" in err and "n1" in err.split("forgot note n1")[1]  # undo names it
    # The export carries the notes and the predictions too.
    exported = sleepchat("export", "--format", "json", data=tmp_path / "d")
    doc = json.loads(exported.stdout)
    assert [n["text"] for n in doc["notes"]] == ["The sourdough bread is dense"]
    assert doc["notes"][0]["sources"] == note["sources"]
    assert [p["question"] for p in doc["predictions"]] == ["Should I lower the hydration?"]
    assert doc["predictions"][0]["status"] == "served"
    md = sleepchat("export", data=tmp_path / "d").stdout.decode()
    assert "## Notes\n\n- The sourdough bread is dense" in md


def test_idle_seconds_then_the_next_line_preempts(srv: FakeOllama, tmp_path: Path) -> None:
    # A slow server: the reflection is still running when the next line arrives.
    srv.configure(reply=_sleepy_server_reply, token_delay=0.05)
    stdin = b"My sourdough is dense.\n/idle 0.3\nwhat now?\n"
    proc = sleepchat(
        "--json", "--idle-seconds", "0.1", data=tmp_path / "d", host=srv.url, stdin=stdin
    )
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc.stdout)
    assert [e["type"] for e in evs] == ["reply", "reflection", "reply"]
    assert evs[1]["status"] == "cancelled"
    assert srv.wait_for_disconnect(5)  # the server saw the reflection's stream closed


def test_doctor_reports_each_check_with_its_fix(
    srv: FakeOllama, tmp_path: Path, refused_url: str
) -> None:
    ok = sleepchat("doctor", data=tmp_path / "d", host=srv.url)
    assert ok.returncode == 0, ok.stdout.decode()
    out = ok.stdout.decode()
    assert "[ok  ] model 'llama3.2' is available" in out and out.strip().endswith("all good")
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "sleepchat",
            "doctor",
            "--backend",
            "ollama",
            "--host",
            srv.url,
            "--model",
            "mistral",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert "run `ollama pull mistral`" in missing.stdout.decode()
    down = sleepchat("doctor", data=tmp_path / "d", host=refused_url)
    assert down.returncode == 1
    assert "ollama serve" in down.stdout.decode()


def test_a_reply_cut_at_the_cap_is_said_and_continue_goes_on(
    srv: FakeOllama, tmp_path: Path
) -> None:
    srv.configure(reply="one two three four five six seven eight")
    config = tmp_path / "c.yaml"
    config.write_text("max_reply_tokens: 4\n")
    stdin = b"count please\n/continue\n"
    proc = sleepchat(
        "--config", str(config), "--json", data=tmp_path / "d", host=srv.url, stdin=stdin
    )
    assert proc.returncode == 0, proc.stderr.decode()
    first, more = events(proc.stdout)
    assert first["cut"] == "length" and first["completion_tokens"] == 4
    assert more["text"].startswith(first["text"]) and len(more["text"]) > len(first["text"])
    assert more["completion_tokens"] == 8
    asked = srv.bodies()[-1]["messages"]
    assert asked[-2]["role"] == "assistant" and "Continue" in asked[-1]["content"]
    text = sleepchat("--config", str(config), data=tmp_path / "e", host=srv.url, stdin=b"hi\n")
    assert "cut at 4 tokens (the reply cap) — /regen asks again, /continue goes on" in (
        text.stderr.decode()
    )


def test_help_lists_every_command_and_each_one_runs(srv: FakeOllama, tmp_path: Path) -> None:
    """/help and the dispatch come from one table: every listed command is understood."""
    from sleepchat.script import COMMANDS

    names = [usage.split()[0] for usage, _what, _method in COMMANDS]
    skip = ("/help", "/quit", "/session", "/model")  # /session and /model need more set up
    lines = ["/help", *[n for n in names if n not in skip], "/quit"]
    proc = sleepchat(data=tmp_path / "d", host=srv.url, stdin="\n".join(lines).encode())
    shown = [line.split()[0] for line in proc.stdout.decode().splitlines() if line.startswith("/")]
    assert shown == names
    assert "unknown command" not in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
