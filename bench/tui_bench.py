"""TUI benchmark: launch to first frame, and key-to-screen latency under load.

Method (end to end, as a user sees it): the real ``python -m sleepchat`` runs under a
pseudo-terminal, talking to the loopback fake Ollama (``sleepchat.devtools.fake_ollama``).

* **first frame**: time from spawning the process to the moment its output holds the footer
  (the last thing the first frame paints). A bare Textual app is measured the same way, runs
  alternating, and the ratio of the medians is the figure (target <= 1.5x): on a shared machine
  absolute times move with the load, the ratio much less. Each is launched once unmeasured
  first, and without PYTHONDONTWRITEBYTECODE, so both start from compiled bytecode as an
  installed copy does (with it set, every start recompiles sleepchat's modules).
* **key-to-screen**: a key is written to the pty; its latency is the time until the screen
  output shows it (the last typed characters appear in the input box). Keys are typed one by
  one (each waits for its echo), 1) while a reply streams at 50 tokens/s, and 2) while a
  reflection runs (the key preempts it: the latency includes cancelling it).

* **embedded** (``--embedded``): the same two key latencies with the embedded llama.cpp model
  (SmolLM2 by default) decoding in the app's own process: keys typed while it streams a reply on
  all its threads, and one key at a random moment (0.3-3 s in) of each reflection, while the
  reflection prefills or decodes on its fewer threads (the key preempts it).

Run: ``python bench/tui_bench.py [--runs 5] [--keys 200] [--first-frame-only] [--json OUT]``,
``python bench/tui_bench.py --embedded [--local-model smollm2] [--reflections 15]``.
Not a test: it prints numbers (targets: first frame <= 1.5x a bare Textual app, p99
key-to-screen <= 50 ms).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import random
import re
import select
import signal
import statistics
import string
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from sleepchat.devtools.fake_ollama import FakeOllama

ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
COLS, ROWS = 300, 50
BARE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Footer, Input\n"
    "class Bare(App):\n"
    "    BINDINGS = [('ctrl+r', 'bell', 'Regenerate')]\n"
    "    def compose(self):\n"
    "        yield Input()\n"
    "        yield Footer()\n"
    "Bare().run()\n"
)


class Term:
    """A child process on a pty of COLS x ROWS, with its screen output as plain text."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.fd = master
        self.text = b""

    def read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self.text += ESCAPES.sub(b"", data)
        return True

    def wait_for(self, marker: bytes, timeout: float = 20.0, since: int = 0) -> float:
        """Seconds (perf_counter) when ``marker`` appeared after offset ``since``."""
        deadline = time.perf_counter() + timeout
        while marker not in self.text[since:]:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} not seen")
            self.read(0.05)
        return time.perf_counter()

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        try:
            self.send(b"\x11")  # ctrl+q
            self.proc.wait(timeout=10)
        except Exception:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.fd)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(TERM="xterm-256color", COLORTERM="truecolor", TEXTUAL_ANIMATIONS="none")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached, not recompiled
    return env


def sleepchat_argv(url: str, data: Path, config: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sleepchat",
        "--config",
        str(config),
        "--backend",
        "ollama",
        "--host",
        url,
        "--model",
        "llama3.2",
        "--data-dir",
        str(data),
    ]


def first_frame(argv: list[str]) -> float:
    """Milliseconds from spawning ``argv`` to its footer on screen."""
    term = Term(argv, _env())
    try:
        return (term.wait_for(b"Regenerate") - term.start) * 1000
    finally:
        term.close()


