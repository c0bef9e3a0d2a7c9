"""A recording as a source of frames for the same sessions and store as live data: played at a chosen
speed on the recording's clock (each frame's receive time), paused, stepped one frame, or sought to any
time through checkpoints.

A checkpoint is the whole replay state (the store and every venue's sessions) at a point of the file the
reader can resume from. They are built in one pass when a recording is first opened and kept beside it
(``FILE.checkpoints``), so a seek restores the nearest one before the target and applies at most
``CHECKPOINT_FRAMES`` frames. The file is a pickle, so it is signed with a key of this user's
(``replay.key`` in the config folder, made once): a checkpoints file from anywhere else, or for another
version of the recording, is ignored and built again, never loaded. No Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.events import Event
from app.core.instruments import Venue
from app.core.recording import Entry, LineSource, Reader, RecordingError
from app.core.store import MarketStore
from app.stream.link import VenueLink
from app.stream.state import ConnState
from app.venues.replay import Sessions

CHECKPOINT_FRAMES = 20_000  # at most this many frames applied after restoring one, per seek
INDEX_FORMAT = 1
YIELD_S = 0.004  # at "max", the loop is handed back this often (as the live read loop does)
SPEEDS: tuple[float | None, ...] = (1.0, 2.0, 10.0, 100.0, None)  # None: as fast as the window takes it
KEY_FILE = "replay.key"


@dataclass(slots=True)
class Checkpoint:
    frame: int  # entries applied before it
    line: int  # the line reading resumes at
    offset: int  # the raw byte offset reading resumes at
    rx_ms: int | None  # the receive time of that line
    state: bytes  # zlib(pickle((store, sessions)))


@dataclass(slots=True)
class RecordingIndex:
    path: Path
    size: int
    mtime_ns: int
    header: dict[str, Any] | None
    frames: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    damaged: int = 0
    markets: dict[Venue, list[str]] = field(default_factory=dict)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def checkpoint_before(self, rx_ms: int) -> Checkpoint | None:
        best = None
        for cp in self.checkpoints:
            if cp.rx_ms is not None and cp.rx_ms <= rx_ms:
                best = cp
        return best


def _sessions(store: MarketStore, header: dict[str, Any] | None) -> dict[Venue, Sessions]:
    out = {}
    for venue in Venue:
        s = Sessions(venue, store.books[venue], level3_books=store.level3_books[venue])
        s.configure(header)
        out[venue] = s
    return out


def _feed(sessions: dict[Venue, Sessions], store: MarketStore, entry: Entry) -> list[Event] | None:
    venue = _venue(entry)
    if venue is None:
        return None
    events = sessions[venue].feed(entry)
    if events:
        store.apply(venue, events)
    return events


def _venue(entry: Entry) -> Venue | None:
    try:
        return Venue(entry.venue) if entry.venue is not None else None
    except ValueError:
        return None


def _checkpoint_state(store: MarketStore, sessions: dict[Venue, Sessions]) -> bytes:
    hooks, watcher = store.hooks, store.watcher
    store.hooks, store.watcher = {}, None  # the alert engine is the window's, never part of the state
    try:
        return zlib.compress(pickle.dumps((store, sessions), protocol=pickle.HIGHEST_PROTOCOL), 1)
    finally:
        store.hooks, store.watcher = hooks, watcher


def restore(cp: Checkpoint) -> tuple[MarketStore, dict[Venue, Sessions]]:
    store, sessions = pickle.loads(zlib.decompress(cp.state))
    return store, sessions


def build_index(
    path: str | Path,
    *,
    every: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RecordingIndex:
    """One pass over the recording: its extent, its markets, and a checkpoint every ``every`` frames
    (where the file can resume). Raises RecordingError in words for what is not a recording."""
    every = every or CHECKPOINT_FRAMES
    target = Path(path)
    stat = target.stat()
    source = LineSource(target)
    reader = Reader(source, str(target))
    store = MarketStore()
    sessions: dict[Venue, Sessions] | None = None
    index = RecordingIndex(target, stat.st_size, stat.st_mtime_ns, None)
    since = 0
    venues_seen = False
    for entry in reader:
        if sessions is None:
            index.header = reader.header
            sessions = _sessions(store, reader.header)
            index.checkpoints.append(Checkpoint(0, 1, 0, entry.rx_ms, _checkpoint_state(store, sessions)))
        elif since >= every and source.resume_at is not None:
            cp = Checkpoint(index.frames, entry.number, source.resume_at, entry.rx_ms, b"")
            cp.state = _checkpoint_state(store, sessions)
            index.checkpoints.append(cp)
            since = 0
            if progress is not None:
                progress(index.frames, stat.st_size)
        venues_seen = venues_seen or entry.venue is not None
        _feed(sessions, store, entry)
        index.frames += 1
        since += 1
        if entry.rx_ms is not None:
            index.first_ms = entry.rx_ms if index.first_ms is None else index.first_ms
            index.last_ms = entry.rx_ms
    index.damaged = reader.damaged
    if index.frames and not venues_seen:
        raise RecordingError(
            f"{target} does not say which venue each frame came from (a fixture or an old capture); "
            "replay it headless with market-monitor replay FILE --venue kalshi|kraken"
        )
    if index.first_ms is None and index.frames:
        raise RecordingError(f"{target} has no receive times, so it cannot be played on a clock")
    index.markets = {v: sorted(m for m, b in store.books[v].items() if b.has_snapshot) for v in Venue}
    return index


# ---------------------------------------------------------------------- checkpoints beside the file


def index_path(recording: Path) -> Path:
    return recording.with_name(recording.name + ".checkpoints")


def _key(config_dir: Path) -> bytes:
    path = config_dir / KEY_FILE
    with contextlib.suppress(OSError):
        key = path.read_bytes()
        if len(key) == 32:
            return key
    key = secrets.token_bytes(32)
    config_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def save_index(index: RecordingIndex, config_dir: Path) -> Path | None:
    """Keep the checkpoints beside the recording (None when its folder is not writable)."""
    payload = zlib.compress(pickle.dumps((INDEX_FORMAT, index), protocol=pickle.HIGHEST_PROTOCOL), 1)
    mac = hmac.new(_key(config_dir), payload, hashlib.sha256).digest()
    target = index_path(index.path)
    try:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(mac + payload)
        tmp.replace(target)
    except OSError:
        return None
    return target


def load_index(recording: Path, config_dir: Path) -> RecordingIndex | None:
    """The saved checkpoints, if they were made here for exactly this file; else None (build again)."""
    try:
        data = index_path(recording).read_bytes()
        stat = recording.stat()
    except OSError:
        return None
    mac, payload = data[:32], data[32:]
    if not hmac.compare_digest(mac, hmac.new(_key(config_dir), payload, hashlib.sha256).digest()):
        return None
    try:
        version, index = pickle.loads(zlib.decompress(payload))
    except Exception:  # a file this build cannot read: built again
        return None
    if version != INDEX_FORMAT or not isinstance(index, RecordingIndex):
        return None
    if (index.size, index.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
        return None
    index.path = recording
    return index


def open_index(
    recording: Path, config_dir: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[RecordingIndex, bool]:
    """(the index, whether it was built now). Built on first open, then kept beside the file."""
    saved = load_index(recording, config_dir)
    if saved is not None:
        return saved, False
    index = build_index(recording, progress=progress)
    save_index(index, config_dir)
    return index, True


# ---------------------------------------------------------------------- the links the window sees


class ReplayLink(VenueLink):
    """What the window reads of a venue's link (state, health, markets), for a recording. It never
    connects: the player feeds its venue's frames into the store."""

    book_channel = "book"

    def __init__(self, venue: Venue, store: MarketStore, markets: list[str], source: str) -> None:
        self.venue = venue
        super().__init__("ws://127.0.0.1/replay", "http://127.0.0.1/replay", store, markets)
        self._set(ConnState.LIVE, f"replaying {source}")
        self.connects = 1

    def start(self) -> asyncio.Task[None]:
        async def idle() -> None:
            await asyncio.Event().wait()

        self._task = asyncio.create_task(idle(), name=f"{self.name}-replay")
        return self._task

    async def set_markets(
        self, markets: list[str], depths: dict[str, int] | None = None
    ) -> tuple[list[str], list[str]]:
        added = [m for m in markets if m not in self.markets]
        removed = [m for m in self.markets if m not in markets]
        self.markets = list(dict.fromkeys(markets))
        self.streamed = list(self.markets)
        return added, removed

    async def repair_books(self, markets: list[str]) -> None:
        """A recording cannot be asked for a snapshot; its own snapshots come as they were recorded."""

    def periodic(self, now: float) -> str | None:
        return None


