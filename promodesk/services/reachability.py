"""Why a server could not be reached, in words a marketer can act on.

httpx reports a failed connection as the operating system does ("[Errno -2] Name or service
not known"). When a call never reached the vendor, this looks again, step by step, at the
address: does the name resolve, does anything answer on the port, and says which step failed
("Could not reach api.example.com: the name does not resolve — check the address or your
connection"). The original error stays available as the technical detail.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit

STEP_TIMEOUT_S = 5.0


async def why_unreachable(url: str, *, step_timeout: float = STEP_TIMEOUT_S) -> str | None:
    """Which step of reaching `url`'s server fails, in words; None when the server can be
    reached (then the failure was past connecting, and the caller's own words stand)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return f"Could not reach {url}: it is not a web address — check the API base URL"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"Could not reach {host}: its port is not a number — check the API base URL"
    reached = f"Could not reach {host}"
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), step_timeout)
    except socket.gaierror:
        return f"{reached}: the name does not resolve — check the address or your connection"
    except TimeoutError:
        return f"{reached}: finding it took over {step_timeout:.0f} s — check your connection"
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), step_timeout)
    except ConnectionRefusedError:
        return (
            f"{reached}: nothing answers on port {port} — check the address (and its port, "
            "if it has one)"
        )
    except TimeoutError:
        return (
            f"{reached}: it did not answer within {step_timeout:.0f} s — a firewall or proxy may "
            "be in the way, or the server is down"
        )
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        return f"{reached}: {reason} — check your connection"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None
