"""``market-monitor replay``: a recording through the venue codec and books, as a table or JSON lines,
or (``--csv``) its trades, books or fills as CSV (Parquet when the name ends ``.parquet``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO

from app.cli.parser import EXIT_USAGE
from app.core.book import OrderBook
from app.core.instruments import Venue

DAMAGED_SHOWN = 5  # damaged lines named one by one on stderr; the rest are counted


def run(args: argparse.Namespace) -> int:
    from app.core.recording import open_binary
    from app.venues.kraken.commands import BOOK_DEPTHS
    from app.venues.replay import ReplayError, replay

    venue = Venue(args.venue)
    if venue is Venue.KRAKEN and args.depth is not None and args.depth not in BOOK_DEPTHS:
        print(
            f"market-monitor replay: error: Kraken book depth must be one of "
            f"{', '.join(map(str, BOOK_DEPTHS))}, not {args.depth}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    export = None
    books: dict[str, OrderBook] = {}
    if args.csv is not None:
        from app.core.export import ExportError, RecordingExport

        what, out = args.csv
        try:
            export = RecordingExport(what, out, venue, books)
        except ExportError as exc:
            print(f"market-monitor replay: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    source = "stdin" if args.file == "-" else args.file
    damaged: list[int] = []

    def on_damaged(number: int, reason: str) -> None:
        damaged.append(number)
        if len(damaged) <= DAMAGED_SHOWN:
            print(
                f"market-monitor replay: {source} line {number}: damaged ({reason}), skipped",
                file=sys.stderr,
            )

    fh: IO[bytes] | None = None
    try:
        fh = sys.stdin.buffer if args.file == "-" else open_binary(args.file)
        result = replay(
            fh,
            venue,
            args.depth if venue is Venue.KRAKEN else None,
            use_yes_price=True if args.use_yes_price else None,
            source=source,
            strict=args.strict,
            on_damaged=on_damaged,
            on_events=export.take if export is not None else None,
            books=books,
        )
    except FileNotFoundError:
        print(f"market-monitor replay: error: no such file: {args.file}", file=sys.stderr)
        return 1
    except (IsADirectoryError, PermissionError) as exc:
        print(f"market-monitor replay: error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except ReplayError as exc:
        print(f"market-monitor replay: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if fh is not None and args.file != "-":
            fh.close()
    if len(damaged) > DAMAGED_SHOWN:
        print(
            f"market-monitor replay: {source}: {len(damaged) - DAMAGED_SHOWN} more damaged lines skipped "
            f"({len(damaged)} in all)",
            file=sys.stderr,
        )
    if export is not None:
        try:
            rows = export.finish()
        except ExportError as exc:
            print(f"market-monitor replay: error: {exc}", file=sys.stderr)
            return 1
        print(f"{rows} {export.what} rows written to {export.path}", file=sys.stderr)
        return 0
    levels = args.depth if venue is Venue.KALSHI else None
    reports = result.reports(levels)
    if not reports:
        found = result.other_venues.most_common()
        others = ", ".join(f"{n:,} {v}" for v, n in found)
        hint = f" (it holds {others} frames: try --venue {found[0][0]})" if found else ""
        print(f"market-monitor replay: no {venue.value} market data in {source}{hint}", file=sys.stderr)
        return 1
    if args.json:
        for report in reports:
            print(json.dumps(report))
        return 0
    _print_replay_table(reports, result.frames, result.bad_lines, result.totals.errors, result.totals.unknown)
    return 0


def _print_replay_table(
    reports: list[dict[str, object]], frames: int, bad_lines: int, errors: int, unknown: int
) -> None:
    width = max([len("market")] + [len(str(r["market"])) for r in reports])  # names whole, never cut
    header = (
        f"{'market':{width}} {'bid':>14} {'ask':>14} {'lvls':^9} {'msgs':>6} {'ck ok':>6} {'ck bad':>6} "
        f"{'gaps':>5} {'errs':>5} state"
    )
    print(header)
    for r in reports:
        bids, asks = r["bids"], r["asks"]
        assert isinstance(bids, list) and isinstance(asks, list)
        state = "crossed" if r["crossed"] else ("stale: " + str(r["stale_reason"]) if r["stale"] else "ok")
        print(
            f"{r['market']!s:{width}} {r['best_bid'] or '-':>14} {r['best_ask'] or '-':>14} "
            f"{len(bids):>4}/{len(asks):<4} {r['messages']:>6} {r['checksum_ok']:>6} "
            f"{r['checksum_failed']:>6} "
            f"{r['seq_gaps']:>5} {r['errors']:>5} {state}"
        )
    extra = f", {bad_lines} damaged lines skipped" if bad_lines else ""
    print(f"{frames} frames, {len(reports)} markets, {errors} errors, {unknown} unknown{extra}")
