"""Model-server addresses: the one parser behind the config key, the backend and the warning.

Stdlib only: the command line uses it before anything heavy is imported.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Mapping

OLLAMA_PORT = 11434
DEFAULT_HOST = f"http://127.0.0.1:{OLLAMA_PORT}"


def normalise_host(host: str) -> str:
    """A full ``scheme://host:port[/path]`` URL, the way the Ollama client reads OLLAMA_HOST.

    ``0.0.0.0`` (what a server listens on) becomes ``127.0.0.1`` (what a client connects to).
    Raises ValueError for an address no client could connect to.
    """
    text = host.strip()
    if not text:
        return DEFAULT_HOST
    if any(c.isspace() for c in text):
        raise ValueError("contains spaces")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest, port = "http", text, OLLAMA_PORT
    else:
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError("scheme must be http or https")
        port = 80 if scheme == "http" else 443
    split = urllib.parse.urlsplit(f"{scheme}://{rest}")
    if split.query or split.fragment or split.username or split.password:
        raise ValueError("unexpected URL parts")
    name = split.hostname or "127.0.0.1"
    port = split.port or port  # raises ValueError for a port out of range or not a number
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError("bad host name") from None
    else:
        if address.is_unspecified:
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        name = f"[{address}]" if address.version == 6 else str(address)
    path = split.path.strip("/")
    return f"{scheme}://{name}:{port}" + (f"/{path}" if path else "")


def display_host(host: str | None) -> str:
    """``host`` as a full URL for messages and the client; never raises (the config loader has
    already refused a bad address; anything else fails when connecting, naming it)."""
    try:
        return normalise_host(host or "")
    except ValueError:
        return (host or "").strip()


def is_loopback(hostname: str) -> bool:
    """This machine, by name or address (names other than localhost are not resolved)."""
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: we do not resolve it (no lookups just to print a warning)
    return address.is_loopback or address.is_unspecified


def non_loopback_http_warning(host: str) -> str | None:
    """A warning when ``host`` is a plain ``http://`` URL to another machine, else None."""
    try:
        split = urllib.parse.urlsplit(display_host(host))
    except ValueError:
        return None
    if split.scheme.lower() != "http" or is_loopback(split.hostname or "127.0.0.1"):
        return None
    return f"messages will travel unencrypted to {host}; use https:// or a loopback host"


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL (default ports filled in), for same-origin checks."""
    split = urllib.parse.urlsplit(url)
    scheme = split.scheme.lower()
    port = split.port or (443 if scheme == "https" else 80)
    name = (split.hostname or "").lower()
    name = f"[{name}]" if ":" in name else name
    return f"{scheme}://{name}:{port}"


def proxy_for(url: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(proxy URL, the variable that set it) that requests to ``url`` would go through, or
    None: direct. A loopback host is always direct (a proxy for this machine's own server
    only sends the conversation elsewhere); ``NO_PROXY`` is honoured as curl and httpx read it."""
    split = urllib.parse.urlsplit(url)
    hostname = split.hostname or ""
    if not hostname or is_loopback(hostname):
        return None
    lowered = {k.lower(): (k, v) for k, v in env.items() if v.strip()}
    no_proxy = lowered.get("no_proxy", ("", ""))[1]
    if no_proxy:
        import urllib.request as request  # lazily: it imports http.client and ssl

        bypass = request.proxy_bypass_environment  # type: ignore[attr-defined]
        if bypass(hostname, {"no": no_proxy}):
            return None
    for name in (f"{split.scheme.lower()}_proxy", "all_proxy"):
        if name in lowered:
            var, value = lowered[name]
            return value.strip(), var
    return None


def proxy_notice(url: str, env: Mapping[str, str]) -> str | None:
    """A one-line notice when requests to ``url`` go through a proxy (credentials masked by
    the caller's error root or here: only scheme, host and port are shown)."""
    found = proxy_for(url, env)
    if found is None:
        return None
    proxy, var = found
    try:
        split = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        shown = f"{split.scheme}://{split.hostname}" + (f":{split.port}" if split.port else "")
    except ValueError:
        shown = "(unparsable)"
    return f"requests to {display_host(url)} go through the proxy {shown} (set by {var})"


def host_notices(host: str, env: Mapping[str, str]) -> list[str]:
    """What a user should know at start-up about where the conversation travels."""
    return [n for n in (non_loopback_http_warning(host), proxy_notice(host, env)) if n]
