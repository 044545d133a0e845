"""Model-server addresses: one parser for the config key, the backend's messages and the
plain-http warning."""

from __future__ import annotations

import pytest

from sleepchat.hosts import display_host, non_loopback_http_warning, normalise_host


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("myhost", "http://myhost:11434"),
        ("myhost:1234", "http://myhost:1234"),
        ("MyHost:1234/", "http://myhost:1234"),
        ("https://x", "https://x:443"),
        ("http://x", "http://x:80"),
        ("HTTPS://x.example:8443/ollama/", "https://x.example:8443/ollama"),
        (":5000", "http://127.0.0.1:5000"),
        ("[::1]", "http://[::1]:11434"),
        ("[::]:9000", "http://[::1]:9000"),
        ("https://[fe80::1]:443", "https://[fe80::1]:443"),
        ("  localhost  ", "http://localhost:11434"),
    ],
)
def test_host_normalisation(given: str, expected: str) -> None:
    assert normalise_host(given) == expected
    assert normalise_host(expected) == expected  # idempotent: a stored value stays the same


@pytest.mark.parametrize(
    ("host", "warns"),
    [
        ("http://127.0.0.1:11434", False),
        ("http://localhost:11434", False),
        ("http://[::1]:11434", False),
        ("https://gpu.example:443", False),
        ("http://gpu.example:11434", True),
        ("http://192.168.1.5:11434", True),
    ],
)
def test_plain_http_to_another_machine_is_warned_about(host: str, warns: bool) -> None:
    warning = non_loopback_http_warning(host)
    if warns:
        assert warning == (
            f"messages will travel unencrypted to {host}; use https:// or a loopback host"
        )
    else:
        assert warning is None


@pytest.mark.parametrize("bad", ["x:notaport", "my host", "ftp://x"])
def test_display_host_never_raises_and_shows_what_was_given(bad: str) -> None:
    # The loader refuses these; a backend built by hand must still report them, not crash.
    assert display_host(f"  {bad} ") == bad


def test_display_host_fills_in_the_default() -> None:
    assert display_host(None) == display_host("") == "http://127.0.0.1:11434"
    assert display_host("0.0.0.0") == "http://127.0.0.1:11434"
