"""What the user can do to their watchlists (new, rename, delete, switch, cycle; add, remove and move
markets; import and export files), on the ``Settings`` the window saves. No Qt: the window asks for names
and files, calls one method, and redraws, saves and resubscribes as the returned ``Edit`` says; a refused
edit raises ``WatchlistError`` with the sentence the window shows.

Watchlist files are one ``venue:market`` per line with the list's name as a first-line comment (easy to
edit by hand), or JSON ``{"name": ..., "markets": [...]}`` on import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.core.instruments import Venue
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

    def read_file(self, path: Path, listed: Mapping[Venue, set[str]] | None = None) -> ParsedList:
        """Read a list from a file without adding it: its good markets and its refused lines with reasons.
        ``listed`` (per venue, what it lists) refuses the markets a venue does not list."""
        try:
            parsed = read_watchlist(path)
        except (OSError, ValueError) as exc:
            raise WatchlistError(f"Could not import {path.name}:\n{exc}") from None
        if listed:
            parsed = refuse_unlisted(parsed, listed)
        return parsed

    def add_imported(self, parsed: ParsedList) -> Edit:
        """Add a read list (its good markets) and make it the active one, renamed ``Name (2)`` if taken."""
        if not parsed.markets:
            raise WatchlistError(f"{parsed.source} holds no market that can be imported")
        wl = Watchlist(parsed.name, list(parsed.markets))
        base, n = wl.name, 2
        while wl.name in self.names():
            wl.name = f"{base[: 60 - len(f' ({n})')]} ({n})"
            n += 1
        self.settings.watchlists.append(wl)
        self.settings.active_watchlist = wl.name
        left = f", {len(parsed.rejected)} lines left out" if parsed.rejected else ""
        return Edit(message=f"Imported “{wl.name}”: {len(wl.markets)} markets{left}")

    def import_file(self, path: Path, listed: Mapping[Venue, set[str]] | None = None) -> Edit:
        """Import a file only if every line is good; a refused line is named with its reason."""
        parsed = self.read_file(path, listed)
        if parsed.rejected:
            raise WatchlistError(f"Could not import {path.name}:\n" + "\n".join(map(str, parsed.rejected)))
        return self.add_imported(parsed)

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


MAX_FILE_BYTES = 1 << 20  # a watchlist of a thousand markets is ~30 kB; anything far larger is not one
VENUE_NAMES = {Venue.KALSHI: "Kalshi", Venue.KRAKEN: "Kraken"}


@dataclass(frozen=True, slots=True)
class Rejected:
    """One line (or JSON entry) left out of an import, and why, in words."""

    where: str  # "line 3" or "entry 2"
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}: {self.reason}"


@dataclass(slots=True)
class ParsedList:
    """A watchlist file as read: its name, the markets that can be imported, and the lines that cannot."""

    name: str
    markets: list[MarketRef] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    source: str = "the file"
    origin: dict[MarketRef, str] = field(default_factory=dict)  # each market's line, to name it if refused


def parse_market(text: str) -> MarketRef:
    """One ``venue:market``; ``ValueError`` says what is wrong in words."""
    venue_name, sep, name = text.strip().partition(":")
    known = " and ".join(v.value for v in Venue)
    if sep and venue_name.strip().lower() not in {v.value for v in Venue}:
        raise ValueError(
            f"{venue_name.strip() or 'an empty name'} is not a venue this app streams ({known} are)"
        )
    if sep and not name.strip():
        raise ValueError("no market after the venue")
    ref = MarketRef.parse(text)
    if ref.venue is Venue.KRAKEN and "/" not in ref.market:
        raise ValueError("Kraken pairs are written BASE/QUOTE, e.g. kraken:BTC/USD")
    return ref


def parse_watchlist(data: bytes, name: str, source: str = "the file") -> ParsedList:
    """A watchlist file's bytes: the export format (a first-line ``# name`` comment, then one market per
    line) or JSON ``{"name": ..., "markets": [...]}``. A bad line is refused on its own; a file that is not
    a watchlist at all raises ``ValueError`` saying why, in words."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{source} is over {MAX_FILE_BYTES >> 20} MB: too large to be a watchlist")
    if b"\x00" in data:
        raise ValueError(
            f"{source} is not a text file (it holds binary data); a watchlist is text, "
            "one venue:market per line"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{source} is not UTF-8 text (line {bad_line:,} cannot be read); save it as UTF-8 text, "
            "one venue:market per line"
        ) from None
    if text.lstrip().startswith(("{", "[")):
        return _parse_json(text, name, source)
    out = ParsedList(name, source=source)
    seen: set[MarketRef] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if number == 1 and line[1:].strip():
                try:
                    out.name = clean_name(line[1:])
                except ValueError as exc:
                    out.rejected.append(Rejected(f"line {number}", line, f"{exc}; the file's name is used"))
            continue
        _take(out, seen, f"line {number}", line)
    if not out.markets and not out.rejected:
        raise ValueError(f"{source} holds no markets (a watchlist is one venue:market per line)")
    return out


