"""The recording file: JSON lines, plain or gzip-compressed, read back line by line.

A recording made by this app starts with a header line naming the format and its version::

    {"market_monitor_recording": 1, "started": "2026-12-03T07:10:00.123+00:00", "app": "0.1.0"}

then one line per frame received (``frame``: the exact text; ``venue``; ``link`` when a venue has two
links; ``conn``: the connection number; ``rx_ms``: the receive time) or command sent (``sent`` instead of
``frame``, with any token taken out). Files without a header (the shared fixtures, older recordings) are
read as before: each line a raw frame, or the frame under ``raw`` or ``frame``.

Compression is gzip (stdlib; see README, "Recordings"): it is detected from the file's first bytes, not its
name, so a renamed file still opens. Imports no Qt and no sockets.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

FORMAT_KEY = "market_monitor_recording"
FORMAT_VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
SNIFF_BYTES = 4096
# Numbers with a fraction keep their exact text (Kraken's checksum needs it), as in app/venues/wire.py.
_decoder = msgspec.json.Decoder(float_hook=str)


class RecordingError(Exception):
    """The file cannot be read as a recording; the message is one sentence for the user."""


@dataclass(slots=True)
class Entry:
    """One line of a recording: a frame received (``text`` or, in fixtures, a parsed ``obj``) or a
    command sent (``sent``)."""

    number: int  # line number in the file, 1-based
    venue: str | None
    text: str | None = None
    obj: Any = None
    sent: bool = False
    link: str | None = None
    conn: int | None = None
    rx_ms: int | None = None


def header_line(started_iso: str, app_version: str) -> dict[str, Any]:
    return {FORMAT_KEY: FORMAT_VERSION, "started": started_iso, "app": app_version}


def compressed(path: str | Path) -> bool:
    """What a new recording at ``path`` is written as: gzip unless it is named plain ``.jsonl``."""
    return str(path).endswith(".gz")


def open_binary(path: str | Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip. Raises RecordingError in words for zstd and for
    a file that is plainly not text (NUL bytes where a JSON line would be)."""
    raw = open(path, "rb")  # noqa: SIM115 (returned, closed by the caller)
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        raw.close()
        raise RecordingError(
            f"{path} is zstd-compressed; this build writes and reads gzip recordings "
            f"(decompress it first: zstd -d {path})"
        )
    if b"\x00" in head:
        raw.close()
        raise RecordingError(f"{path} is not a recording: it holds binary data, not JSON lines")
    return raw


