"""The ``market-monitor`` argument parser: every sub-command's options and their value checks.

Errors are one line on stderr (scripts read the first line), never argparse's usage dump.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from app import __version__
from app.core.instruments import Venue

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, not argparse's usage dump: scripts read the first line of stderr.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _SecretSafeParser(_Parser):
    """For ``credentials``: a mistyped option may carry a secret, so options must be spelled out in full
    (``--secret X`` is not taken for ``--secret-file X``) and stray arguments are counted, never echoed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"{len(extras)} unrecognized argument(s), not repeated here as they may hold a secret")
        return parsed, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        super().error(
            re.sub(r"invalid choice: .*? \(choose from", "invalid choice (choose from", message, flags=re.S)
        )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="market-monitor", description="Live Kalshi and Kraken market monitor.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    window = parser.add_argument_group("the window (no sub-command)")
    window.add_argument(
        "--profile", metavar="NAME", help="start with this saved connection profile (default: the last used)"
    )
    window.add_argument(
        "--smoke",
        type=_seconds,
        metavar="SECONDS",
        help="run the window on the simulator for SECONDS, then exit 0 only if market data reached "
        "the watchlist and the depth ladder",
    )
    window.add_argument("--screenshot", metavar="PNG", help="with --smoke: save a picture of the window")
    window.add_argument(
        "--replay",
        metavar="FILE",
        help="play a recording in the window instead of connecting (as File → Open recording…); with "
        "--smoke, exit 0 only if its data reached the watchlist and the depth ladder",
    )
    window.add_argument(
        "--config-dir",
        metavar="DIR",
        help="keep settings and window layout here (default ~/.config/market-monitor)",
    )
    window.add_argument("--seed", type=_non_negative, default=1, help="simulator seed (default 1)")
    window.add_argument("--rate", type=_rate, default=200.0, help="simulator steps per second (default 200)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    rp = sub.add_parser(
        "replay",
        help="run recorded frames through the codec and book, headless",
        description="Replay a JSON-lines recording (raw frames, or objects with the frame "
        "under 'raw' or 'frame') and print each market's final book.",
    )
    rp.add_argument("file", help="JSON-lines file, plain or gzip-compressed ('-' reads stdin)")
    rp.add_argument("--venue", required=True, choices=[v.value for v in Venue])
    rp.add_argument(
        "--depth",
        type=_positive,
        help="Kraken: the subscribed book depth when the recording has no acknowledgement "
        "(10, 25, 100, 500 or 1000; default 10). Kalshi: levels to print per side",
    )
    rp.add_argument("--json", action="store_true", help="print one JSON object per market")
    rp.add_argument(
        "--use-yes-price",
        action="store_true",
        help="Kalshi: NO-side levels are in YES prices (the recording's subscription used "
        "use_yes_price; detected automatically when the subscribe command is recorded)",
    )
    rp.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first damaged line (by default a damaged line is named on stderr, counted and "
        "skipped)",
    )
    rp.add_argument("--skip-bad-lines", action="store_true", help=argparse.SUPPRESS)  # now the default
    rp.add_argument(
        "--csv",
        nargs=2,
        metavar=("trades|books|fills", "OUT"),
        help="instead of the books, write a table: trades (one row per trade, in recording order), books "
        "(the top of book after each change) or fills (your executions), with ISO 8601 times and exact "
        "decimals; OUT ending .parquet writes Parquet (needs pyarrow)",
    )

    bp = sub.add_parser(
        "bench",
        help="print codec throughput figures",
        description="Decode+apply throughput on in-memory frames (no sockets).",
    )
    bp.add_argument(
        "--messages", type=_positive, help="frames per case (default 200000; --fuzz: 1000000 frames in all)"
    )
    bp.add_argument("--markets", type=_positive, help="markets in the spread case (default 200; --soak: 500)")
    bp.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    bp.add_argument(
        "--stream",
        action="store_true",
        help="instead: the stream engine from socket to store, against the simulator's blast mode",
    )
    bp.add_argument(
        "--alerts",
        type=_positive,
        metavar="N",
        help="--stream: run each case again with N armed alert rules over its markets, and print both rates",
    )
    bp.add_argument(
        "--gui",
        action="store_true",
        help="instead: the real window (offscreen) under a paced simulator feed over --markets markets",
    )
    bp.add_argument(
        "--replay",
        nargs="?",
        const="",
        metavar="FILE",
        help="instead: a recording in the window offscreen (open time, frames/s at max, loop lag); without "
        "FILE one is recorded from the simulator for --seconds (default 20) at --target msg/s (default 3000)",
    )
    bp.add_argument(
        "--chaos",
        action="store_true",
        help="instead: the engine against the simulator with every fault kind at once, then every fault "
        "off; exit 1 on any loss or on not converging within 10 s",
    )
    bp.add_argument(
        "--seconds",
        type=_seconds,
        help="--gui: how long to measure (default 10); --chaos: how long the faults run (default 30)",
    )
    bp.add_argument(
        "--soak",
        action="store_true",
        help="instead: the window offscreen for --minutes under a steady feed, its memory sampled every 10 s",
    )
    bp.add_argument("--minutes", type=_seconds, default=10.0, help="--soak: how long (default 10)")
    bp.add_argument("--trace", action="store_true", help="--soak: report tracemalloc's biggest growths")
    bp.add_argument(
        "--fuzz",
        action="store_true",
        help="instead: mutated venue frames through both sessions and the store; exit 1 if any exception "
        "escapes",
    )
    bp.add_argument(
        "--corpus",
        action="append",
        metavar="PATH",
        help="--fuzz: JSON-lines recordings or a folder of them to mutate, besides the simulator's frames "
        "(default: tests/data in a source tree)",
    )
    bp.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="--chaos: run these faults instead of the full mix (repeatable; as sim --fault)",
    )
    bp.add_argument(
        "--seed",
        type=_non_negative,
        help="--chaos, --fuzz: the random seed (default: one from the clock, printed)",
    )
    bp.add_argument(
        "--target",
        type=_positive,
        help="--gui, --soak: the feed rate to aim for, msg/s (default 20000; --soak: 2000)",
    )
    bp.add_argument(
        "--sim-blast",
        action="store_true",
        help="instead: how fast the simulator's blast mode feeds one bare-socket client",
    )

    _add_sim_parser(sub)
    _add_stream_parser(sub)
    _add_credentials_parser(sub)
    ap = sub.add_parser(
        "about",
        help="print the version, build and what was found on this machine (Qt, keyring backend, paths)",
        description="The facts Help → About shows, for a bug report.",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _add_stream_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    from app.alerts.grammar import GRAMMAR

    sp = sub.add_parser(
        "stream",
        help="run the stream engine headless and show the live state",
        description="Connect to the venues through the stream engine (the embedded simulator, or a saved "
        "profile's venues) and "
        "print a compact live view every second, or with --json the final state of each market and the "
        "health counters. Each --alert firing prints one line as it happens (with --json one object: "
        "type, rule, market, value, ts_ms, received_ms, trade_id).",
        epilog=GRAMMAR,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = sp.add_mutually_exclusive_group()
    source.add_argument("--sim", action="store_true", help="stream from the embedded simulator (the default)")
    source.add_argument(
        "--profile",
        metavar="NAME",
        help="a saved connection profile (credentials from the OS keyring; markets from the active "
        "watchlist unless --markets is given)",
    )
    sp.add_argument("--venue", action="append", choices=[v.value for v in Venue], help="limit to a venue")
    sp.add_argument(
        "--markets",
        nargs="+",
        metavar="MARKET",
        help="Kalshi tickers and Kraken pairs (BTC/USD); kalshi:/kraken: prefixes force the venue",
    )
    sp.add_argument("--duration", type=_seconds, help="stop after this many seconds")
    sp.add_argument(
        "--record", metavar="FILE", help="write every raw frame received as JSON lines (replay reads them)"
    )
    sp.add_argument(
        "--json", action="store_true", help="print the final state as JSON lines instead of a live view"
    )
    sp.add_argument(
        "--depth", type=int, choices=(10, 25, 100, 500, 1000), default=10, help="Kraken book depth"
    )
    sp.add_argument(
        "--level3",
        action="store_true",
        help="Kraken: also stream the orders behind each price (the level3 channel, depth 10) of the "
        "Kraken markets; needs Kraken credentials (the simulator's are built in)",
    )
    sp.add_argument(
        "--alert",
        action="append",
        metavar="RULE",
        help="fire when RULE holds, e.g. 'kalshi:TICKER bid above 55c once' (repeatable; the grammar is "
        "below); a rule's market is streamed too",
    )
    sp.add_argument("--seed", type=_non_negative, default=1, help="simulator seed (default 1)")
    sp.add_argument("--rate", type=_rate, default=200.0, help="simulator steps per second (default 200)")


def _add_credentials_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    from app.user.credentials import TARGETS, envs_of

    cp = sub.add_parser(
        "credentials",
        help="list, set, delete or test the API keys in the OS keyring (what File → Credentials… manages)",
        description="Manage the API keys that profiles use, in the OS keyring, without the window. "
        "Secrets are read from a file, stdin or a hidden prompt, never from the command line, and are "
        "never printed. Exit status: 0 done, 1 refused (bad key, no usable keyring, test failed), 2 usage.",
    )
    actions = cp.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_SecretSafeParser
    )
    lp = actions.add_parser(
        "list",
        help="what is stored per venue environment (never a secret)",
        description="The keyring backend, then per venue environment whether the identifier and the "
        "secret are stored: the Kalshi key id and key type, the start of the Kraken API key.",
    )
    lp.add_argument("--json", action="store_true", help="print one JSON object")
    venues = sorted({t.venue for t in TARGETS})

    def per_venue(action: str, help_text: str, description: str) -> dict[str, argparse.ArgumentParser]:
        ap = actions.add_parser(action, help=help_text, description=description)
        vs = ap.add_subparsers(dest="venue", metavar="VENUE", required=True, parser_class=_SecretSafeParser)
        parsers: dict[str, argparse.ArgumentParser] = {}
        for venue in venues:
            envs = envs_of(venue)
            vp = vs.add_parser(
                venue, help=f"{venue.capitalize()} ({', '.join(envs)})", description=description
            )
            vp.add_argument("env", metavar="ENV", choices=envs, help=" or ".join(envs))
            parsers[venue] = vp
        return parsers

    sp = per_venue(
        "set",
        "check a key pair, then store it (replaces what is stored)",
        "Check a key pair as the dialog does, then store it in the OS keyring.",
    )
    sp["kalshi"].add_argument("--key-id", required=True, type=_nonblank, metavar="ID", help="the API key id")
    sp["kalshi"].add_argument(
        "--private-key-file",
        required=True,
        metavar="PEM",
        help="the private key file Kalshi gave you (RSA or Ed25519 PEM); '-' reads stdin",
    )
    api_key = sp["kraken"].add_mutually_exclusive_group()
    api_key.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="a file holding the API key; '-' reads stdin (default: ask, without echo)",
    )
    api_key.add_argument(
        "--api-key",
        type=_nonblank,
        metavar="KEY",
        help="the API key itself (shown in the process list and shell history: prefer --api-key-file)",
    )
    sp["kraken"].add_argument(
        "--secret-file",
        metavar="FILE",
        help="a file holding the base64 API secret; '-' reads stdin (default: ask, without echo)",
    )
    per_venue("delete", "remove a stored key pair", "Remove a stored key pair (nothing stored is fine).")
    tp = per_venue(
        "test",
        "sign one request with the stored key pair",
        "Run the dialog's Test connection with the stored key pair: one signed request to the venue.",
    )
    for venue, p in tp.items():
        p.add_argument(
            "--rest-url",
            metavar="URL",
            help=f"test against this REST API, e.g. a simulator's {venue}_rest (default: ENV's real one)",
        )
        p.add_argument("--timeout", type=_seconds, metavar="S", help="give up after S seconds (default 10)")


