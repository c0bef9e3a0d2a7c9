"""What the user can do to their watchlists (new, rename, delete, switch, cycle; add, remove and move
markets; import and export files), on the ``Settings`` the window saves. No Qt: the window asks for names
and files, calls one method, and redraws, saves and resubscribes as the returned ``Edit`` says; a refused
edit raises ``WatchlistError`` with the sentence the window shows.

Watchlist files are one ``venue:market`` per line with the list's name as a first-line comment (easy to
edit by hand), or JSON ``{"name": ..., "markets": [...]}`` on import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.user.settings import MarketRef, Settings, Watchlist, clean_name


class WatchlistError(Exception):
    """An edit that was refused and changed nothing; ``str()`` is the reason, in the user's words."""


@dataclass(frozen=True, slots=True)
class Edit:
    """What an edit changed, so the window redraws only what it must."""

    resubscribe: bool = True  # the active list's markets may differ: send the new set to the venues
    keep_selection: bool = True  # keep the selected market if the list still shows it
    select: MarketRef | None = None  # then select this market
    reordered: bool = False  # the list's own order moved: show it (a sorted view would hide the move)
    message: str | None = None  # a line for the status bar


class Watchlists:
    """The controller over ``settings.watchlists``; ``None`` from an edit means nothing changed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def current(self) -> Watchlist:
        return self.settings.watchlist()

    def names(self) -> list[str]:
        return [wl.name for wl in self.settings.watchlists]

    # ------------------------------------------------------------------ the lists

    def new(self, name: str) -> Edit:
        try:
            wl = self.settings.add_watchlist(name)
        except ValueError as exc:
            raise WatchlistError(str(exc)) from None
        self.settings.active_watchlist = wl.name
        return Edit()

    def rename(self, name: str) -> Edit | None:
        old = self.settings.active_watchlist
        if name.strip() == old:
            return None
        try:
            self.settings.rename_watchlist(old, name)
        except ValueError as exc:
            raise WatchlistError(str(exc)) from None
        return Edit(resubscribe=False)

    def delete(self) -> Edit:
        """Delete the active list; the first remaining one becomes active."""
        try:
            self.settings.delete_watchlist(self.settings.active_watchlist)
        except ValueError as exc:
            raise WatchlistError(str(exc)) from None
        return Edit()

    def switch(self, name: str) -> Edit | None:
        if name == self.settings.active_watchlist:
            return None
        if name not in self.names():
            raise WatchlistError(f"there is no watchlist named {name!r}")
        self.settings.active_watchlist = name
        # Another list: its first market is selected, even if the old selection is on it too.
        return Edit(keep_selection=False)

    def cycle(self, step: int = 1) -> Edit | None:
        names = self.names()
        i = names.index(self.settings.active_watchlist)
        return self.switch(names[(i + step) % len(names)])

    # ------------------------------------------------------------------ the markets of the active list

    def add(self, refs: Iterable[MarketRef]) -> Edit | None:
        """Add the markets not yet in the list; the last one added is selected."""
        wl = self.current
        added = [ref for ref in refs if wl.add(ref)]
        if not added:
            return None
        return Edit(select=added[-1])

    def remove(self, ref: MarketRef) -> Edit | None:
        """Remove a market; its neighbour (the next one, else the new last) is selected."""
        wl = self.current
        if ref not in wl.markets:
            return None
        index = wl.markets.index(ref)
        wl.remove(ref)
        after = wl.markets[min(index, len(wl.markets) - 1)] if wl.markets else None
        return Edit(keep_selection=False, select=after)

    def move(self, ref: MarketRef, step: int) -> Edit | None:
        """Move a market ``step`` places (negative: up); nothing at either end."""
        wl = self.current
        if ref not in wl.markets or not wl.move(ref, step):
            return None
        return Edit(resubscribe=False, select=ref, reordered=True)

    # ------------------------------------------------------------------ files

    def import_file(self, path: Path) -> Edit:
        """Read a list from a file and make it the active one, renamed ``Name (2)`` if the name is taken."""
        try:
            wl = import_watchlist(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WatchlistError(f"Could not import {path}:\n{exc}") from None
        base, n = wl.name, 2
        while wl.name in self.names():
            wl.name = f"{base} ({n})"
            n += 1
        self.settings.watchlists.append(wl)
        self.settings.active_watchlist = wl.name
        return Edit(message=f"Imported “{wl.name}”: {len(wl.markets)} markets")

    def export_file(self, path: Path) -> str:
        """Write the active list; returns the line for the status bar."""
        wl = self.current
        try:
            export_watchlist(wl, path)
        except OSError as exc:
            raise WatchlistError(f"Could not write {path}:\n{exc.strerror or exc}") from None
        return f"Exported “{wl.name}” to {path}"


def export_watchlist(wl: Watchlist, path: Path) -> None:
    """One market per line (``venue:market``), with the list's name as a comment: easy to edit by hand."""
    lines = [f"# {wl.name}", *(r.text() for r in wl.markets)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def import_watchlist(path: Path) -> Watchlist:
    """The export format, or JSON ``{"name": ..., "markets": [...]}``. A bad line is named by number."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        obj = json.loads(text)
        markets = [MarketRef.parse(m) for m in obj["markets"]]
        return Watchlist(clean_name(obj.get("name") or path.stem), markets)
    name = path.stem
    wl = Watchlist(name)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if number == 1 and line[1:].strip():
                wl.name = clean_name(line[1:])
            continue
        try:
            wl.add(MarketRef.parse(line))
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return wl