def _parse_json(text: str, name: str, source: str) -> ParsedList:
    shape = 'a JSON watchlist is {"name": "...", "markets": ["kraken:BTC/USD", ...]}'
    try:
        obj = json.loads(text)
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValueError(f"{source} is not valid JSON{where}; {shape}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("markets"), list):
        raise ValueError(f'{source} has no "markets" list; {shape}')
    out = ParsedList(name, source=source)
    if obj.get("name") is not None:
        try:
            out.name = clean_name(obj["name"])
        except ValueError as exc:
            out.rejected.append(Rejected("name", str(obj["name"])[:80], f"{exc}; the file's name is used"))
    seen: set[MarketRef] = set()
    for number, entry in enumerate(obj["markets"], 1):
        if not isinstance(entry, str):
            out.rejected.append(
                Rejected(f"entry {number}", json.dumps(entry)[:80], "not a venue:market text")
            )
            continue
        _take(out, seen, f"entry {number}", entry)
    if not out.markets and not out.rejected:
        raise ValueError(f"{source} lists no markets")
    return out


def _take(out: ParsedList, seen: set[MarketRef], where: str, text: str) -> None:
    try:
        ref = parse_market(text)
    except ValueError as exc:
        out.rejected.append(Rejected(where, text[:80], str(exc)))
        return
    if ref not in seen:  # a repeated market is harmless: kept once
        seen.add(ref)
        out.markets.append(ref)
        out.origin[ref] = where


def refuse_unlisted(parsed: ParsedList, listed: Mapping[Venue, set[str]]) -> ParsedList:
    """Move the markets a venue does not list (of the venues whose list is known) to the refused lines."""
    keep: list[MarketRef] = []
    rejected = list(parsed.rejected)
    for ref in parsed.markets:
        names = listed.get(ref.venue)
        if names is None or ref.market in names:
            keep.append(ref)
        else:
            what = "open market" if ref.venue is Venue.KALSHI else "pair"
            rejected.append(
                Rejected(
                    parsed.origin.get(ref, ref.text()),
                    ref.text(),
                    f"{VENUE_NAMES[ref.venue]} lists no {what} by that name",
                )
            )
    rejected.sort(key=_line_order)
    return ParsedList(parsed.name, keep, rejected, parsed.source, parsed.origin)


def _line_order(r: Rejected) -> tuple[int, int]:
    _kind, _, number = r.where.partition(" ")
    return (0, int(number)) if number.isdigit() else (-1, 0)


def read_watchlist(path: Path) -> ParsedList:
    """A file by path (``OSError`` with the reason in words, e.g. no such file)."""
    try:
        if path.is_dir():
            raise ValueError(f"{path.name} is a folder, not a watchlist file")
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{exc.strerror or exc}: {path}") from None
    return parse_watchlist(data, path.stem[:60].strip() or "Imported", path.name)


def import_watchlist(path: Path) -> Watchlist:
    """Every line must be good (``ValueError`` names the first bad one by number); for scripts and tests."""
    parsed = read_watchlist(path)
    if parsed.rejected:
        raise ValueError(str(parsed.rejected[0]))
    return Watchlist(parsed.name, parsed.markets)