class LineSource:
    """A recording file's lines (bytes), from its start or from a resume point, telling for each line
    where reading could later resume at it (``resume_at``: a raw byte offset, or None where it cannot).

    A plain file can resume at any line. A gzip file can resume only where a gzip member starts on a line
    boundary: the recorder starts a new member every few MB (``Recorder``), so a seek there inflates from
    that member on instead of from the start of the file."""

    CHUNK = 1 << 16

    def __init__(self, path: str | Path, start: int = 0) -> None:
        self.path = Path(path)
        self.start = start
        self.resume_at: int | None = None
        with open(self.path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        self.gzip = head.startswith(GZIP_MAGIC) or (start > 0 and _is_gzip_file(self.path))
        if not self.gzip:
            open_binary(self.path).close()  # the same refusals as the reader's own open

    def __iter__(self) -> Iterator[bytes]:
        return self._gzip_lines() if self.gzip else self._plain_lines()

    def _plain_lines(self) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            offset = self.start
            for line in fh:
                self.resume_at = offset
                offset += len(line)
                yield line

    def _gzip_lines(self) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            offset = self.start  # raw offset of the first byte of ``data``
            inflate = zlib.decompressobj(31)
            fed = False  # the current member has been given data
            pending = b""  # an unfinished line
            member_at: int | None = self.start  # a member began here, on a line boundary
            data = fh.read(self.CHUNK)
            while data:
                fed = True
                out = inflate.decompress(data)
                if out:
                    lines = (pending + out).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        self.resume_at, member_at = member_at, None
                        yield line + b"\n"
                if inflate.eof:  # the member ended; another may follow
                    rest = inflate.unused_data
                    offset += len(data) - len(rest)
                    inflate, fed = zlib.decompressobj(31), False
                    member_at = offset if not pending else None
                    data = rest or fh.read(self.CHUNK)
                else:
                    offset += len(data)
                    data = fh.read(self.CHUNK)
            if fed:  # data ran out inside a member: the file was cut off mid-write
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
            if pending:
                self.resume_at = None
                yield pending


def _is_gzip_file(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


class Reader:
    """Iterates a recording's entries. A damaged line (not JSON, cut off) is counted, reported through
    ``on_damaged(line_number, reason)`` and skipped; a file that is not a recording at all, or a
    recording of a format version this build does not know, raises RecordingError before any entry."""

    def __init__(
        self,
        stream: IO[bytes] | IO[str] | Iterable[bytes],
        source: str = "input",
        *,
        on_damaged: Callable[[int, str], None] | None = None,
        strict: bool = False,
        first_line: int = 1,
    ) -> None:
        """``first_line`` > 1 resumes mid-file (a seek): line numbers count on from there, and the
        header was read when the file was first opened."""
        self.first_line = first_line
        self.stream = stream
        self.source = source
        self.on_damaged = on_damaged
        self.strict = strict
        self.damaged = 0
        self.header: dict[str, Any] | None = None
        self.cut_off: str | None = None  # why reading ended before the end of the data (gzip cut off)

    def _damaged(self, number: int, reason: str) -> None:
        self.damaged += 1
        if self.strict:
            raise RecordingError(f"{self.source} line {number}: damaged ({reason})")
        if self.on_damaged is not None:
            self.on_damaged(number, reason)

    def _lines(self) -> Iterator[tuple[int, str | bytes]]:
        number = self.first_line - 1
        try:
            for line in self.stream:
                number += 1
                yield number, line
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            if number == 0 and self.first_line == 1:
                raise RecordingError(
                    f"{self.source} is not a recording: its gzip data cannot be read ({exc})"
                ) from None
            # A recording cut off mid-write (the app was killed) ends in an incomplete gzip stream.
            self.cut_off = f"the compressed data ends early or is corrupt after line {number} ({exc})"
            self._damaged(number + 1, self.cut_off)

    def __iter__(self) -> Iterator[Entry]:
        seen_data = self.first_line > 1
        for number, raw in self._lines():
            if isinstance(raw, str):
                line = raw
            else:
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    if not seen_data:
                        raise RecordingError(
                            f"{self.source} is not a recording: line {number} is not UTF-8 text"
                        ) from None
                    self._damaged(number, "not UTF-8 text")
                    continue
            if not line.strip():
                continue
            obj = _parse(line)
            if not isinstance(obj, dict):
                if not seen_data:
                    # The first line decides: a recording's first line is its header or a JSON frame.
                    raise RecordingError(
                        f"{self.source} is not a recording: line {number} is not a JSON object"
                    )
                self._damaged(number, "not a JSON object: cut off or garbled")
                continue
            if not seen_data:
                seen_data = True
                if FORMAT_KEY in obj:
                    self._check_header(obj)
                    self.header = obj
                    continue
            yield _entry(number, obj)

    def _check_header(self, obj: dict[str, Any]) -> None:
        version = obj.get(FORMAT_KEY)
        if version != FORMAT_VERSION:
            raise RecordingError(
                f"{self.source} is a recording of format version {version!r}; this build reads "
                f"version {FORMAT_VERSION} (a newer Market Monitor wrote it?)"
            )


def _parse(line: str) -> Any:
    try:
        return _decoder.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return None


def _entry(number: int, obj: dict[str, Any]) -> Entry:
    venue = obj.get("venue")
    venue = venue if isinstance(venue, str) else None
    conn = obj.get("conn")
    rx = obj.get("rx_ms")
    link = obj.get("link")
    common: dict[str, Any] = {
        "conn": conn if type(conn) is int else None,
        "rx_ms": rx if type(rx) is int else None,
        "link": link if isinstance(link, str) else None,
    }
    frame = obj.get("frame")
    if isinstance(frame, str):
        return Entry(number, venue, text=frame, **common)
    sent = obj.get("sent")
    if isinstance(sent, str):
        return Entry(number, venue, text=sent, sent=True, **common)
    if "raw" in obj:
        raw = obj["raw"]
        if isinstance(raw, str):
            return Entry(number, venue, text=raw, **common)
        return Entry(number, venue, obj=raw, **common)
    return Entry(number, None, obj=obj)  # a bare frame (fixtures)


def sniffed(data: bytes) -> IO[bytes]:
    """In-memory bytes as a recording stream (tests, stdin): decompressed when gzip."""
    buffer = io.BytesIO(data)
    if data.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffer, mode="rb")  # type: ignore[return-value]
    return buffer
