"""Stopping llama.cpp inside a step: a request's stop flag that llama.cpp itself reads.

llama.cpp calls an abort callback between the nodes of each step's compute graph; when it
answers true, ``llama_decode`` returns 2, having dropped that step's tokens from the KV cache
and kept everything before them. So a cancel is seen within one node (milliseconds), not at
the end of a step: on Qwen2.5-1.5B here a 512-token prefill step takes seconds.

The callback is the C library's ``strlen``, given the address of a 2-byte string: "" (0: go
on) or "x" (1: stop), read as the callback's bool. A Python callback would say the same but
takes the GIL ~500 times per token (SmolLM2 decoded about 3x slower with one here); ``strlen``
costs nothing and needs no Python in the loop. ``llama_cpp`` is imported lazily.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from typing import Any


class StopFlag(threading.Event):
    """A request's stop flag, mirrored in a C string for llama.cpp's abort check."""

    def __init__(self) -> None:
        super().__init__()
        self.cell = ctypes.create_string_buffer(2)

    def set(self) -> None:
        self.cell.value = b"x"
        super().set()

    def clear(self) -> None:
        self.cell.value = b""
        super().clear()


def strlen_address() -> int | None:
    """The address of the C library's ``strlen`` (None where there is none to find)."""
    name = ctypes.util.find_library("c") if sys.platform == "win32" else None
    try:
        lib = ctypes.CDLL(name) if name else ctypes.CDLL(None)
        return ctypes.cast(lib.strlen, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None


def aborted(exc: BaseException) -> bool:
    """llama.cpp stopped a step because the abort check said so (llama_decode returned 2)."""
    return isinstance(exc, RuntimeError) and str(exc).endswith("returned 2")


class AbortCheck:
    """Points one llama.cpp context's abort check at the running request's ``StopFlag``."""

    def __init__(self) -> None:
        self._reader: Any = None  # the C callback object: kept alive while llama.cpp holds it
        self._never = ctypes.create_string_buffer(1)  # read between requests: "" (go on)

    def watch(self, llama: Any, stop: threading.Event | None) -> bool:
        """Have llama.cpp check ``stop`` (None: a flag never set) inside each step. False
        where it cannot (a stand-in model, no ``strlen``): cancels are then seen between
        prefill chunks and tokens only."""
        ctx = getattr(getattr(llama, "_ctx", None), "ctx", None)
        if ctx is None:
            return False
        import llama_cpp  # loaded already: the model is

        if self._reader is None:
            address = strlen_address()
            if address is None:
                return False
            self._reader = llama_cpp.ggml_abort_callback(address)
        cell = stop.cell if isinstance(stop, StopFlag) else self._never
        llama_cpp.llama_set_abort_callback(ctx, self._reader, ctypes.addressof(cell))
        return True
