"""`sleepchat bench --quick`: the figures to pick a model, a time budget, a progress bar."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from test_bench import CONV, reply, structured

from sleepchat.bench import load_conversations
from sleepchat.bench_quick import QUICK_SET, Progress, quick, verdict
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.fake import FakeBackend


def fake() -> FakeBackend:
    # prefill 5 ms/token cold, decode 10 ms/token: figures a test can tell apart
    return FakeBackend(reply, structured, prefill_s_per_token=0.005, decode_s_per_token=0.01)


async def test_every_figure_a_user_needs_to_pick_a_model() -> None:
    out = io.StringIO()
    s = await quick(fake(), None, CoreSettings(idle_seconds=20), [CONV, CONV], progress_out=out)
    assert s["conversations"] == 2 and s["reflections_finished"] == "2/2"
    assert 50 < s["decode_tok_s"] < 110  # 10 ms a token
    assert 100 < s["prefill_tok_s"] < 210  # 5 ms a token
    assert s["reply_s"] > 0 and s["reflection_s"] > 0
    # the warm-up leaves only the question to prefill
    assert s["warm_up_gain"] > 3 and s["warm_ttft_ms"] < s["cold_ttft_ms"]
    assert verdict(s).startswith("a reflection fits the idle period (20 s)")
    assert verdict({**s, "reflection_s": 25.0}).startswith("a reflection takes longer")
    # speed alone does not make the tiny model suit anyone: its answers are said to be poor
    for name in ("smollm2", "smollm2:135m"):
        tiny = verdict(s, name)
        assert tiny.startswith("smollm2 is fast enough here, but it is a 135M model whose")
        assert "often wrong or garbled" in tiny and "sleepchat model get qwen2.5-coder-0.5b" in tiny
    assert "suits this machine" in verdict(s, "qwen2.5-coder-0.5b")
    # piped: one plain line per step, no bar
    lines = out.getvalue().splitlines()
    assert len(lines) == 6 and lines[0].startswith("bench: tomatoes: replies (")


async def test_no_new_conversation_starts_after_the_budget() -> None:
    s = await quick(fake(), None, CoreSettings(), [CONV, CONV, CONV], budget=0.0001)
    assert s["conversations"] == 1  # the one that had started finishes


def test_the_bar_redraws_one_line_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    bar = Progress(4, out, started=0.0, width=8)
    bar.step("a: replies")
    bar.step("a: reflection")
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[████····] 2/4 a: reflection" in text


def test_the_quick_set_is_bundled() -> None:
    convs = load_conversations(None, None, bundled=QUICK_SET)
    assert len(convs) == 3 and all(c.context and c.queries for c in convs)


def test_bench_quick_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    with FakeOllama() as srv:
        flags = ["--backend", "ollama", "--host", srv.url, "--model", "llama3.2"]
        proc = subprocess.run(
            [sys.executable, "-m", "sleepchat", "bench", "--quick", "--json", str(out), *flags],
            capture_output=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    table = proc.stdout.decode()
    for label in ("prefill", "decode", "a reflection", "warm-up gain", "idle period"):
        assert label in table
    assert proc.stderr.decode().count("bench: ") >= 9  # progress lines, piped
    assert "Warning" not in proc.stderr.decode()  # e.g. a coroutine never awaited
    doc = json.loads(out.read_text())
    assert doc["conversations"] == 3 and doc["backend"] == "ollama"
    assert doc["decode_tok_s"] and doc["reflection_s"] is not None
