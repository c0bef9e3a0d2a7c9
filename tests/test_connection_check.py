"""app/user/connection_check.py against the real simulator: real keys, real signatures, real sockets.

The simulator is given the public key (Kalshi) or the key and secret (Kraken), so it verifies every
signature and refuses a wrong one the way the venue does. No message may ever contain secret text.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import os
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from app.sim.server import SimOptions, Simulator
from app.user import connection_check as credcheck
from app.user.connection_check import OK_MESSAGE, CheckResult, check_kalshi, check_kraken
from app.user.credentials import describe_kalshi_key

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
KRAKEN_KEY = "sim-kraken-api-key"
KRAKEN_SECRET = base64.b64encode(bytes(range(64))).decode()


def _pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _public_pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def assert_clean(result: CheckResult, *secrets: str) -> None:
    """Neither a whole secret nor any line of a PEM body is in the message."""
    for secret in secrets:
        assert secret.strip() not in result.message
        for line in secret.split():
            if len(line) >= 16 and "-----" not in line:
                assert line not in result.message


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the check went to the network")

    monkeypatch.setattr(aiohttp, "ClientSession", refuse)  # credcheck's only way out
    yield


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------- Kalshi


@pytest_asyncio.fixture
async def kalshi_sim(ed_key: ed25519.Ed25519PrivateKey) -> AsyncIterator[Simulator]:
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(ed_key))) as sim:
        yield sim


@pytest.mark.asyncio
async def test_kalshi_ed25519_key_is_accepted(
    kalshi_sim: Simulator, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
    result = await check_kalshi(kalshi_sim.urls["kalshi_rest"], KEY_ID, pem)
    assert result == CheckResult(True, OK_MESSAGE)
    assert result.message == "connected: signed request accepted"


@pytest.mark.asyncio
async def test_kalshi_rsa_key_is_accepted_and_a_wrong_one_rejected(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    pem = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)  # as Kalshi hands out RSA keys
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(rsa_key))) as sim:
        url = sim.urls["kalshi_rest"]
        assert (await check_kalshi(url, KEY_ID, pem)).ok
        wrong_pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
        result = await check_kalshi(url, KEY_ID, wrong_pem)
    assert not result.ok
    assert result.message == ("signature rejected (HTTP 401) — check the key id and that the key matches")
    assert_clean(result, wrong_pem)


@pytest.mark.asyncio
async def test_kalshi_wrong_key_is_rejected(kalshi_sim: Simulator) -> None:
    other = _pem(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.PKCS8)
    result = await check_kalshi(kalshi_sim.urls["kalshi_rest"], KEY_ID, other)
    assert not result.ok
    assert result.message.startswith("signature rejected (HTTP 401)")
    assert_clean(result, other)


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_network")
async def test_kalshi_bad_key_is_reported_before_any_network(rsa_key: rsa.RSAPrivateKey) -> None:
    url = "https://external-api.kalshi.com/trade-api/v2"
    body = "bm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0IGhlcmU="
    garbage = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    result = await check_kalshi(url, KEY_ID, garbage)
    assert not result.ok
    assert result.message.startswith("bad key format: not a PEM private key")
    assert_clean(result, garbage)

    small = _pem(
        rsa.generate_private_key(public_exponent=65537, key_size=1024), serialization.PrivateFormat.PKCS8
    )
    result = await check_kalshi(url, KEY_ID, small)
    assert result.message == "bad key format: RSA key is 1024 bits; Kalshi keys are 2048 bits or more"
    assert_clean(result, small)

    pem = _pem(rsa_key, serialization.PrivateFormat.PKCS8)
    assert (await check_kalshi(url, "  ", pem)).message == "bad key format: the API key id is empty"
    assert (await check_kalshi(url, KEY_ID, "")).message == "bad key format: the private key is empty"


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_network")
async def test_plain_http_only_to_this_machine(ed_key: ed25519.Ed25519PrivateKey) -> None:
    pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
    result = await check_kalshi("http://external-api.kalshi.com/trade-api/v2", KEY_ID, pem)
    assert not result.ok and result.message.startswith("refusing to send credentials")
    result = await check_kraken("http://api.kraken.com", KRAKEN_KEY, KRAKEN_SECRET)
    assert not result.ok and "use https://" in result.message


@pytest.mark.asyncio
async def test_a_closed_port_is_named_as_refused(ed_key: ed25519.Ed25519PrivateKey) -> None:
    pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
    url = f"http://127.0.0.1:{_closed_port()}/trade-api/v2"
    result = await check_kalshi(url, KEY_ID, pem)
    assert not result.ok
    assert result.message.startswith("127.0.0.1 refused the connection (nothing listening on port ")
    assert_clean(result, pem)
    result = await check_kraken(f"http://127.0.0.1:{_closed_port()}", KRAKEN_KEY, KRAKEN_SECRET)
    assert result.message.startswith("127.0.0.1 refused the connection")
    assert_clean(result, KRAKEN_SECRET)


@pytest.mark.asyncio
async def test_silent_server_times_out(ed_key: ed25519.Ed25519PrivateKey) -> None:
    accepted = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # never answers; returns when the client gives up
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
        result = await check_kalshi(f"http://127.0.0.1:{port}/trade-api/v2", KEY_ID, pem, timeout=0.3)
    finally:
        server.close()
    assert accepted.is_set()
    assert result == CheckResult(False, "timed out: 127.0.0.1 did not answer within 0.3 s")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_text(_pem_ec(key))
    return cert_path, key_path


def _pem_ec(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.asyncio
async def test_https_verifies_the_certificate(tmp_path: Path, ed_key: ed25519.Ed25519PrivateKey) -> None:
    cert, key = _self_signed(tmp_path)
    pem = _pem(ed_key, serialization.PrivateFormat.PKCS8)
    options = SimOptions(
        rate=0, tls_cert=str(cert), tls_key=str(key), kalshi_public_key_pem=_public_pem(ed_key)
    )
    async with Simulator(options) as sim:
        url = sim.urls["kalshi_rest"]
        assert url.startswith("https://127.0.0.1:")
        untrusted = await check_kalshi(url, KEY_ID, pem)
        trusted = await check_kalshi(url, KEY_ID, pem, ssl_context=ssl.create_default_context(cafile=cert))
    assert not untrusted.ok
    assert untrusted.message == "TLS certificate of 127.0.0.1 is not trusted (check the clock and proxies)"
    assert trusted == CheckResult(True, OK_MESSAGE)


def test_describe_kalshi_key(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> None:
    assert describe_kalshi_key(_pem(ed_key, serialization.PrivateFormat.PKCS8)) == "Ed25519 key"
    assert describe_kalshi_key(_pem(rsa_key, serialization.PrivateFormat.PKCS8)) == "RSA-2048 key"
    assert describe_kalshi_key("\n" + _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)) == (
        "RSA-2048 key"
    )


# ---------------------------------------------------------------------------------------- Kraken


@pytest_asyncio.fixture
async def kraken_sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimOptions(rate=0, kraken_key=KRAKEN_KEY, kraken_secret=KRAKEN_SECRET)) as sim:
        yield sim


@pytest.mark.asyncio
async def test_kraken_good_secret_gets_a_token(kraken_sim: Simulator) -> None:
    url = kraken_sim.urls["kraken_rest"]
    assert await check_kraken(url, KRAKEN_KEY, KRAKEN_SECRET) == CheckResult(True, OK_MESSAGE)
    # Twice in a row: the nonce keeps growing, so the second is accepted too.
    assert (await check_kraken(url, KRAKEN_KEY, f"  {KRAKEN_SECRET}\n")).ok


@pytest.mark.asyncio
async def test_kraken_wrong_secret_and_key_are_refused(kraken_sim: Simulator) -> None:
    url = kraken_sim.urls["kraken_rest"]
    other = base64.b64encode(os.urandom(64)).decode()
    result = await check_kraken(url, KRAKEN_KEY, other)
    assert result == CheckResult(False, "Kraken refused: EAPI:Invalid signature")
    assert_clean(result, other)
    result = await check_kraken(url, "not-the-key", KRAKEN_SECRET)
    assert result == CheckResult(False, "Kraken refused: EAPI:Invalid key")
    assert_clean(result, KRAKEN_SECRET)


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_network")
async def test_kraken_bad_secret_is_reported_before_any_network() -> None:
    secret = "this is not base64 at all!"
    result = await check_kraken("https://api.kraken.com", KRAKEN_KEY, secret)
    assert result == CheckResult(
        False, "bad key format: the API secret is not valid base64 (copy it again from Kraken)"
    )
    assert (await check_kraken("https://api.kraken.com", "", KRAKEN_SECRET)).message == (
        "bad key format: the API key is empty"
    )
    truncated = KRAKEN_SECRET[:44]  # half a pasted secret is still valid base64
    assert (await check_kraken("https://api.kraken.com", KRAKEN_KEY, truncated)).message == (
        "bad key format: the API secret is 33 bytes once decoded, Kraken's are 64 "
        "(copy all of it again from Kraken)"
    )
    assert (await check_kraken("https://api.kraken.com", KRAKEN_KEY, " ")).message == (
        "bad key format: the API secret is empty"
    )


def test_scrub_removes_secret_text_that_slipped_in() -> None:
    leaked = CheckResult(False, f"server said: {KRAKEN_SECRET}")
    assert credcheck._scrubbed(leaked, KRAKEN_SECRET).message == "server said: [redacted]"
    assert credcheck._scrubbed(CheckResult(True, OK_MESSAGE), KRAKEN_SECRET) == CheckResult(True, OK_MESSAGE)
