"""``--record FILE`` and File → Record: every raw frame received and every command sent, as the JSON
lines ``replay`` reads back (the format is app/core/recording.py)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app import __version__
from app.core.recording import compressed, header_line

SECRET_PARAMS = frozenset({"token"})  # Kraken's private subscriptions carry a session token: never on disk
COMPRESS_LEVEL = 6  # zlib's default: ~9x on frame text
# A new gzip member this often (uncompressed bytes, at a flush): each member start is a place a replay
# can seek to without inflating the file from its start (app/core/recording.py ``LineSource``).
MEMBER_BYTES = 4 << 20


class _GzipMembers:
    """Text in, gzip members out: a new member at a flush once the current one holds ``MEMBER_BYTES``."""

    def __init__(self, path: Path) -> None:
        self.raw = open(path, "wb")  # noqa: SIM115 (closed by close())
        self.member = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=COMPRESS_LEVEL)
        self.in_member = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.in_member += len(data)
        return self.member.write(data)

    def flush(self) -> None:
        if self.in_member >= MEMBER_BYTES:
            self.member.close()  # ends the member; the raw file stays open
            self.member = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=COMPRESS_LEVEL)
            self.in_member = 0
        else:
            self.member.flush()  # a sync point: everything so far can be read back
        self.raw.flush()

    def close(self) -> None:
        self.member.close()
        self.raw.close()


class Recorder:
    def __init__(self, fh: IO[str] | _GzipMembers, path: Path | None = None) -> None:
        self.fh = fh
        self.path = path  # the file being written, when the recorder opened one itself
        self.lines = 0
        self.started = time.monotonic()

    @classmethod
    def create(cls, path: str | Path, sessions: dict[str, dict[str, Any]] | None = None) -> Recorder:
        """A new recording at ``path`` (gzip when named ``.gz``), opened with its header. ``sessions``
        keeps each venue's session settings (Kalshi ``use_yes_price``, Kraken ``depth``) for a recording
        begun mid-connection, whose subscribe commands it never saw."""
        target = Path(path)
        plain = not compressed(target)
        fh: IO[str] | _GzipMembers = open(target, "w", encoding="utf-8") if plain else _GzipMembers(target)  # noqa: SIM115
        recorder = cls(fh, target)
        started = datetime.now(UTC).isoformat(timespec="milliseconds")
        header = header_line(started, __version__)
        if sessions:
            header["sessions"] = sessions
        fh.write(json.dumps(header) + "\n")
        return recorder

    def frame(self, venue: str, conn: int, frame: str | bytes, link: str | None = None) -> None:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        # "frame" keeps the exact text (Kraken numbers must not be re-serialised).
        line: dict[str, Any] = {"frame": text, "venue": venue, "conn": conn, "rx_ms": time.time_ns() // 10**6}
        if link is not None and link != venue:
            line["link"] = link
        self.fh.write(json.dumps(line))
        self.fh.write("\n")
        self.lines += 1

    def sent(self, venue: str, conn: int, command: dict[str, Any], link: str | None = None) -> None:
        """A command the link sent: replay needs it (Kalshi's use_yes_price, Kraken's book depth)."""
        params = command.get("params")
        if isinstance(params, dict) and SECRET_PARAMS & params.keys():
            command = {**command, "params": {k: v for k, v in params.items() if k not in SECRET_PARAMS}}
        line: dict[str, Any] = {
            "sent": json.dumps(command),
            "venue": venue,
            "conn": conn,
            "rx_ms": time.time_ns() // 10**6,
        }
        if link is not None and link != venue:
            line["link"] = link
        self.fh.write(json.dumps(line))
        self.fh.write("\n")
        self.lines += 1

    def flush(self) -> None:
        """Push what is buffered to the file (a gzip sync point: readable even if the app dies later)."""
        self.fh.flush()

    def size(self) -> int:
        """Bytes on disk so far (after the last flush)."""
        try:
            return self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return 0

    def close(self) -> None:
        self.fh.flush()
        if self.path is not None:
            self.fh.close()
