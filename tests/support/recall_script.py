"""Recall end to end, as a user meets it: for each pair (P, A) a session of script mode where
the (fake) model predicts exactly P while the user idles, then the user asks A. Was P's cached
answer served? Everything between (the sleep cycle, the store, recall, the reply) is real."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sleepchat.devtools.fake_ollama import FakeOllama
from support.cli import events, sleepchat

_TOPIC = re.compile(r"topic (\d+):")


@dataclass
class Outcome:
    predicted: str
    asked: str
    predicted_ok: bool  # the reflection stored the prediction (else the pair measured nothing)
    served: bool  # the reply to A was P's cached answer


def _reply(pairs: Sequence[tuple[str, str]]):  # type: ignore[no-untyped-def]
    def reply(request: dict[str, Any]) -> str:
        text = " ".join(str(m.get("content", "")) for m in request["messages"])
        found = _TOPIC.findall(text)
        k = int(found[-1]) if found else 0
        predicted = pairs[k][0]
        fmt = request.get("format")
        if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
            return json.dumps({"facts": []})
        if isinstance(fmt, dict):
            return json.dumps({"questions": [predicted]})
        if request["messages"][-1]["content"] == predicted:
            return f"cached answer {k}"
        return f"About that ({predicted}): it depends, here is an overview for topic {k}."

    return reply


def served_in_script_mode(pairs: Sequence[tuple[str, str]], data: Path) -> list[Outcome]:
    lines = []
    for k, (_p, asked) in enumerate(pairs):
        lines += [f"/new pair {k}", f"topic {k}: I have a question coming up.", "/idle", asked]
    with FakeOllama() as srv:
        srv.configure(reply=_reply(pairs))
        proc = sleepchat(
            "--json", data=data, host=srv.url, stdin=("\n".join(lines) + "\n").encode(),
            timeout=60 + 2 * len(pairs),
        )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    evs = [e for e in events(proc.stdout) if e["type"] in ("reply", "reflection")]
    out: list[Outcome] = []
    for k, (predicted, asked) in enumerate(pairs):
        first, reflection, answer = evs[3 * k : 3 * k + 3]
        assert first["type"] == "reply" and reflection["type"] == "reflection", (first, reflection)
        assert answer["type"] == "reply", answer
        ok = reflection.get("predictions", 0) == 1
        served = answer["source"] == "prediction"
        assert not served or answer["text"] == f"cached answer {k}"
        out.append(Outcome(predicted, asked, ok, served))
    return out