def _nonblank(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _port(text: str) -> int:
    value = _non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected steps per second, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _add_sim_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    sp = sub.add_parser(
        "sim",
        help="run the embedded Kalshi + Kraken exchange simulator",
        description="Serve a seeded random market over Kalshi's and Kraken's WebSocket and REST "
        "protocols on loopback. Prints one JSON line with the URLs once listening; fault firings are "
        "logged as JSON lines on stderr.",
    )
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sp.add_argument("--kalshi-port", type=_port, default=0, help="Kalshi WS + REST port (0 picks a free one)")
    sp.add_argument("--kraken-port", type=_port, default=0, help="Kraken WS + REST port (0 picks a free one)")
    sp.add_argument("--seed", type=_non_negative, default=1, help="random seed (default 1)")
    sp.add_argument("--rate", type=_rate, default=200.0, help="market steps per second (default 200)")
    sp.add_argument("--markets", type=_positive, default=24, help="Kalshi markets (default 24)")
    sp.add_argument(
        "--kraken-pairs",
        type=_positive,
        default=10,
        help="Kraken pairs: the 10 real ones first, then synthetic SIMnnn/USD (default 10)",
    )
    sp.add_argument(
        "--duration", type=_seconds, help="freeze the market after this many seconds, keep serving"
    )
    sp.add_argument(
        "--legacy-kalshi", action="store_true", help="serve Kalshi's original integer-cent format"
    )
    sp.add_argument(
        "--kalshi-public-key", metavar="PEM", help="verify Kalshi signatures with this public key"
    )
    sp.add_argument("--kraken-key", metavar="K", help="the API key GetWebSocketsToken accepts")
    sp.add_argument("--kraken-secret", metavar="S", help="its base64 secret, to verify API-Sign")
    sp.add_argument("--tls-cert", metavar="PEM", help="serve wss:// and https:// with this certificate")
    sp.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    sp.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="inject a fault, e.g. drop:every=5, skip-seq:every=100,venue=kalshi, refuse:status=401 "
        "(repeatable; see app/sim/faults.py)",
    )
    sp.add_argument(
        "--blast",
        type=_non_negative,
        default=0,
        metavar="N",
        help="benchmark mode: write N pre-built updates straight to each new book subscription",
    )
    sp.add_argument("--quiet", action="store_true", help="don't log fault firings on stderr")
