"""Which markets the window wants streamed, and by whom.

The watchlist is one holder; a market pane, the strike board or the Orders view each hold the markets they
show, so a market stays subscribed while anything shows it and is dropped when the last holder lets go.
Kraken books also carry a depth: the deepest any holder asks for is subscribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.instruments import Venue
from app.user.settings import MarketRef

WATCHLIST = "watchlist"


@dataclass(frozen=True, slots=True)
class Hold:
    refs: tuple[MarketRef, ...]
    depth: int | None  # a Kraken book depth this holder needs (None: the link's default)


class MarketDemand:
    def __init__(self) -> None:
        self._holds: dict[str, Hold] = {}

    def hold(self, owner: str, refs: Sequence[MarketRef], depth: int | None = None) -> bool:
        """Set what ``owner`` shows (replacing what it held). True if the streamed set changed."""
        before = self.snapshot()
        hold = Hold(tuple(refs), depth)
        if hold.refs:
            self._holds[owner] = hold
        else:
            self._holds.pop(owner, None)
        return self.snapshot() != before

    def release(self, owner: str) -> bool:
        return self.hold(owner, ())

    def owners(self) -> list[str]:
        return list(self._holds)

    def markets(self, venue: Venue) -> list[str]:
        """Every held market of ``venue``, once each, the watchlist's order first (then holders' order)."""
        seen: dict[str, None] = {}
        for owner in sorted(self._holds, key=lambda o: o != WATCHLIST):
            for ref in self._holds[owner].refs:
                if ref.venue is venue:
                    seen.setdefault(ref.market, None)
        return list(seen)

    def depths(self) -> dict[str, int]:
        """Kraken markets some holder wants deeper than the default: the deepest asked for each."""
        out: dict[str, int] = {}
        for hold in self._holds.values():
            if hold.depth is None:
                continue
            for ref in hold.refs:
                if ref.venue is Venue.KRAKEN:
                    out[ref.market] = max(out.get(ref.market, 0), hold.depth)
        return out

    def snapshot(self) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, int], ...]]:
        return tuple(tuple(self.markets(v)) for v in Venue), tuple(sorted(self.depths().items()))
