"""The ``market-monitor`` command: parse, then hand over to the sub-command or the window.

Sub-commands are headless tools; they import neither Qt nor sockets unless they need them. User errors
print one line on stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from app.cli.parser import build_parser


def _cmd_bench(args: argparse.Namespace) -> int:
    seed = int(time.time()) if args.seed is None else args.seed
    if args.chaos:
        from app.cli.bench.chaos import run as run_chaos

        return run_chaos(args.seconds or 30.0, seed, faults=args.fault, echo=not args.json)
    if args.soak:
        from app.cli.bench.soak import run as run_soak

        target = 2000 if args.target is None else args.target
        return run_soak(args.minutes, args.markets or 500, target, trace=args.trace, echo=not args.json)
    if args.fuzz:
        from app.cli.bench.fuzz import run as run_fuzz

        corpus = args.corpus if args.corpus is not None else _source_fixtures()
        found = run_fuzz(args.messages or 1_000_000, seed, corpus, echo=not args.json)
        if args.json:
            print(json.dumps(found))
        return 1 if found["unhandled"] else 0
    if args.replay is not None:
        from app.cli.bench.replay import run as run_replay

        file = args.replay or None
        figures = run_replay(file, args.seconds or 20.0, args.target or 3000, echo=not args.json)
    elif args.gui:
        from app.cli.bench.gui import run as run_gui

        figures = run_gui(
            args.seconds or 10.0, args.markets or 200, args.target or 20_000, echo=not args.json
        )
    elif args.stream:
        from app.cli.bench.stream import run as run_stream

        figures = run_stream(
            args.messages or 200_000, args.markets or 200, echo=not args.json, alerts=args.alerts or 0
        )
    elif args.sim_blast:
        from app.cli.bench.sim import run as run_blast

        figures = run_blast(args.messages or 200_000, echo=not args.json)
    else:
        from app.cli.bench.codecs import run

        figures = run(args.messages or 200_000, args.markets or 200, echo=not args.json)
    if args.json:
        print(json.dumps(figures))
    return 0


def _source_fixtures() -> list[str]:
    """The shared real-frame fixtures, when running from a source tree (the binary has none)."""
    from app.resources import resource_dir

    data = resource_dir().parent / "tests" / "data"
    return [str(data)] if data.is_dir() else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "replay":
            from app.cli.replay import run as run_replay

            return run_replay(args)
        if args.command == "bench":
            return _cmd_bench(args)
        if args.command == "stream":
            from app.cli.stream import run as run_stream

            return run_stream(args)
        if args.command == "sim":
            from app.cli.sim import run

            return run(args)
        if args.command == "credentials":
            from app.cli.credentials import run as run_credentials

            return run_credentials(args)
        if args.command == "about":
            from app.about import facts

            found = facts()
            width = max(map(len, found))
            lines = (f"{key:<{width}}  {value}" for key, value in found.items())
            print(json.dumps(found) if args.json else "\n".join(lines))
            return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `market-monitor replay ... | head`
        return 0
    if args.screenshot and args.smoke is None:
        parser.error("--screenshot needs --smoke SECONDS")
    from app.cli.window import run as run_window

    return run_window(args)


if __name__ == "__main__":
    sys.exit(main())
