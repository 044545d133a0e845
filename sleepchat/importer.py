"""``sleepchat import FILE``: conversations from elsewhere, stored as sessions.

Reads a ChatGPT data export (``conversations.json``, or the export's zip holding it) and
sleepchat's own JSON export (``sleepchat export --format json``). Each conversation becomes a
session with its messages' own times, marked with where it came from, so importing the same
file again adds nothing (and finishes a conversation an interrupted import left short). Their
facts join the user's memory over the next idle periods, or at once with
``sleepchat memory consolidate``. What a conversation holds stays data: it is quoted, never
obeyed (memory keeps only the user's statements about themselves, through the same gate as
notes).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sleepchat.core.models import Message, Role, new_id
from sleepchat.core.ports import StorePort
from sleepchat.errors import StartupError
from sleepchat.memory_commands import consolidate_now
from sleepchat.runtime import open_store
from sleepchat.text import clean_input

if TYPE_CHECKING:
    from sleepchat.config import Config

UNTITLED = "Imported chat"
CHATGPT_FILE = "conversations.json"


@dataclass
class Imported:
    source: str  # "chatgpt:ID" / "sleepchat:ID": the same conversation is imported once
    title: str
    created: float
    messages: list[tuple[Role, str, float]] = field(default_factory=list)
    private: bool = False  # exported from a private session: it stays out of memory


@dataclass
class ImportResult:
    sessions: int = 0  # new (or finished) sessions
    messages: int = 0
    already: int = 0  # conversations imported before
    empty: int = 0  # conversations with no user or assistant text


def read_file(path: Path) -> Any:
    """The JSON in ``path`` (or in the ``conversations.json`` of a zip), or a one-line error."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if Path(n).name == CHATGPT_FILE]
                if not names:
                    raise StartupError(
                        f"{path}: no {CHATGPT_FILE} in this zip — import the ChatGPT data "
                        f"export's zip or its {CHATGPT_FILE}",
                        2,
                    )
                raw = archive.read(names[0])
        else:
            raw = path.read_bytes()
    except (OSError, zipfile.BadZipFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StartupError(f"cannot read {path}: {reason}", 2) from None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise StartupError(
            f"{path} is not JSON{where}: import ChatGPT's {CHATGPT_FILE} or a "
            "`sleepchat export --format json` file",
            2,
        ) from None


def conversations(data: Any, path: Path) -> list[Imported]:
    """The conversations of a parsed file, whichever of the two formats it is."""
    if isinstance(data, list) and all(isinstance(c, Mapping) and "mapping" in c for c in data):
        return [c for c in map(_chatgpt, data) if c is not None]
    if isinstance(data, Mapping) and isinstance(data.get("session"), Mapping):
        own = _own(data)
        return [own] if own is not None else []
    raise StartupError(
        f"{path} is neither a ChatGPT {CHATGPT_FILE} nor a sleepchat JSON export — "
        "export it again (ChatGPT: Settings, Data controls, Export data)",
        2,
    )


def _time(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else default


def _text(value: Any) -> str:
    return clean_input(value).strip() if isinstance(value, str) else ""


def _thread(mapping: Mapping[str, Any], current: Any) -> list[Mapping[str, Any]]:
    """The conversation's shown branch: from its current node up to the root, then reversed
    (an edited question leaves other branches in the mapping)."""
    if not isinstance(current, str) or current not in mapping:
        leaves = [k for k, n in mapping.items() if isinstance(n, Mapping) and not n.get("children")]
        current = leaves[-1] if leaves else None
    out: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    while isinstance(current, str) and current in mapping and current not in seen:
        seen.add(current)
        node = mapping[current]
        if not isinstance(node, Mapping):
            break
        out.append(node)
        current = node.get("parent")
    return out[::-1]


def _chatgpt(conv: Mapping[str, Any]) -> Imported | None:
    mapping = conv.get("mapping")
    if not isinstance(mapping, Mapping):
        return None
    created = _time(conv.get("create_time"), 0.0)
    ident = conv.get("id") or conv.get("conversation_id") or f"{conv.get('title')}@{created}"
    out = Imported(f"chatgpt:{ident}", _text(conv.get("title")) or UNTITLED, created)
    for node in _thread(mapping, conv.get("current_node")):
        message = node.get("message")
        if not isinstance(message, Mapping):
            continue
        author = message.get("author")
        role = author.get("role") if isinstance(author, Mapping) else None
        content = message.get("content")
        metadata = message.get("metadata")
        hidden = isinstance(metadata, Mapping) and metadata.get(
            "is_visually_hidden_from_conversation"
        )
        if role not in ("user", "assistant") or not isinstance(content, Mapping) or hidden:
            continue
        if content.get("content_type") not in ("text", "multimodal_text"):
            continue  # code runs, browsing, tool output: not what was said
        parts = content.get("parts")
        text = (
            "\n".join(_text(p) for p in parts if isinstance(p, str))
            if isinstance(parts, list)
            else ""
        )
        if text.strip():
            when = _time(message.get("create_time"), created)
            out.messages.append((role, text.strip(), when))
    if not out.created and out.messages:
        out.created = out.messages[0][2]
    return out


def _own(data: Mapping[str, Any]) -> Imported | None:
    session = data["session"]
    created = _time(session.get("created"), 0.0)
    out = Imported(
        f"sleepchat:{session.get('id')}",
        _text(session.get("title")) or UNTITLED,
        created,
        private=session.get("private") is True,
    )
    messages = data.get("messages")
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, Mapping) or m.get("replaced_by"):
            continue  # the branch shown, as the session was left
        role, text = m.get("role"), _text(m.get("content"))
        if role in ("user", "assistant") and text:
            out.messages.append((role, text, _time(m.get("created"), created)))
    return out


async def store_all(
    store: StorePort,
    found: Iterable[Imported],
    *,
    private: bool = False,
    on_each: Callable[[Imported, ImportResult], None] | None = None,
) -> ImportResult:
    """Store each conversation as a session (one imported before: only what it lacks);
    ``private``: sessions never consolidated into memory."""
    result = ImportResult()
    by_source = {s.source: s for s in await store.list_sessions() if s.source}
    for conv in found:
        if not conv.messages:
            result.empty += 1
            continue
        existing = by_source.get(conv.source)
        own = conv.source.removeprefix("sleepchat:")
        if existing is None and own != conv.source and len(own) >= 4:
            here = await store.get_session(own)  # exported from this very data dir
            existing = here if here is not None and here.id == own else None
        if existing is not None and existing.message_count >= len(conv.messages):
            result.already += 1
            continue
        if existing is None:
            existing = await store.create_session(conv.title)
            # Marked first: an import cut after this finishes the session next time.
            fields: dict[str, Any] = {"source": conv.source, "private": private or conv.private}
            existing = await store.update_session(existing.id, fields)
        for role, text, when in conv.messages[existing.message_count :]:
            await store.append_message(Message(new_id("m", 6), existing.id, role, text, when))
            result.messages += 1
        last = conv.messages[-1][2]
        fields = {"created": conv.created or last, "updated": last}
        by_source[conv.source] = await store.update_session(existing.id, fields)
        result.sessions += 1
        if on_each is not None:
            on_each(conv, result)
    return result


def summary(path: Path, result: ImportResult) -> str:
    parts = [f"imported {_n(result.sessions, 'conversation')} ({_n(result.messages, 'message')})"]
    parts[0] += f" from {path}"
    if result.already:
        parts.append(f"{_n(result.already, 'conversation')} imported before")
    if result.empty:
        parts.append(f"{result.empty} without text skipped")
    return "; ".join(parts)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def import_command(config: Config, file: str, *, consolidate: bool) -> int:
    """Store the file's conversations; with ``consolidate``, read them into memory now."""
    path = Path(file).expanduser()
    found = conversations(read_file(path), path)
    store = await open_store(config.resolved_data_dir())
    try:
        private = config.memory.private
        result = await store_all(store, found, private=private)
        print(summary(path, result))
        if consolidate and not private:
            await consolidate_now(store, config)
        elif result.sessions and config.memory.enabled and not private:
            print(
                "their facts join your memory over the next idle periods "
                "(or now: `sleepchat memory consolidate`)"
            )
    finally:
        await store.close()
    return 0
