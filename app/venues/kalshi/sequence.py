"""``seq`` per subscription id (protocol/kalshi.md §7.4).

``seq`` counts every sequenced frame on a sid (snapshots, deltas, and the ``ok``/``unsubscribed``/error
frames scoped to it); a new sid starts at 1. Any ``seq != last + 1`` is a gap: something on that sid
was lost, and since a gap names no market, every book on the sid is suspect.
"""

from __future__ import annotations


class SeqTracker:
    def __init__(self) -> None:
        self._last: dict[int, int] = {}
        self._fresh: set[int] = set()  # sids we saw subscribed: their first frame must be seq 1

    def expect_new(self, sid: int) -> None:
        """The sid was just acknowledged: its first sequenced frame must carry seq 1."""
        self._last.pop(sid, None)
        self._fresh.add(sid)

    def forget(self, sid: int) -> None:
        self._last.pop(sid, None)
        self._fresh.discard(sid)

    def check(self, sid: int, seq: int) -> int | None:
        """Record ``seq``; return the expected seq when this frame does not follow on, else None.

        A sid first met mid-stream (a recording that starts late) anchors at whatever it carries.
        """
        last = self._last.get(sid)
        self._last[sid] = seq
        if last is None:
            if sid in self._fresh:
                self._fresh.discard(sid)
                return None if seq == 1 else 1
            return None
        return None if seq == last + 1 else last + 1

    def last(self, sid: int) -> int | None:
        return self._last.get(sid)
