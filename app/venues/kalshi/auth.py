"""Kalshi request signing (protocol/kalshi.md §2).

Headers on the WebSocket upgrade and on REST calls::

    KALSHI-ACCESS-KEY: <key id>
    KALSHI-ACCESS-TIMESTAMP: <unix ms>
    KALSHI-ACCESS-SIGNATURE: base64(sign(timestamp + METHOD + path-without-query))

RSA keys sign with PSS (SHA-256, MGF1-SHA-256, salt = digest length); Ed25519 keys sign the text
directly. The PEM header does not tell the type (PKCS#8 RSA keys also say "PRIVATE KEY"), so the type
comes from the parsed key.
"""

from __future__ import annotations

import base64
import time
from enum import StrEnum

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from app.venues.kalshi.endpoints import WS_PATH

PrivateKey = RSAPrivateKey | Ed25519PrivateKey
PublicKey = RSAPublicKey | Ed25519PublicKey

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


class KeyType(StrEnum):
    RSA = "rsa"
    ED25519 = "ed25519"


class KeyFormatError(ValueError):
    """The private key text is not a usable Kalshi key. The message never contains key material."""


def load_private_key(pem: bytes | str, password: bytes | None = None) -> PrivateKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        raise KeyFormatError("the private key is encrypted; give its password") from None
    except (ValueError, UnsupportedAlgorithm):
        if password is not None and b"ENCRYPTED" in data:
            raise KeyFormatError("could not decrypt the private key: wrong password?") from None
        raise KeyFormatError("not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)") from None
    if isinstance(key, RSAPrivateKey):
        if key.key_size < 2048:
            raise KeyFormatError(f"RSA key is {key.key_size} bits; Kalshi keys are 2048 bits or more")
        return key
    if isinstance(key, Ed25519PrivateKey):
        return key
    raise KeyFormatError(f"unsupported key type {type(key).__name__}; Kalshi uses RSA or Ed25519")


def key_type(key: PrivateKey | PublicKey) -> KeyType:
    return KeyType.ED25519 if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey) else KeyType.RSA


def message_to_sign(timestamp_ms: int, method: str, path: str) -> bytes:
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def sign(key: PrivateKey, message: bytes) -> str:
    if isinstance(key, Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        signature = key.sign(message, _PSS, hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: PublicKey, message: bytes, signature_b64: str) -> bool:
    """Check a signature as Kalshi does (the simulator and tests use this)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, _PSS, hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def auth_headers(
    key_id: str, key: PrivateKey, method: str = "GET", path: str = WS_PATH, now_ms: int | None = None
) -> dict[str, str]:
    """The three KALSHI-ACCESS-* headers; sign afresh for every (re)connect."""
    ts = int(time.time() * 1000) if now_ms is None else now_ms
    return {
        "KALSHI-ACCESS-KEY": key_id,
        "KALSHI-ACCESS-TIMESTAMP": str(ts),
        "KALSHI-ACCESS-SIGNATURE": sign(key, message_to_sign(ts, method, path)),
    }
