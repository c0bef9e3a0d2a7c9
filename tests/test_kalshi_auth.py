"""Kalshi request signing and endpoints (protocol/kalshi.md §1, §2)."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from app.core.instruments import Environment
from app.venues.kalshi.auth import (
    KeyFormatError,
    KeyType,
    auth_headers,
    key_type,
    load_private_key,
    message_to_sign,
    sign,
    verify,
)
from app.venues.kalshi.endpoints import rest_url, ws_url

NOW_MS = 1703123456789
WS_MESSAGE = b"1703123456789GET/trade-api/ws/v2"

# RFC 8032 §7.1, TEST 1.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
    "d25bf5f0595bbe24655141438e7a100b"
)

# The exact PSS parameters Kalshi verifies with: salt length 32 = SHA-256 digest length.
KALSHI_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _pem_body(pem: bytes) -> list[str]:
    """The base64 lines of a PEM (everything between the BEGIN and END lines)."""
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


@pytest.fixture(scope="module")
def rsa_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_pkcs1_pem(rsa_key: RSAPrivateKey) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def rsa_pkcs8_pem(rsa_key: RSAPrivateKey) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def ed_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- key loading -------------------------------------------------------------------------------------


def test_pem_headers_are_the_ambiguous_ones(
    rsa_pkcs1_pem: bytes, rsa_pkcs8_pem: bytes, ed_pem: bytes
) -> None:
    """The fixtures really exercise the ambiguous case: PKCS#8 RSA and Ed25519 share one header."""
    assert rsa_pkcs1_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert rsa_pkcs8_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ed_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_rsa_pkcs1_loads_as_rsa(rsa_pkcs1_pem: bytes) -> None:
    """A PKCS#1 RSA key loads and is typed RSA."""
    key = load_private_key(rsa_pkcs1_pem)
    assert isinstance(key, RSAPrivateKey)
    assert key_type(key) is KeyType.RSA
    assert key_type(key.public_key()) is KeyType.RSA


def test_rsa_pkcs8_loads_as_rsa_despite_generic_header(rsa_pkcs8_pem: bytes) -> None:
    """A PKCS#8 RSA key ("BEGIN PRIVATE KEY") is typed from the parsed key, so it is RSA."""
    key = load_private_key(rsa_pkcs8_pem)
    assert isinstance(key, RSAPrivateKey)
    assert key_type(key) is KeyType.RSA


def test_ed25519_pkcs8_loads_as_ed25519(ed_pem: bytes) -> None:
    """A PKCS#8 Ed25519 key is typed ED25519 (private and public halves)."""
    key = load_private_key(ed_pem)
    assert isinstance(key, Ed25519PrivateKey)
    assert key_type(key) is KeyType.ED25519
    assert key_type(key.public_key()) is KeyType.ED25519


def test_load_accepts_str_pem(ed_pem: bytes, rsa_pkcs1_pem: bytes) -> None:
    """PEM given as text loads the same as bytes."""
    assert key_type(load_private_key(ed_pem.decode())) is KeyType.ED25519
    assert key_type(load_private_key(rsa_pkcs1_pem.decode())) is KeyType.RSA