# ---------------------------------------------------------------------- the player


class ReplayPlayer:
    """Plays ``index``'s recording into ``store``. ``on_restore(store)`` is told of the new store a seek
    restored (the window swaps its views to it)."""

    def __init__(
        self,
        index: RecordingIndex,
        store: MarketStore,
        on_restore: Callable[[MarketStore], None] | None = None,
    ) -> None:
        self.index = index
        self.store = store
        self.on_restore = on_restore
        self.sessions = _sessions(store, index.header)
        self.speed: float | None = 1.0
        self.playing = False
        self.frame = 0  # entries applied
        self.position_ms: int | None = index.first_ms
        self.at_end = index.frames == 0
        self.links: dict[Venue, ReplayLink] = {}
        self._entries = self._open(None)
        self._wake = asyncio.Event()
        self._anchor: tuple[float, int] | None = None  # (wall, rx_ms) the pace counts from
        self._task: asyncio.Task[None] | None = None
        self.frames_applied = 0  # all applied, seeks included (figures)

    # ------------------------------------------------------------------ reading

    def _open(self, cp: Checkpoint | None) -> Any:
        if cp is None or cp.frame == 0:
            source = LineSource(self.index.path)
            reader = Reader(source, str(self.index.path))
        else:
            source = LineSource(self.index.path, cp.offset)
            reader = Reader(source, str(self.index.path), first_line=cp.line)
        return iter(reader)

    def _next(self) -> Entry | None:
        try:
            return next(self._entries)  # type: ignore[no-any-return]
        except StopIteration:
            return None
        except RecordingError:
            return None

    def _take(self) -> Entry | None:
        """The frame held back (by a pause or a seek), else the next one read."""
        entry, self._pending = self._pending, None
        return entry if entry is not None else self._next()

    def _apply(self, entry: Entry) -> None:
        _feed(self.sessions, self.store, entry)
        venue = _venue(entry)
        link = self.links.get(venue) if venue is not None else None
        if link is not None and not entry.sent:
            link.frames += 1
            link.last_frame = time.monotonic()
        self.frame += 1
        self.frames_applied += 1
        if entry.rx_ms is not None:
            self.position_ms = entry.rx_ms

    # ------------------------------------------------------------------ control

    def play(self) -> None:
        if self.at_end:
            return
        self.playing = True
        self._anchor = None
        self._wake.set()

    def pause(self) -> None:
        self.playing = False
        self._anchor = None

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._anchor = None

    def step(self) -> bool:
        """One frame on, paused. False at the end."""
        self.pause()
        entry = self._take()
        if entry is None:
            self.at_end = True
            return False
        self._apply(entry)
        return True

    def seek(self, rx_ms: int) -> None:
        """To the first frame received at ``rx_ms`` or later: the nearest checkpoint before it restored,
        then the frames between applied at once."""
        cp = self.index.checkpoint_before(rx_ms) or (
            self.index.checkpoints[0] if self.index.checkpoints else None
        )
        if cp is None:
            return
        store, sessions = restore(cp)
        self.generation += 1  # a frame the loop holds from before is dropped
        self.store, self.sessions = store, sessions
        self._entries = self._open(cp)
        self.frame = cp.frame
        self.position_ms = cp.rx_ms
        self.at_end = False
        self._anchor = None
        for link in self.links.values():
            link.store = store
        pending: Entry | None = None
        while True:
            entry = self._next()
            if entry is None:
                self.at_end = True
                break
            if entry.rx_ms is not None and entry.rx_ms >= rx_ms:
                pending = entry
                break
            self._apply(entry)
        self._pending = pending
        if self.on_restore is not None:
            self.on_restore(store)

    _pending: Entry | None = None
    generation = 0

    # ------------------------------------------------------------------ the loop

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="replay-player")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        yielded = time.monotonic()
        while True:
            if not self.playing:
                self._wake.clear()
                await self._wake.wait()
                yielded = time.monotonic()
                continue
            entry, self._pending = (
                (self._pending, None) if self._pending is not None else (self._next(), None)
            )
            if entry is None:
                self.at_end = True
                self.playing = False
                continue
            speed = self.speed
            if speed is not None and entry.rx_ms is not None:
                now = time.monotonic()
                if self._anchor is None:
                    self._anchor = (now, entry.rx_ms)
                due = self._anchor[0] + (entry.rx_ms - self._anchor[1]) / 1000 / speed
                if due - now > 0.002:
                    generation = self.generation
                    await asyncio.sleep(min(due - now, 0.25))  # a pause or a seek is noticed soon
                    yielded = time.monotonic()
                    if self.generation != generation:  # sought meanwhile: this frame is from before
                        continue
                    if not self.playing or self._anchor is None or time.monotonic() < due - 0.002:
                        self._pending = entry  # paused, re-sped, or not due yet: it waits
                        continue
            self._apply(entry)
            now = time.monotonic()
            if now - yielded > YIELD_S:
                yielded = now
                await asyncio.sleep(0)
