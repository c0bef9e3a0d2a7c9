""" "Test connection": one signed request to a venue, answered with a sentence the user can act on.

Kalshi: a signed ``GET {rest}/portfolio/fills?limit=1`` (the signature covers the path without the query,
protocol/kalshi.md §2.3). Kraken: the signed ``POST /0/private/GetWebSocketsToken`` (kraken.md §5), which
also proves the key may open private WebSocket channels. The key is checked before anything touches the
network, so a pasted-wrong key says so instead of "rejected".

No Qt. Messages and exceptions never contain secret text: they are built from fixed wording, HTTP status
codes, host names and the venue's own error codes, and a final scrub removes any secret that still slipped in.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from app.stream import net_errors
from app.user.credentials import kraken_secret_problem
from app.venues.kalshi.auth import KeyFormatError, auth_headers, load_private_key
from app.venues.kraken.auth import NonceSource, SecretFormatError, token_request

TIMEOUT_S = 10.0
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
OK_MESSAGE = "connected: signed request accepted"
_MAX_DETAIL = 120  # venue error text shown to the user is cut here

_Call = Callable[[aiohttp.ClientSession], Awaitable["CheckResult"]]

# One source for the whole process: Kraken refuses a nonce that does not grow for the key.
_NONCES = NonceSource()


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    message: str


async def check_kalshi(
    rest_url: str,
    key_id: str,
    pem: str,
    *,
    timeout: float = TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckResult:
    result = await _check_kalshi(rest_url, key_id.strip(), pem, timeout, ssl_context)
    return _scrubbed(result, pem)


async def check_kraken(
    rest_url: str,
    api_key: str,
    secret: str,
    *,
    timeout: float = TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckResult:
    result = await _check_kraken(rest_url, api_key.strip(), secret.strip(), timeout, ssl_context)
    return _scrubbed(result, secret, api_key)


async def _check_kalshi(
    rest_url: str, key_id: str, pem: str, timeout: float, ssl_context: ssl.SSLContext | None
) -> CheckResult:
    if not key_id:
        return CheckResult(False, "bad key format: the API key id is empty")
    if not pem.strip():
        return CheckResult(False, "bad key format: the private key is empty")
    try:
        key = load_private_key(pem.strip().encode())
    except KeyFormatError as exc:
        return CheckResult(False, f"bad key format: {exc}")
    problem = _url_problem(rest_url)
    if problem is not None:
        return CheckResult(False, problem)
    base = rest_url.rstrip("/")
    path = urlsplit(base).path + "/portfolio/fills"  # signed from the API root, without the query
    headers = auth_headers(key_id, key, "GET", path)

    async def call(http: aiohttp.ClientSession) -> CheckResult:
        async with http.get(
            base + "/portfolio/fills", params={"limit": "1"}, headers=headers, ssl=ssl_context or True
        ) as response:
            if response.status == 200:
                return CheckResult(True, OK_MESSAGE)
            if response.status in (401, 403):
                return CheckResult(
                    False,
                    f"signature rejected (HTTP {response.status}) — check the key id and that the key "
                    "matches",
                )
            return _unexpected(response.status, await _json(response))

    return await _request(rest_url, timeout, call)


async def _check_kraken(
    rest_url: str, api_key: str, secret: str, timeout: float, ssl_context: ssl.SSLContext | None
) -> CheckResult:
    if not api_key:
        return CheckResult(False, "bad key format: the API key is empty")
    problem = kraken_secret_problem(secret)
    if problem is not None:
        return CheckResult(False, f"bad key format: {problem}")
    try:
        request = token_request(api_key, secret, _NONCES.next(), rest_url)
    except SecretFormatError as exc:
        return CheckResult(False, f"bad key format: {exc}")
    problem = _url_problem(rest_url)
    if problem is not None:
        return CheckResult(False, problem)

    async def call(http: aiohttp.ClientSession) -> CheckResult:
        async with http.post(
            request.url, data=request.body, headers=request.headers, ssl=ssl_context or True
        ) as response:
            body = await _json(response)
            errors = body.get("error") if isinstance(body, dict) else None
            if isinstance(errors, list) and errors:
                return CheckResult(False, "Kraken refused: " + _clip(", ".join(map(str, errors))))
            if response.status != 200:
                return _unexpected(response.status, body)
            result = body.get("result") if isinstance(body, dict) else None
            if isinstance(result, dict) and result.get("token"):
                return CheckResult(True, OK_MESSAGE)
            return CheckResult(False, "unexpected answer: no token in Kraken's reply")

    return await _request(rest_url, timeout, call)


def _url_problem(url: str) -> str | None:
    # Credentials never travel in clear text: plain http only to this machine (the simulator).
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in LOOPBACK:
        return None
    return f"refusing to send credentials to {url!r}: use https:// (plain http only to this machine)"


async def _request(url: str, timeout: float, call: _Call) -> CheckResult:
    host = urlsplit(url).hostname or url
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            return await call(http)
    except TimeoutError:  # includes aiohttp's ServerTimeoutError
        return CheckResult(False, f"timed out: {host} did not answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        # The same words as the links use; never the error's own text, which can carry signed headers.
        return CheckResult(False, net_errors.in_words(exc, host))


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return None


def _unexpected(status: int, body: Any) -> CheckResult:
    if status == 429:
        return CheckResult(False, "rate limited (HTTP 429): try again in a minute")
    code = ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code = f" ({_clip(error['code'])})"
    return CheckResult(False, f"unexpected answer: HTTP {status}{code}")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _scrubbed(result: CheckResult, *secrets: str) -> CheckResult:
    """Belt and braces: no secret, nor any line of a PEM body, may reach the user-visible message."""
    message = result.message
    for secret in secrets:
        whole = secret.strip()
        parts = [p for p in secret.split() if len(p) >= 16 and "-----" not in p]  # PEM body lines
        for part in ([whole] if len(whole) >= 8 else []) + parts:
            message = message.replace(part, "[redacted]")
    return result if message == result.message else CheckResult(result.ok, message)