def first_frames(apps: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Each app launched ``runs`` times, alternating (load spikes hit both alike), after one
    unmeasured launch each that leaves their bytecode cached."""
    for argv in apps.values():
        first_frame(argv)
    times: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(runs):
        for name, argv in apps.items():
            times[name].append(first_frame(argv))
    return times


class Typist:
    """Types random letters; the last 8 typed identify the echo in the screen output."""

    def __init__(self, term: Term, seed: int = 7) -> None:
        self.term = term
        self.rng = random.Random(seed)
        self.typed = ""

    def keys(self, n: int) -> list[float]:
        return type_keys(self, n)


def type_keys(typist: Typist, n: int) -> list[float]:
    """Type ``n`` keys one by one; each latency is write -> the echo is on screen."""
    term, rng = typist.term, typist.rng
    latencies = []
    for _ in range(n):
        ch = rng.choice(string.ascii_letters)
        typist.typed += ch
        typed = typist.typed
        window = typed[-8:].encode()
        mark = len(term.text)
        t0 = time.perf_counter()
        term.send(ch.encode())
        t1 = term.wait_for(window, timeout=5, since=mark)
        latencies.append((t1 - t0) * 1000)
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 1),
        "p99_ms": round(pct(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--reflections", type=int, default=15)
    parser.add_argument("--json", dest="json_out")
    parser.add_argument("--first-frame-only", action="store_true", help="skip the key latencies")
    parser.add_argument("--embedded", action="store_true", help="key latencies, embedded model")
    parser.add_argument("--local-model", default="smollm2")
    args = parser.parse_args()
    if args.embedded:
        return _report(embedded_keys(args), args.json_out)
    results: dict[str, object] = {}
    long_reply = " ".join(f"word{i}" for i in range(2000))
    with tempfile.TemporaryDirectory() as tmp, FakeOllama(any_model=True) as srv:
        tmp_path = Path(tmp)
        config = tmp_path / "config.yaml"
        config.write_text("sleep:\n  idle_seconds: 0.4\n  cooldown_seconds: 0\n")
        argv = sleepchat_argv(srv.url, tmp_path / "data", config)

        bare = tmp_path / "bare.py"
        bare.write_text(BARE_APP)
        frames = first_frames({"bare": [sys.executable, str(bare)], "sleepchat": argv}, args.runs)
        results["bare_textual_first_frame_ms"] = summary(frames["bare"])
        results["first_frame_ms"] = summary(frames["sleepchat"])
        ratio = statistics.median(frames["sleepchat"]) / statistics.median(frames["bare"])
        results["first_frame_ratio"] = round(ratio, 2)
        if args.first_frame_only:
            return _report(results, args.json_out)

        # Keys while a reply streams at 50 tokens/s.
        srv.configure(reply=long_reply, token_delay=0.02)
        term = Term(argv, _env())
        try:
            term.wait_for(b"Regenerate")
            term.wait_for(b"New conversation")  # the session is on screen
            term.send(b"tell me a long story\r")
            term.wait_for(b"word3 ")
            typist = Typist(term)
            streaming = typist.keys(args.keys)
            assert b"word1999" not in term.text, "the reply ended before the keys did"
            results["keys_while_streaming"] = summary(streaming)
            term.send(b"\x1b")  # Esc stops the reply
            term.wait_for(b"stopped")
            # Keys that land while a reflection runs (each one preempts it).
            srv.configure(reply=None, token_delay=0.05)
            preempting = []
            for _ in range(args.reflections):
                mark = len(term.text)
                term.wait_for(b"reflecting", timeout=30, since=mark)
                preempting.extend(typist.keys(1))
            results["keys_preempting_a_reflection"] = summary(preempting)
        finally:
            term.close()
    return _report(results, args.json_out)


QUESTION = (
    b"My tomato seedlings sit on a windowsill with four hours of sun and the leaves turn "
    b"yellow. Tell me everything I should check, in detail.\r"
)


def embedded_keys(args: argparse.Namespace) -> dict[str, object]:
    """Key -> screen while the embedded model decodes in the app's process (a reply, then
    reflections): llama.cpp's threads against the UI's event loop."""
    results: dict[str, object] = {"model": args.local_model, "load_before": os.getloadavg()[0]}
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        config = tmp_path / "config.yaml"
        config.write_text(
            f"local_model: {args.local_model}\nsleep:\n  idle_seconds: 1\n  cooldown_seconds: 0\n"
        )
        argv = [sys.executable, "-m", "sleepchat", "--config", str(config)]
        argv += ["--backend", "local", "--data-dir", str(tmp_path / "data")]
        term = Term(argv, _env())
        try:
            term.wait_for(b"Regenerate", timeout=120)
            term.wait_for(b"New conversation", timeout=120)
            mark = len(term.text)
            term.send(QUESTION)
            term.wait_for(b"answering", timeout=120, since=mark)
            mark = len(term.text)  # the status changes again when the reply ends
            typist = Typist(term)
            streaming = []
            for _ in range(min(args.keys, 40)):
                streaming.extend(typist.keys(1))
                if b"reflecting" in term.text[mark:] or b"idle in" in term.text[mark:]:
                    break  # the reply ended: later keys would not race a decode
            results["keys_while_a_reply_decodes"] = summary(streaming)
            preempting = []
            for _ in range(args.reflections):
                mark = len(term.text)
                try:
                    term.wait_for(b"reflecting", timeout=30, since=mark)
                except TimeoutError:  # the last one finished: nothing new to reflect on
                    term.send(b"\r")  # the letters typed so far are the next question
                    term.wait_for(b"reflecting", timeout=180, since=mark)
                deadline = time.perf_counter() + rng.uniform(0.3, 3.0)
                while time.perf_counter() < deadline:  # keep reading: the pty must not fill
                    term.read(0.02)
                preempting.extend(typist.keys(1))
            results["keys_during_a_reflection"] = summary(preempting)
        finally:
            term.close()
    results["load_after"] = os.getloadavg()[0]
    return results


def _report(results: dict[str, object], json_out: str | None) -> int:
    for name, value in results.items():
        print(f"{name:32} {value}")
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
