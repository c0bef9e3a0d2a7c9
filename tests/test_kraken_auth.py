"""Kraken REST signing, WebSocket-token request, nonces and endpoints (protocol/kraken.md §1.1, §5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
import time

import pytest

from app.core.instruments import Environment
from app.venues.kraken import auth
from app.venues.kraken.auth import (
    NonceSource,
    SecretFormatError,
    api_sign,
    token_request,
    verify_api_sign,
)
from app.venues.kraken.endpoints import TOKEN_PATH, private_ws_url, public_ws_url

# Official vector, kraken.md §5.2.
VEC_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
VEC_NONCE = 1616492376594
VEC_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
VEC_PATH = "/0/private/AddOrder"
VEC_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def test_official_api_sign_vector() -> None:
    """api_sign reproduces Kraken's documented API-Sign for the AddOrder example."""
    assert api_sign(VEC_PATH, VEC_NONCE, VEC_BODY, VEC_SECRET) == VEC_SIGN


def test_official_vector_nonce_as_string() -> None:
    """The nonce may be given as text; the signature is the same."""
    assert api_sign(VEC_PATH, str(VEC_NONCE), VEC_BODY, VEC_SECRET) == VEC_SIGN


def test_official_vector_verifies() -> None:
    """verify_api_sign accepts the official signature and rejects a changed body, path, nonce or sign."""
    assert verify_api_sign(VEC_PATH, VEC_BODY, str(VEC_NONCE), VEC_SIGN, VEC_SECRET)
    changed = VEC_BODY.replace("1.25", "1.26")
    assert not verify_api_sign(VEC_PATH, changed, str(VEC_NONCE), VEC_SIGN, VEC_SECRET)
    assert not verify_api_sign(TOKEN_PATH, VEC_BODY, str(VEC_NONCE), VEC_SIGN, VEC_SECRET)
    assert not verify_api_sign(VEC_PATH, VEC_BODY, str(VEC_NONCE + 1), VEC_SIGN, VEC_SECRET)
    assert not verify_api_sign(VEC_PATH, VEC_BODY, str(VEC_NONCE), "A" + VEC_SIGN[1:], VEC_SECRET)


def test_api_sign_matches_independent_formula() -> None:
    """api_sign = b64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))), recomputed here."""
    nonce, body = 42, "nonce=42"
    digest = hashlib.sha256(f"{nonce}{body}".encode()).digest()
    mac = hmac.new(base64.b64decode(VEC_SECRET), TOKEN_PATH.encode() + digest, hashlib.sha512).digest()
    assert api_sign(TOKEN_PATH, nonce, body, VEC_SECRET) == base64.b64encode(mac).decode()


# --- token request --------------------------------------------------------------------------------------


def test_token_request_shape() -> None:
    """POST target, form body nonce=N, and API-Key / API-Sign headers that verify."""
    nonce = 1700000000123
    req = token_request("my-api-key", VEC_SECRET, nonce)
    assert req.url == "https://api.kraken.com/0/private/GetWebSocketsToken"
    assert req.body == f"nonce={nonce}"
    assert req.headers["API-Key"] == "my-api-key"
    assert req.headers["API-Sign"] == api_sign(TOKEN_PATH, nonce, req.body, VEC_SECRET)
    assert verify_api_sign(TOKEN_PATH, req.body, str(nonce), req.headers["API-Sign"], VEC_SECRET)
    assert req.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert set(req.headers) == {"API-Key", "API-Sign", "Content-Type"}


def test_token_request_signature_covers_nonce() -> None:
    """Two nonces give two different signatures, each valid only for its own body."""
    a = token_request("k", VEC_SECRET, 1)
    b = token_request("k", VEC_SECRET, 2)
    assert a.headers["API-Sign"] != b.headers["API-Sign"]
    assert not verify_api_sign(TOKEN_PATH, b.body, "2", a.headers["API-Sign"], VEC_SECRET)


def test_token_request_custom_base_url() -> None:
    """A base URL (e.g. a simulator) is joined to the token path without a double slash."""
    req = token_request("k", VEC_SECRET, 5, base_url="http://127.0.0.1:8080/")
    assert req.url == "http://127.0.0.1:8080/0/private/GetWebSocketsToken"


