"""Server-side checks of the venues' request signatures, written from the protocol documents.

Kalshi (protocol/kalshi.md §2): ``KALSHI-ACCESS-SIGNATURE`` is base64 of an RSA-PSS (SHA-256, MGF1
SHA-256, salt = 32) or Ed25519 signature over ``timestamp_ms + METHOD + path`` (path without query).
Kraken (protocol/kraken.md §5.2): ``API-Sign`` is base64 HMAC-SHA512, keyed with the base64-decoded
secret, over ``uri_path + SHA256(nonce + post_data)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

KalshiPublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def load_kalshi_public_key(pem: bytes) -> KalshiPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValueError("the Kalshi public key must be RSA or Ed25519")
    return key


def kalshi_headers_problem(
    headers: Mapping[str, str], method: str, path: str, key: KalshiPublicKey | None
) -> str | None:
    """Why a request's Kalshi auth headers are not acceptable, or None when they are.

    ``headers`` must look names up case-insensitively, as HTTP does (aiohttp's request headers do).
    """
    key_id = headers.get("KALSHI-ACCESS-KEY", "")
    stamp = headers.get("KALSHI-ACCESS-TIMESTAMP", "")
    signature = headers.get("KALSHI-ACCESS-SIGNATURE", "")
    if not key_id or not stamp or not signature:
        return "missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE"
    if not stamp.isdigit():
        return "KALSHI-ACCESS-TIMESTAMP must be unix milliseconds"
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return "KALSHI-ACCESS-SIGNATURE is not base64"
    if key is None:
        return None
    message = (stamp + method.upper() + path.split("?", 1)[0]).encode()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, message)
        else:
            key.verify(
                raw, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
            )
    except InvalidSignature:
        return "signature does not verify"
    return None


def kraken_api_sign(secret_b64: str, uri_path: str, nonce: str, post_data: str) -> str:
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()