def test_encrypted_pem_loads_with_password(rsa_key: RSAPrivateKey) -> None:
    """An encrypted key loads when its password is given."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    key = load_private_key(pem, password=b"hunter2")
    assert key_type(key) is KeyType.RSA


# --- headers and signatures ----------------------------------------------------------------------------


def test_auth_headers_rsa_exact_shape_and_pss_salt_32(rsa_pkcs1_pem: bytes) -> None:
    """RSA headers: exactly three, ms timestamp, signature is RSA-PSS/SHA-256/MGF1-SHA-256 with salt 32."""
    key = load_private_key(rsa_pkcs1_pem)
    headers = auth_headers("key-id-123", key, now_ms=NOW_MS)
    assert set(headers) == {"KALSHI-ACCESS-KEY", "KALSHI-ACCESS-TIMESTAMP", "KALSHI-ACCESS-SIGNATURE"}
    assert headers["KALSHI-ACCESS-KEY"] == "key-id-123"
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1703123456789"
    signature = headers["KALSHI-ACCESS-SIGNATURE"]
    public = key.public_key()
    assert verify(public, WS_MESSAGE, signature)
    raw = base64.b64decode(signature, validate=True)
    assert len(raw) == 256
    # Independent check with cryptography itself, salt length pinned to 32 bytes.
    public.verify(raw, WS_MESSAGE, KALSHI_PSS, hashes.SHA256())


def test_rsa_signature_rejects_other_salt_lengths(rsa_pkcs8_pem: bytes) -> None:
    """The salt really is 32 bytes: verifying with salt 20, 31, 33 or the 2048-bit maximum (222) fails."""
    key = load_private_key(rsa_pkcs8_pem)
    raw = base64.b64decode(sign(key, WS_MESSAGE))
    for salt in (20, 31, 33, 222):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        with pytest.raises(InvalidSignature):
            key.public_key().verify(raw, WS_MESSAGE, pss, hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.public_key().verify(raw, WS_MESSAGE, padding.PKCS1v15(), hashes.SHA256())


def test_auth_headers_ed25519_plain_signature(ed_pem: bytes) -> None:
    """Ed25519 headers: the signature is plain Ed25519 over timestamp+GET+ws path."""
    key = load_private_key(ed_pem)
    assert isinstance(key, Ed25519PrivateKey)
    headers = auth_headers("kid", key, now_ms=NOW_MS)
    assert set(headers) == {"KALSHI-ACCESS-KEY", "KALSHI-ACCESS-TIMESTAMP", "KALSHI-ACCESS-SIGNATURE"}
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1703123456789"
    signature = headers["KALSHI-ACCESS-SIGNATURE"]
    assert verify(key.public_key(), WS_MESSAGE, signature)
    raw = base64.b64decode(signature, validate=True)
    key.public_key().verify(raw, WS_MESSAGE)  # independent check; raises on failure
    assert raw == key.sign(WS_MESSAGE)  # Ed25519 is deterministic: nothing is pre-hashed


def test_auth_headers_default_timestamp_is_now_in_ms(ed_pem: bytes) -> None:
    """Without now_ms the timestamp is the current time in milliseconds, not seconds."""
    key = load_private_key(ed_pem)
    before = int(time.time() * 1000)
    headers = auth_headers("kid", key)
    after = int(time.time() * 1000)
    ts = headers["KALSHI-ACCESS-TIMESTAMP"]
    assert ts.isdigit()
    assert before <= int(ts) <= after
    assert verify(key.public_key(), f"{ts}GET/trade-api/ws/v2".encode(), headers["KALSHI-ACCESS-SIGNATURE"])


def test_auth_headers_rest_path_signs_without_query(ed_pem: bytes) -> None:
    """A REST call signs method + path with the query string stripped."""
    key = load_private_key(ed_pem)
    headers = auth_headers("kid", key, method="get", path="/trade-api/v2/markets?status=open", now_ms=5)
    assert verify(key.public_key(), b"5GET/trade-api/v2/markets", headers["KALSHI-ACCESS-SIGNATURE"])


def test_message_to_sign_strips_query_and_uppercases() -> None:
    """The pre-sign text is timestamp + METHOD + path without the query string."""
    assert message_to_sign(1, "get", "/trade-api/v2/markets?status=open") == b"1GET/trade-api/v2/markets"
    assert message_to_sign(NOW_MS, "GET", "/trade-api/ws/v2") == WS_MESSAGE
    orders = "/trade-api/v2/portfolio/orders"
    assert message_to_sign(7, "post", orders) == b"7POST/trade-api/v2/portfolio/orders"


def test_rfc8032_test1_vector() -> None:
    """RFC 8032 §7.1 TEST 1: the loaded key signs the empty message to the published signature."""
    raw_key = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    pem = raw_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = load_private_key(pem)
    assert key_type(key) is KeyType.ED25519
    public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public_raw == RFC8032_PUBLIC
    assert base64.b64decode(sign(key, b"")) == RFC8032_SIGNATURE
    rfc_public = Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC)
    assert verify(rfc_public, b"", base64.b64encode(RFC8032_SIGNATURE).decode())


@pytest.mark.parametrize("pem_fixture", ["rsa_pkcs1_pem", "ed_pem"])
def test_tampered_message_or_signature_fails(pem_fixture: str, request: pytest.FixtureRequest) -> None:
    """verify rejects a changed message, a flipped signature bit, and non-base64 signature text."""
    key = load_private_key(request.getfixturevalue(pem_fixture))
    public = key.public_key()
    signature = sign(key, WS_MESSAGE)
    assert verify(public, WS_MESSAGE, signature)
    assert not verify(public, b"1703123456790GET/trade-api/ws/v2", signature)
    assert not verify(public, WS_MESSAGE + b"?x=1", signature)
    raw = bytearray(base64.b64decode(signature))
    raw[0] ^= 0x01
    assert not verify(public, WS_MESSAGE, base64.b64encode(bytes(raw)).decode())
    assert not verify(public, WS_MESSAGE, "not base64 !!")
    assert not verify(public, WS_MESSAGE, "")


def test_signature_from_other_key_type_fails(rsa_pkcs1_pem: bytes, ed_pem: bytes) -> None:
    """An RSA signature does not verify under an Ed25519 public key, and vice versa."""
    rsa_key = load_private_key(rsa_pkcs1_pem)
    ed_key = load_private_key(ed_pem)
    assert not verify(ed_key.public_key(), WS_MESSAGE, sign(rsa_key, WS_MESSAGE))
    assert not verify(rsa_key.public_key(), WS_MESSAGE, sign(ed_key, WS_MESSAGE))


# --- bad keys ----------------------------------------------------------------------------------------------


def _assert_key_error_hides(pem: bytes | str, body_lines: list[str], password: bytes | None = None) -> str:
    with pytest.raises(KeyFormatError) as info:
        load_private_key(pem, password=password)
    exc = info.value
    assert isinstance(exc, ValueError)
    text = f"{exc!s} {exc!r}"
    for line in body_lines:
        assert line not in text
    # The original cryptography error (which could quote input) is not chained as the cause.
    assert exc.__cause__ is None
    return str(exc)


def test_garbage_pem_raises_key_format_error() -> None:
    """Text that is not a PEM private key raises KeyFormatError without quoting it."""
    body = "U0VDUkVUU0VDUkVUU0VDUkVUIG5vdCBhIGtleQ=="
    garbage = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    _assert_key_error_hides(garbage, [body])
    _assert_key_error_hides(b"hello, not a key", ["hello, not a key"])
    _assert_key_error_hides("", [])


def test_encrypted_pem_without_password_raises(rsa_key: RSAPrivateKey) -> None:
    """An encrypted key without a password raises KeyFormatError that says so, without the body."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    message = _assert_key_error_hides(pem, _pem_body(pem))
    assert "password" in message
    assert "hunter2" not in message


