"""Kraken REST signing for ``GetWebSocketsToken`` (protocol/kraken.md §5).

    API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body)))

The nonce must only ever grow for a key, so the generator never repeats or goes back even when the
clock does. It counts milliseconds (the scale most tools use); never mix scales on one key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from app.venues.kraken.endpoints import REST_BASE, TOKEN_PATH


class SecretFormatError(ValueError):
    """The API secret is not base64. The message never contains the secret."""


def api_sign(path: str, nonce: str | int, body: str, secret_b64: str) -> str:
    try:
        secret = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError("the Kraken API secret is not valid base64") from None
    if not secret:
        raise SecretFormatError("the Kraken API secret is empty")
    digest = hashlib.sha256((str(nonce) + body).encode()).digest()
    mac = hmac.new(secret, path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


class NonceSource:
    """Strictly increasing millisecond nonces, safe across threads."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, int(time.time() * 1000))
            return self._last


@dataclass(frozen=True, slots=True)
class SignedRequest:
    url: str
    headers: dict[str, str]
    body: str


def token_request(
    api_key: str, secret_b64: str, nonce: int, base_url: str = REST_BASE, otp: str | None = None
) -> SignedRequest:
    """The POST that fetches a WebSocket token; fetch a fresh one for every authenticated connection."""
    fields: dict[str, str | int] = {"nonce": nonce}
    if otp:
        fields["otp"] = otp
    body = urlencode(fields)
    headers = {
        "API-Key": api_key,
        "API-Sign": api_sign(TOKEN_PATH, nonce, body, secret_b64),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    return SignedRequest(base_url.rstrip("/") + TOKEN_PATH, headers, body)


def private_request(
    path: str,
    api_key: str,
    secret_b64: str,
    nonce: int,
    *,
    fields: dict[str, str | int] | None = None,
    base_url: str = REST_BASE,
) -> SignedRequest:
    """Any signed private REST call (form body with the nonce first), e.g. TradesHistory."""
    body = urlencode({"nonce": nonce, **(fields or {})})
    headers = {
        "API-Key": api_key,
        "API-Sign": api_sign(path, nonce, body, secret_b64),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    return SignedRequest(base_url.rstrip("/") + path, headers, body)


def verify_api_sign(path: str, body: str, nonce: str, signature: str, secret_b64: str) -> bool:
    """Server-side check (the simulator uses it)."""
    try:
        expected = api_sign(path, nonce, body, secret_b64)
    except SecretFormatError:
        return False
    return hmac.compare_digest(expected, signature)
