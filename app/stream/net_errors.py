"""A client-side network failure in words a trader reads at a glance, for every place that connects
(the links, the connection check, the catalog), with the technical text kept apart for a tooltip.

aiohttp's own text (``ClientConnectorDNSError: Cannot connect to host ws.kraken.com:443 ssl:default
[Name or service not known]``) is exact but long, and some of its errors carry the request (so its
signed headers) in their text: the words never include it, the detail only the class and the OS error.
"""

from __future__ import annotations

import os

import aiohttp


def in_words(exc: BaseException, host: str) -> str:
    """What went wrong, short, naming the host."""
    if isinstance(exc, TimeoutError):  # includes aiohttp's ServerTimeoutError
        return f"timed out: {host} did not answer"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate of {host} is not trusted (check the clock and proxies)"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS handshake with {host} failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"no network: cannot look up {host}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        err = exc.os_error
        if isinstance(err, ConnectionRefusedError):
            return f"{host} refused the connection (nothing listening on port {exc.port})"
        return f"no network: cannot reach {host} ({_os_reason(err)})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"{host} closed the connection"
    if isinstance(exc, aiohttp.ClientError):
        return f"the connection to {host} failed ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"network error with {host} ({_os_reason(exc)})"
    return f"the connection to {host} failed ({type(exc).__name__})"


def detail(exc: BaseException) -> str:
    """The technical text for a tooltip or a bug report (class and OS error; never a request)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        err = exc.os_error
        return f"{type(exc).__name__}: {exc.host}:{exc.port}: {type(err).__name__}: {_os_reason(err)}"
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return type(exc).__name__  # their text can hold the request line and headers
    return f"{type(exc).__name__}: {exc}"[:300]


def _os_reason(err: OSError) -> str:
    # The errno's text beats asyncio's ("Connect call failed ('1.2.3.4', 443)"); resolver errors have
    # negative numbers, which only their own strerror names.
    if err.errno and err.errno > 0:
        return os.strerror(err.errno)
    return err.strerror or type(err).__name__
