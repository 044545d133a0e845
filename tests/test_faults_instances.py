"""Fault suite, two instances on one data dir: a second chat refuses in one line (reading with
`sessions` and `export` works: they take no lock); once the first is killed, the next start takes
the lock over."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from sleepchat.devtools.fake_ollama import FakeOllama


def _cmd(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sleepchat", *args, "--data-dir", str(data)]


def test_second_instance_refused_while_first_streams_then_takes_over(tmp_path: Path) -> None:
    data = tmp_path / "d"
    # A reply far longer than the test (minutes, even at the reply cap): the first instance is
    # still streaming when it is killed however slow the machine (with 3 s, and with 50 ms a
    # token under the cap, a busy machine let it finish and start the second line).
    with FakeOllama(token_delay=0.5, reply="a slow reply " * 2000) as srv:
        chat = ["--backend", "ollama", "--host", srv.url, "--model", "llama3.2", "--json"]
        first = subprocess.Popen(
            _cmd(data, *chat), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            assert first.stdin is not None
            first.stdin.write(b"hold on\nkeep going\n")
            first.stdin.flush()
            assert srv.wait_for_started(1, timeout=30)  # it holds the lock and is streaming
            second = subprocess.run(_cmd(data, *chat), input=b"me too\n", capture_output=True)
            err = second.stderr.decode().strip()
            assert second.returncode == 1, err
            assert err == (
                f"sleepchat: data dir {data} is in use by another sleepchat (PID {first.pid}) "
                "— close it first or use another data dir (--data-dir DIR)"
            )
            for args in (["sessions"], ["export", "--format", "json"]):  # reading needs no lock
                reader = subprocess.run(_cmd(data, *args), capture_output=True)
                assert reader.returncode == 0 and b"hold on" in reader.stdout, reader.stderr
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        srv.configure(token_delay=0.0)  # the next start's reply: no need to wait for it
        third = subprocess.run(_cmd(data, *chat), input=b"after the kill\n", capture_output=True)
    err = third.stderr.decode()
    assert third.returncode == 0, err
    assert f"took over the lock of a sleepchat that died (PID {first.pid})" in err
    assert [json.loads(x)["type"] for x in third.stdout.decode().splitlines()] == ["reply"]
    doc = json.loads(
        subprocess.run(_cmd(data, "export", "--format", "json"), capture_output=True).stdout
    )
    users = [m["content"] for m in doc["messages"] if m["role"] == "user"]
    assert users == ["hold on", "after the kill"]  # the second line never started: not stored
