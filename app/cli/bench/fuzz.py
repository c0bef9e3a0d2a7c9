"""``market-monitor bench --fuzz``: mutated frames through both venue sessions and the store, counting
every exception that escapes (the target is none) and printing frames per second.

The corpus is what the simulator really sends (recorded from a few seconds of the engine on it: snapshots,
deltas, acks, errors, account frames) plus any JSON-lines recordings given with ``--corpus`` (the shared
fixtures of real venue frames, in a source tree). Each fuzzed frame is a corpus frame with one to three
mutations: truncation, byte flips, type swaps, huge and negative numbers, deep nesting, oversized strings
and duplicated keys. Sessions keep their state across frames (books grow, sids come and go) and start
afresh every ``RESET_EVERY`` frames, so mutations land on every kind of state.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.launcher import launch
from app.sim.faults import FaultSpec
from app.sim.market import SimConfig, SimMarket
from app.sim.server import SimOptions
from app.stream.recorder import Recorder
from app.user.secret_store import SecretStore
from app.user.settings import DEFAULT_KRAKEN, SIM_PROFILE, Profile
from app.venues import wire
from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.session import KrakenSession

RESET_EVERY = 20_000
RECORD_S = 3.0
Session = KalshiSession | KrakenSession


async def _record_simulator(seconds: float) -> list[tuple[Venue, str]]:
    """Every frame the engine receives from the simulator in ``seconds``, with some frame faults on."""
    buffer = io.StringIO()
    faults = [
        FaultSpec.parse(f) for f in ("skip-seq:every=50", "bad-checksum:every=40", "unknown-type:every=30")
    ]
    options = SimOptions(seed=3, rate=400, faults=faults)
    kalshi = list(SimMarket(SimConfig(seed=3)).kalshi)[:8]
    running = await launch(
        Profile(SIM_PROFILE),
        SecretStore(),
        {Venue.KALSHI: kalshi, Venue.KRAKEN: list(DEFAULT_KRAKEN)},
        sim_options=options,
        link_options={"recorder": Recorder(buffer)},
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        await running.stop()
    out = []
    for line in buffer.getvalue().splitlines():
        obj = json.loads(line)
        if "frame" in obj:  # the commands the links sent are recorded too: not frames to fuzz
            out.append((Venue(obj["venue"]), obj["frame"]))
    return out


def _read_corpus(path: Path) -> list[tuple[Venue, str]]:
    """Frames of a JSON-lines recording or fixture file; the venue is in the line, or in the file name."""
    out = []
    guess = Venue.KRAKEN if "kraken" in path.name else Venue.KALSHI
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "frame" in obj:
            out.append((Venue(obj.get("venue", guess)), str(obj["frame"])))
        elif isinstance(obj, dict) and "raw" in obj:
            raw = obj["raw"]
            out.append((guess, raw if isinstance(raw, str) else json.dumps(raw)))
        elif isinstance(obj, dict):
            out.append((guess, line))
    return out


# ---------------------------------------------------------------------------------------- mutations


def _truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _flip(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice('{}[]",:0123456789-.eE \\x\x00\u00e9')
    return "".join(chars)


def _nodes(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.extend(_nodes(value, (*path, key)))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out.extend(_nodes(value, (*path, i)))
    return out


def _replace(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return obj


_HOSTILE_VALUES: tuple[Callable[[random.Random], Any], ...] = (
    lambda r: None,
    lambda r: True,
    lambda r: -r.randint(1, 10**6),
    lambda r: 10 ** r.randint(19, 400),  # beyond 64 bits
    lambda r: "9" * r.randint(50, 20_000),  # a "number" thousands of digits long
    lambda r: "-" + str(r.random()),
    lambda r: "1e" + str(r.randint(300, 5000)),
    lambda r: "NaN",
    lambda r: "x" * r.randint(1000, 200_000),  # an oversized string
    lambda r: [],
    lambda r: {},
    lambda r: [[["0.5", "1"]]],
    lambda r: {"price": "0.5"},
    lambda r: "",
)


def _structural(rng: random.Random, text: str) -> str:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):  # broken by an earlier mutation, or nested too deep to edit
        return _flip(rng, text)
    nodes = _nodes(obj)
    path = rng.choice(nodes)
    kind = rng.randrange(4)
    if kind == 0:  # a type swap or a hostile value
        obj = _replace(obj, path, rng.choice(_HOSTILE_VALUES)(rng))
    elif kind == 1:  # a value nested deep (written by hand: json.dumps would hit its own recursion limit)
        depth = rng.choice((50, 500, 5000, 20_000))
        marker = "\u0000deep\u0000"
        encoded = json.dumps(_replace(obj, path, marker))
        return encoded.replace(json.dumps(marker), "[" * depth + "]" * depth, 1)
    elif kind == 2:  # duplicated keys: the same key again, with another value, at the front of an object
        dicts = [p for p in nodes if isinstance(_at(obj, p), dict) and _at(obj, p)]
        if dicts:
            where = rng.choice(dicts)
            key = rng.choice(list(_at(obj, where)))
            dup = json.dumps(key) + ":" + json.dumps(rng.choice(_HOSTILE_VALUES)(rng)) + ","
            encoded = json.dumps(obj)
            inner = json.dumps(_at(obj, where))
            at = encoded.find(inner)
            if at >= 0:
                return encoded[: at + 1] + dup + encoded[at + 1 :]
    else:  # a number's sign or size changed in place
        numbers = [
            p for p in nodes if isinstance(_at(obj, p), int | float) and not isinstance(_at(obj, p), bool)
        ]
        if numbers:
            where = rng.choice(numbers)
            value = _at(obj, where)
            obj = _replace(obj, where, rng.choice((-value, value * 10**30, -(2**63), 2**64)))
    return json.dumps(obj)


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


MUTATIONS: tuple[Callable[[random.Random, str], str], ...] = (_truncate, _flip, _structural, _structural)


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(MUTATIONS)(rng, text)
    return text


# ---------------------------------------------------------------------------------------- the run


def fuzz(corpus: list[tuple[Venue, str]], frames: int, seed: int, prepared: int = 20_000) -> dict[str, Any]:
    """Feed ``frames`` mutated frames through fresh sessions and a store; count what escapes.

    ``prepared`` mutated frames are made first and cycled, with the valid corpus between them, so the
    figure is the sessions' and the store's speed, not the mutator's."""
    rng = random.Random(seed)
    made = [(venue, mutate(rng, text)) for venue, text in (rng.choice(corpus) for _ in range(prepared))]
    store = MarketStore()
    sessions: dict[Venue, Session] = {}
    escaped: Counter[str] = Counter()
    examples: list[str] = []
    fed = 0
    start = time.perf_counter()
    for i in range(frames):
        if i % RESET_EVERY == 0:
            store = MarketStore()
            sessions = {
                Venue.KALSHI: KalshiSession(True, store.books[Venue.KALSHI]),
                Venue.KRAKEN: KrakenSession(10, store.books[Venue.KRAKEN]),
            }
        # Mostly mutated frames, with real ones between them so sessions hold books and sids to break.
        venue, text = made[i % prepared] if i % 4 else corpus[i % len(corpus)]
        try:
            store.apply(venue, sessions[venue].on_frame(text))
        except Exception as exc:
            escaped[type(exc).__name__] += 1
            if len(examples) < 5:
                examples.append(f"{venue.value}: {wire.excerpt(text, 160)}\n{traceback.format_exc(limit=4)}")
        fed += 1
    seconds = time.perf_counter() - start
    return {
        "frames": fed,
        "corpus": len(corpus),
        "seconds": round(seconds, 2),
        "per_s": round(fed / seconds) if seconds else None,
        "unhandled": sum(escaped.values()),
        "by_type": dict(escaped),
        "examples": examples,
    }


def run(frames: int, seed: int, corpus_paths: list[str], echo: bool = True) -> dict[str, Any]:
    corpus = asyncio.run(_record_simulator(RECORD_S))
    for name in corpus_paths:
        path = Path(name)
        for file in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
            corpus.extend(_read_corpus(file))
    figures = fuzz(corpus, frames, seed)
    figures["seed"] = seed
    if echo:
        print(
            f"fuzz: {figures['frames']:,} frames (mutations of {figures['corpus']:,} real ones, seed {seed}) "
            f"through both venue sessions and the store"
        )
        print(f"  {figures['per_s']:,} frames/s; unhandled exceptions: {figures['unhandled']}")
        for example in figures["examples"]:
            print("  " + example.replace("\n", "\n    "))
    return figures
