"""How fast the simulator's blast mode feeds one client: ``market-monitor bench --sim-blast``.

Starts ``market-monitor sim --blast N`` in another process, subscribes to one book per venue with a
bare socket reader (hand-made WebSocket handshake, frames counted by their headers, no JSON decode),
so that the reader is not the bottleneck, and prints messages per second as the client received them
and as the server wrote them.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import time
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.resources import self_command


def _client_frame(text: str) -> bytes:
    """A masked client text frame (RFC 6455 §5.3: clients must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = bytes((0x81, 0x80 | n)) if n < 126 else struct.pack("!BBH", 0x81, 0xFE, n)
    return head + mask + masked


def _handshake(url: str, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    """The open socket and whatever bytes followed the 101 response."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("handshake: connection closed")
        reply += chunk
    head, _, rest = reply.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"handshake refused: {head.splitlines()[0].decode()}")
    return sock, rest


def _receive(sock: socket.socket, rest: bytes, frames_wanted: int, skip: int) -> tuple[int, float]:
    """Count frames until ``skip + frames_wanted`` arrived; timed from the first frame after ``skip``."""
    buf = bytearray(rest)
    count = 0
    start = 0.0
    pos = 0
    total = skip + frames_wanted
    while count < total:
        while True:
            if len(buf) - pos < 2:
                break
            b1 = buf[pos + 1] & 0x7F
            if b1 < 126:
                head, n = 2, b1
            elif b1 == 126:
                if len(buf) - pos < 4:
                    break
                head, n = 4, int.from_bytes(buf[pos + 2 : pos + 4], "big")
            else:
                if len(buf) - pos < 10:
                    break
                head, n = 10, int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if len(buf) - pos < head + n:
                break
            if buf[pos] & 0x0F in (0x1, 0x2):  # data frames only (pings are not messages)
                count += 1
                if count == skip + 1:  # the first blast frame: the server built them all before it
                    start = time.perf_counter()
            pos += head + n
        del buf[:pos]
        pos = 0
        if count >= total:
            break
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"closed after {count} frames")
        buf += chunk
    return count - skip - 1, time.perf_counter() - start


def _one(venue: str, urls: dict[str, str], messages: int) -> float:
    if venue == "kalshi":
        key = ed25519.Ed25519PrivateKey.generate()
        stamp = str(int(time.time() * 1000))
        signature = base64.b64encode(
            key.sign((stamp + "GET" + urlsplit(urls["kalshi_ws"]).path).encode())
        ).decode()
        sock, rest = _handshake(
            urls["kalshi_ws"],
            {
                "KALSHI-ACCESS-KEY": "bench",
                "KALSHI-ACCESS-TIMESTAMP": stamp,
                "KALSHI-ACCESS-SIGNATURE": signature,
            },
        )
        market = json.loads(_rest(urls["kalshi_rest"] + "/markets?limit=1"))["markets"][0]["ticker"]
        sock.sendall(
            _client_frame(
                json.dumps(
                    {
                        "id": 1,
                        "cmd": "subscribe",
                        "params": {
                            "channels": ["orderbook_delta"],
                            "market_ticker": market,
                            "use_yes_price": True,
                        },
                    }
                )
            )
        )
        skip = 2  # subscribed, snapshot
    else:
        sock, rest = _handshake(urls["kraken_ws"], {})
        sock.sendall(
            _client_frame(
                json.dumps(
                    {
                        "method": "subscribe",
                        "req_id": 1,
                        "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
                    }
                )
            )
        )
        skip = 3  # status, ack, snapshot
    try:
        got, seconds = _receive(sock, rest, messages, skip)
    finally:
        sock.close()
    return got / seconds


def _rest(url: str) -> str:
    from urllib.request import urlopen

    with urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def run(messages: int = 300_000, echo: bool = True) -> dict[str, Any]:
    proc = subprocess.Popen(
        [
            *self_command(),
            "sim",
            "--rate",
            "0",
            "--blast",
            str(messages),
            "--markets",
            "4",
            "--kraken-pairs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    figures: dict[str, Any] = {"messages": messages}
    try:
        assert proc.stdout is not None and proc.stderr is not None
        urls = json.loads(proc.stdout.readline())
        for venue in ("kalshi", "kraken"):
            figures[f"{venue}_client_per_s"] = round(_one(venue, urls, messages))
            line = proc.stderr.readline()  # the simulator's own blast record
            record = json.loads(line)
            figures[f"{venue}_server"] = record.get("detail", "")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if echo:
        print(f"simulator blast to one bare-socket client, {messages:,} frames per venue:")
        for venue in ("kalshi", "kraken"):
            print(
                f"  {venue:7} received {figures[f'{venue}_client_per_s']:>10,} msg/s   "
                f"(server: {figures[f'{venue}_server']})"
            )
    return figures
