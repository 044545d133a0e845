"""`sleepchat bench recall` measures the matcher on a user's own labelled pairs, and `doctor` says
which recall is in use and whether its embedding model works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sleepchat.commands import _doctor_recall
from sleepchat.config import load_config
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm import minilm

needs_model = pytest.mark.skipif(
    minilm.unavailable() is not None, reason="the built-in embedding model is not installed"
)
PAIRS = [
    {"predicted": "How do I convert miles to km?", "asked": "how do i convert miles to km",
     "same": True, "split": "test"},
    {"predicted": "How do I convert miles to km?", "asked": "How do I convert km to miles?",
     "same": False, "class": "direction", "split": "test"},
    {"predicted": "Is 8GB of RAM enough?", "asked": "Is 8 GB of RAM enough?", "same": True,
     "split": "test"},
    {"predicted": "Is 8GB of RAM enough?", "asked": "Is 16GB of RAM enough?", "same": False,
     "split": "tune"},
]


def sleepchat(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", *args, "--data-dir", str(tmp / "d")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=os.environ.copy())


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in PAIRS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def srv() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


def test_bench_recall_reports_precision_recall_false_hits_and_latency(
    pairs_file: Path, tmp_path: Path
) -> None:
    proc = sleepchat("bench", "recall", "--pairs", str(pairs_file), "--split", "test", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "pairs: 3 (2 same, 1 different)" in out
    assert "precision: 100.0% (2 of 2 served were right)" in out
    assert "recall: 100.0%" in out and "false hits: 0 of 1 different" in out
    assert "direction" in out and "latency per match: p50" in out
    strict = sleepchat(
        "bench", "recall", "--pairs", str(pairs_file), "--threshold", "1", tmp=tmp_path
    )
    assert strict.returncode == 0 and "candidate threshold 1.00" in strict.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read pairs"),
        ("not json\n", ":1: not JSON"),
        ('{"predicted": "a b c", "asked": "a b c", "same": "yes"}\n', ":1: 'same' must be true"),
        ("\n\n", "no pairs in"),
    ],
)
def test_a_bad_pairs_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "pairs.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    proc = sleepchat("bench", "recall", "--pairs", str(path), tmp=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@needs_model
def test_doctor_says_recall_embeds_with_the_builtin_model(srv: FakeOllama, tmp_path: Path) -> None:
    proc = sleepchat("doctor", "--backend", "ollama", "--host", srv.url, "--model", "llama3.2",
                     tmp=tmp_path)
    assert "[ok  ] recall: embedding with all-MiniLM-L6-v2 (built in)" in proc.stdout


async def test_doctor_fails_a_broken_builtin_model_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"\x00 truncated download")
    monkeypatch.setattr(minilm, "unavailable", lambda: None)
    monkeypatch.setattr(minilm, "model_path", lambda: broken)
    config = load_config({"backend": "local"}, {"HOME": str(tmp_path)})
    failed: list[tuple[bool, str, str]] = []
    await _doctor_recall(config, lambda ok, what, fix="": failed.append((ok, what, fix)), None)
    ((ok, what, fix),) = failed
    assert not ok and str(broken) in what and "reinstall" in fix


async def test_doctor_notes_word_matching_with_the_fix_when_no_model_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(minilm, "unavailable", lambda: "onnxruntime is not installed")
    config = load_config({"backend": "local"}, {"HOME": str(tmp_path)})
    reports: list[bool] = []
    await _doctor_recall(config, lambda ok, *_a: reports.append(ok), None)
    out = capsys.readouterr().out
    assert reports == []  # auto without a model is not a failure...
    assert "[note] recall: matching words" in out and "pip install onnxruntime" in out  # ...a hint
