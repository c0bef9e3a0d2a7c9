"""``market-monitor sim`` as a user runs it: the installed console script, one JSON line of URLs once
listening, a frozen market that keeps serving, fault lines on stderr, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.command import COMMAND

SCRIPT = COMMAND


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_sim_prints_one_json_line_of_urls_and_freezes_but_keeps_serving() -> None:
    proc = subprocess.Popen(
        [
            SCRIPT,
            "sim",
            "--seed",
            "4",
            "--rate",
            "300",
            "--duration",
            "1",
            "--fault",
            "unknown-type:every=1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls = json.loads(proc.stdout.readline())
        assert set(urls) == {"kalshi_ws", "kalshi_rest", "kraken_ws", "kraken_rest", "kraken_l3_ws"}
        assert urls["kalshi_ws"].startswith("ws://127.0.0.1:") and urls["kalshi_ws"].endswith(
            "/trade-api/ws/v2"
        )
        assert urls["kraken_ws"].endswith("/v2") and urls["kalshi_rest"].endswith("/trade-api/v2")
        deadline = time.monotonic() + 10
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = _get(urls["kalshi_rest"].rsplit("/trade-api", 1)[0] + "/sim/status")  # type: ignore[assignment]
            if status["frozen"]:
                break
            time.sleep(0.1)
        assert status["frozen"] is True and status["seed"] == 4
        steps = status["steps"]
        time.sleep(0.3)
        markets = _get(urls["kalshi_rest"] + "/markets?limit=3")
        assert isinstance(markets, dict) and len(markets["markets"]) == 3
        depth = _get(urls["kraken_rest"] + "/0/public/Depth?pair=BTC/USD&count=5")
        assert isinstance(depth, dict) and len(depth["result"]["BTC/USD"]["bids"]) == 5
        after = _get(urls["kraken_rest"] + "/sim/status")
        assert isinstance(after, dict) and after["steps"] == steps  # frozen: nothing moves any more
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert out == ""  # exactly one line on stdout, read above
    assert '"frozen": true' in err
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "explode"], "unknown fault 'explode'"),
        (["--fault", "drop:p=2"], "p=2 is out of range"),
        (["--kraken-key", "abc"], "--kraken-key and --kraken-secret go together"),
        (["--kraken-key", "abc", "--kraken-secret", "not base64!"], "--kraken-secret must be base64"),
        (["--kalshi-public-key", "/no/such/key.pem"], "cannot read --kalshi-public-key"),
        (["--tls-cert", "/no/cert.pem", "--tls-key", "/no/key.pem"], "no such file: /no/cert.pem"),
        (["--tls-cert", "/no/cert.pem"], "--tls-cert and --tls-key go together"),
        (["--rate", "-3"], "must not be negative"),
        (["--kalshi-port", "70000"], "a port is at most 65535"),
        (["--duration", "0"], "must be positive"),
        (["--markets", "zero"], "expected a whole number"),
    ],
)
def test_bad_arguments_get_one_line_errors(args: list[str], message: str) -> None:
    result = subprocess.run([SCRIPT, "sim", *args], capture_output=True, text=True, check=False, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_a_key_file_that_is_not_a_public_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    result = subprocess.run(
        [SCRIPT, "sim", "--kalshi-public-key", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2 and "is not a PEM public key" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_busy_port_is_a_clear_error() -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [SCRIPT, "sim", "--kalshi-port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.startswith("market-monitor sim: error: cannot listen on 127.0.0.1")
