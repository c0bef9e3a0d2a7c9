"""``market-monitor sim``: run the simulator until stopped, announcing its URLs on stdout."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from app.sim.faults import FaultSpec, FaultSpecError, print_record
from app.sim.server import SimOptions, Simulator


class SimArgumentError(ValueError):
    """A bad ``sim`` argument, worded for one line on stderr."""


def options_from_args(args: argparse.Namespace) -> SimOptions:
    try:
        faults = [FaultSpec.parse(text) for text in args.fault or []]
    except FaultSpecError as exc:
        raise SimArgumentError(str(exc)) from None
    pem = None
    if args.kalshi_public_key:
        try:
            pem = Path(args.kalshi_public_key).read_bytes()
        except OSError as exc:
            raise SimArgumentError(
                f"cannot read --kalshi-public-key {args.kalshi_public_key}: {exc.strerror}"
            ) from None
        from app.sim.signatures import load_kalshi_public_key

        try:
            load_kalshi_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise SimArgumentError(
                f"--kalshi-public-key {args.kalshi_public_key} is not a PEM public key "
                f"(RSA or Ed25519): {exc}"
            ) from None
    if (args.kraken_key is None) != (args.kraken_secret is None):
        raise SimArgumentError("--kraken-key and --kraken-secret go together")
    if args.kraken_secret is not None:
        import base64
        import binascii

        try:
            base64.b64decode(args.kraken_secret, validate=True)
        except (binascii.Error, ValueError):
            raise SimArgumentError("--kraken-secret must be base64 (as Kraken issues it)") from None
    if (args.tls_cert is None) != (args.tls_key is None):
        raise SimArgumentError("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path is not None and not Path(path).is_file():
            raise SimArgumentError(f"no such file: {path}")
    return SimOptions(
        host=args.host,
        kalshi_port=args.kalshi_port,
        kraken_port=args.kraken_port,
        seed=args.seed,
        rate=args.rate,
        markets=args.markets,
        kraken_pairs=args.kraken_pairs,
        duration=args.duration,
        legacy_kalshi=args.legacy_kalshi,
        kalshi_public_key_pem=pem,
        kraken_key=args.kraken_key,
        kraken_secret=args.kraken_secret,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        faults=faults,
        blast=args.blast,
    )


async def _serve(options: SimOptions, quiet: bool) -> int:
    sim = Simulator(options, on_fault=None if quiet else print_record)
    try:
        urls = await sim.start()
    except OSError as exc:
        print(
            f"market-monitor sim: error: cannot listen on {options.host}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(urls), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    frozen = asyncio.ensure_future(sim.frozen.wait())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({frozen, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if sim.frozen.is_set() and not stop.is_set():
        print(json.dumps({"frozen": True, "steps": sim.market.steps}), file=sys.stderr, flush=True)
        await stopping
    frozen.cancel()
    await sim.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        options = options_from_args(args)
    except SimArgumentError as exc:
        print(f"market-monitor sim: error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(options, args.quiet))