def test_token_request_with_otp() -> None:
    """An otp is form-encoded after the nonce and is covered by the signature."""
    req = token_request("k", VEC_SECRET, 9, otp="123456")
    assert req.body == "nonce=9&otp=123456"
    assert verify_api_sign(TOKEN_PATH, req.body, "9", req.headers["API-Sign"], VEC_SECRET)


@pytest.mark.parametrize("bad", ["not base64!!", "kQH5HW/8p1uGOVjb@@@", "abc", "Zm9v\x00YmFy"])
def test_bad_secret_raises_without_echo(bad: str) -> None:
    """A secret that is not base64 raises SecretFormatError whose text does not contain the secret."""
    with pytest.raises(SecretFormatError) as info:
        api_sign(TOKEN_PATH, 1, "nonce=1", bad)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert bad not in f"{exc!s} {exc!r}"
    assert exc.__cause__ is None
    with pytest.raises(SecretFormatError) as info2:
        token_request("k", bad, 1)
    assert bad not in str(info2.value)


def test_verify_with_bad_secret_is_false() -> None:
    """verify_api_sign answers False (not an exception) for a malformed secret."""
    assert not verify_api_sign(VEC_PATH, VEC_BODY, str(VEC_NONCE), VEC_SIGN, "not base64!!")


# --- nonces ------------------------------------------------------------------------------------------------


def test_nonce_strictly_increasing_10000() -> None:
    """10,000 successive nonces from one source strictly increase (even within one millisecond)."""
    source = NonceSource()
    values = [source.next() for _ in range(10_000)]
    assert all(b > a for a, b in itertools.pairwise(values))


def test_nonce_is_milliseconds() -> None:
    """The first nonce is the current Unix time in milliseconds."""
    before = int(time.time() * 1000)
    value = NonceSource().next()
    after = int(time.time() * 1000)
    assert before <= value <= after + 1


def test_nonce_threads_unique_and_increasing() -> None:
    """Nonces handed to several threads are all distinct and increase within each thread."""
    source = NonceSource()
    n_threads, per_thread = 8, 2_000
    results: list[list[int]] = [[] for _ in range(n_threads)]
    start = threading.Barrier(n_threads)

    def work(out: list[int]) -> None:
        start.wait()
        for _ in range(per_thread):
            out.append(source.next())

    threads = [threading.Thread(target=work, args=(results[i],)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [v for out in results for v in out]
    assert len(flat) == n_threads * per_thread
    assert len(set(flat)) == len(flat)
    for out in results:
        assert all(b > a for a, b in itertools.pairwise(out))
    assert source.next() > max(flat)


def test_nonce_never_goes_back_with_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that jumps backwards does not make the nonce go back or repeat."""
    clock = iter([1000.0, 1000.0, 999.0, 500.0, 1000.5, 2000.0])
    monkeypatch.setattr(auth.time, "time", lambda: next(clock))
    source = NonceSource()
    values = [source.next() for _ in range(6)]
    assert values == [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_500, 2_000_000]


# --- endpoints ---------------------------------------------------------------------------------------------


def test_ws_urls() -> None:
    """Public and private v2 WebSocket URLs for production and beta (kraken.md §1.1)."""
    assert public_ws_url() == "wss://ws.kraken.com/v2"
    assert private_ws_url() == "wss://ws-auth.kraken.com/v2"
    assert public_ws_url("live") == public_ws_url(Environment.LIVE) == "wss://ws.kraken.com/v2"
    assert private_ws_url("live") == "wss://ws-auth.kraken.com/v2"
    assert public_ws_url("beta") == "wss://beta-ws.kraken.com/v2"
    assert private_ws_url(Environment.BETA) == "wss://beta-ws-auth.kraken.com/v2"


def test_unknown_env_raises() -> None:
    """An unknown environment is refused."""
    with pytest.raises(ValueError):
        public_ws_url("prod")
    with pytest.raises(ValueError):
        private_ws_url("v1")


def test_empty_secret_is_refused() -> None:
    """An empty secret would sign with an empty key; refuse it up front."""
    with pytest.raises(SecretFormatError):
        api_sign("/0/private/GetWebSocketsToken", 1, "nonce=1", "")
