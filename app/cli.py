"""The ``market-monitor`` command.

Sub-commands are headless tools; they import neither Qt nor sockets unless they need them. User errors
print one line on stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import nullcontext

from app import __version__
from app.core.instruments import Venue

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, not argparse's usage dump: scripts read the first line of stderr.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
    rp.add_argument("file", help="JSON-lines file ('-' reads stdin)")
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
        "--skip-bad-lines",
        action="store_true",
        help="skip lines that are not JSON objects instead of stopping",
    )

    bp = sub.add_parser(
        "bench",
        help="print codec throughput figures",
        description="Decode+apply throughput on in-memory frames (no sockets).",
    )
    bp.add_argument("--messages", type=_positive, default=200_000, help="frames per case (default 200000)")
    bp.add_argument("--markets", type=_positive, default=200, help="markets in the spread case (default 200)")
    bp.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    bp.add_argument(
        "--stream",
        action="store_true",
        help="instead: the stream engine from socket to store, against the simulator's blast mode",
    )
    bp.add_argument(
        "--gui",
        action="store_true",
        help="instead: the real window (offscreen) under a paced simulator feed over --markets markets",
    )
    bp.add_argument("--seconds", type=_seconds, default=10.0, help="--gui: how long to measure (default 10)")
    bp.add_argument(
        "--target",
        type=_positive,
        default=20_000,
        help="--gui: the feed rate to aim for, msg/s (default 20000)",
    )
    bp.add_argument(
        "--sim-blast",
        action="store_true",
        help="instead: how fast the simulator's blast mode feeds one bare-socket client",
    )

    _add_sim_parser(sub)
    _add_stream_parser(sub)
    return parser


def _add_stream_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    sp = sub.add_parser(
        "stream",
        help="run the stream engine headless and show the live state",
        description="Connect to the venues through the stream engine (the embedded simulator, or a saved "
        "profile's venues) and "
        "print a compact live view every second, or with --json the final state of each market and the "
        "health counters.",
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
    sp.add_argument("--seed", type=_non_negative, default=1, help="simulator seed (default 1)")
    sp.add_argument("--rate", type=_rate, default=200.0, help="simulator steps per second (default 200)")


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


def _cmd_replay(args: argparse.Namespace) -> int:
    from app.replay import ReplayError, replay
    from app.venues.kraken.commands import BOOK_DEPTHS

    venue = Venue(args.venue)
    if venue is Venue.KRAKEN and args.depth is not None and args.depth not in BOOK_DEPTHS:
        print(
            f"market-monitor replay: error: Kraken book depth must be one of "
            f"{', '.join(map(str, BOOK_DEPTHS))}, not {args.depth}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        source = "stdin" if args.file == "-" else args.file
        with nullcontext(sys.stdin) if args.file == "-" else open(args.file, encoding="utf-8") as fh:
            result = replay(
                fh,
                venue,
                args.depth if venue is Venue.KRAKEN else None,
                use_yes_price=args.use_yes_price,
                source=source,
                skip_bad=args.skip_bad_lines,
            )
    except FileNotFoundError:
        print(f"market-monitor replay: error: no such file: {args.file}", file=sys.stderr)
        return 1
    except (IsADirectoryError, PermissionError) as exc:
        print(f"market-monitor replay: error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"market-monitor replay: error: {args.file} is not UTF-8 text", file=sys.stderr)
        return 1
    except ReplayError as exc:
        print(f"market-monitor replay: error: {exc}", file=sys.stderr)
        return 1
    levels = args.depth if venue is Venue.KALSHI else None
    reports = result.reports(levels)
    if args.json:
        for report in reports:
            print(json.dumps(report))
        return 0
    _print_replay_table(reports, result.frames, result.bad_lines, result.totals.errors, result.totals.unknown)
    return 0


def _print_replay_table(
    reports: list[dict[str, object]], frames: int, bad_lines: int, errors: int, unknown: int
) -> None:
    header = (
        f"{'market':28} {'bid':>14} {'ask':>14} {'lvls':^9} {'msgs':>6} {'ck ok':>6} {'ck bad':>6} "
        f"{'gaps':>5} {'errs':>5} state"
    )
    print(header)
    for r in reports:
        bids, asks = r["bids"], r["asks"]
        assert isinstance(bids, list) and isinstance(asks, list)
        state = "crossed" if r["crossed"] else ("stale: " + str(r["stale_reason"]) if r["stale"] else "ok")
        print(
            f"{str(r['market'])[:28]:28} {r['best_bid'] or '-':>14} {r['best_ask'] or '-':>14} "
            f"{len(bids):>4}/{len(asks):<4} {r['messages']:>6} {r['checksum_ok']:>6} "
            f"{r['checksum_failed']:>6} "
            f"{r['seq_gaps']:>5} {r['errors']:>5} {state}"
        )
    extra = f", {bad_lines} unreadable lines skipped" if bad_lines else ""
    print(f"{frames} frames, {len(reports)} markets, {errors} errors, {unknown} unknown{extra}")


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.gui:
        from app.tools.bench_gui import run as run_gui

        figures = run_gui(args.seconds, args.markets, args.target, echo=not args.json)
    elif args.stream:
        from app.tools.bench_stream import run as run_stream

        figures = run_stream(args.messages, args.markets, echo=not args.json)
    elif args.sim_blast:
        from app.tools.bench_sim import run as run_blast

        figures = run_blast(args.messages, echo=not args.json)
    else:
        from app.tools.bench_codecs import run

        figures = run(args.messages, args.markets, echo=not args.json)
    if args.json:
        print(json.dumps(figures))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "replay":
            return _cmd_replay(args)
        if args.command == "bench":
            return _cmd_bench(args)
        if args.command == "stream":
            from app.stream.main import run as run_stream

            return run_stream(args)
        if args.command == "sim":
            from app.sim.main import run

            return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `market-monitor replay ... | head`
        return 0
    if args.screenshot and args.smoke is None:
        parser.error("--screenshot needs --smoke SECONDS")
    from app.ui.main import run as run_window

    return run_window(args)


if __name__ == "__main__":
    sys.exit(main())
