"""Link groups: a numbered, coloured "selected market" that views subscribe to.

A pane in group N shows whatever market was last selected in any member of group N (the watchlist is a
member of group 1); group 0 is "not linked": such a pane stays on its own market. Plain Python (no Qt
object): the panes and the window call ``select`` with themselves as the source, and listeners leave the
source alone (it already shows what it picked).
"""

from __future__ import annotations

from collections.abc import Callable

from app.user.settings import MarketRef

UNLINKED = 0
GROUPS = (1, 2, 3, 4, 5, 6)
WATCHLIST_GROUP = 1  # the watchlist selection drives group 1
# Distinct on both the dark and the light theme, and told apart without reading the number.
COLOURS: dict[int, str] = {
    1: "#e5534b",  # red
    2: "#3fb950",  # green
    3: "#539bf5",  # blue
    4: "#d29922",  # amber
    5: "#b083f0",  # violet
    6: "#39c5cf",  # cyan
}

Listener = Callable[[int, MarketRef, object], None]  # (group, market, who picked it)


def label(group: int) -> str:
    return "No link" if group == UNLINKED else f"Link {group}"


class LinkGroups:
    def __init__(self) -> None:
        self._current: dict[int, MarketRef] = {}
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def forget(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def current(self, group: int) -> MarketRef | None:
        return self._current.get(group)

    def select(self, group: int, ref: MarketRef, source: object = None) -> bool:
        """``source`` picked ``ref`` in ``group``: the listeners move every member but ``source``. False
        if nothing moved (unlinked, or the group already shows it)."""
        if group == UNLINKED or self._current.get(group) == ref:
            return False
        self._current[group] = ref
        for listener in list(self._listeners):
            listener(group, ref, source)
        return True

    def clear(self) -> None:
        self._current.clear()