def test_encrypted_pem_wrong_password_raises(rsa_key: RSAPrivateKey) -> None:
    """An encrypted key with the wrong password raises KeyFormatError, not a raw cryptography error."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    _assert_key_error_hides(pem, _pem_body(pem), password=b"wrong")


def test_rsa_1024_is_refused() -> None:
    """An RSA key under 2048 bits raises KeyFormatError naming the size, not the key."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    message = _assert_key_error_hides(pem, _pem_body(pem))
    assert "1024" in message


def test_ec_key_is_refused() -> None:
    """An EC (secp256r1) key is a valid PEM key but not a Kalshi key type: KeyFormatError."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _assert_key_error_hides(pem, _pem_body(pem))


# --- endpoints ---------------------------------------------------------------------------------------------


def test_ws_urls() -> None:
    """WebSocket URLs are the dedicated Trade-API hosts with /trade-api/ws/v2 (kalshi.md §1)."""
    assert ws_url("production") == "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
    assert ws_url("demo") == "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
    assert ws_url(Environment.PRODUCTION) == ws_url("production")
    assert ws_url(Environment.DEMO) == ws_url("demo")


def test_rest_urls() -> None:
    """REST base URLs are the dedicated Trade-API hosts with /trade-api/v2 (kalshi.md §1)."""
    assert rest_url("production") == "https://external-api.kalshi.com/trade-api/v2"
    assert rest_url("demo") == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert rest_url(Environment.PRODUCTION) == rest_url("production")


def test_unknown_env_raises() -> None:
    """An unknown environment name is refused rather than defaulting to a host."""
    with pytest.raises(ValueError):
        ws_url("staging")
    with pytest.raises(ValueError):
        rest_url("prod")
