"""``--record FILE``: every raw frame received, as JSON lines that ``replay`` reads back."""

from __future__ import annotations

import json
import time
from typing import IO


class Recorder:
    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.lines = 0

    def frame(self, venue: str, conn: int, frame: str | bytes) -> None:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        # "frame" keeps the exact text (Kraken numbers must not be re-serialised).
        self.fh.write(
            json.dumps({"frame": text, "venue": venue, "conn": conn, "rx_ms": time.time_ns() // 10**6})
        )
        self.fh.write("\n")
        self.lines += 1

    def close(self) -> None:
        self.fh.flush()
