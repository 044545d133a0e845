"""What every HTTP client of a model server is built with: the conversation goes to the
configured host and nowhere else.

* A redirect to another origin (scheme, host or port) is refused as an error naming both
  addresses, never followed: a 307 from the model host would otherwise carry every chat,
  reflection and warm-up to a server nobody configured. Same-origin redirects are followed.
* What the server sends is bounded as it arrives (llm/bounds.py): a line or event of a stream,
  a whole JSON answer.
* A loopback host never goes through ``HTTP_PROXY``/``HTTPS_PROXY``: a proxy for this
  machine's own server only sends the conversation elsewhere. Other hosts honour the proxy
  variables as usual, and ``proxy_notice`` (hosts.py) says so at start-up and in ``doctor``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx

from sleepchat.hosts import display_host, is_loopback, origin
from sleepchat.llm.base import BackendServerError
from sleepchat.llm.bounds import bound_response


class RedirectRefused(BackendServerError):
    """The server redirected a request to another origin; it was not followed."""


def _pattern_host(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname


def guarded_client_options(host: str) -> dict[str, Any]:
    """``httpx.AsyncClient`` keyword arguments that keep every request on ``host``."""
    base = display_host(host)
    home = origin(base)

    async def refuse_other_origins(response: httpx.Response) -> None:
        if not response.has_redirect_location:
            return
        target = response.url.join(response.headers["location"])
        if origin(str(target)) != home:
            raise RedirectRefused(
                f"the server at {base} redirected the request to {origin(str(target))}; "
                "sleepchat sends the conversation only to the configured host — if that "
                "address is the right one, set host to it"
            )

    options: dict[str, Any] = {
        "follow_redirects": True,
        "event_hooks": {"response": [refuse_other_origins, bound_response]},
    }
    hostname = urllib.parse.urlsplit(base).hostname or ""
    if hostname and is_loopback(hostname):
        # No proxy for this host, whatever the environment says (a None mount is direct).
        options["mounts"] = {f"all://{_pattern_host(hostname)}": None}
    return options
