"""Feed health: one row per connection and one per (connection, feed kind), with the store's counters,
the link's state, and whether the server acknowledged what the client asked for.

Health counters are per (venue, kind) in the store; a venue can have two links (Kraken's private host),
so a kind is shown on the link that subscribes to it. A row turns the warn colour when its feed is stale
or its link is not live, and its tooltip says why (the link's last transition reason).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.feeds import CHANNEL_FEEDS, Feed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.state import ConnState
from app.ui import format as fmt
from app.ui.keyed_model import KeyedTableModel, RowView
from app.ui.table_base import DIM, WARN, Column

if TYPE_CHECKING:
    from app.stream.engine import StreamEngine
    from app.stream.link import VenueLink

CONNECTION = Feed.CONNECTION
# Rows of a link in this order: the connection, then its feeds in the order Feed lists them.
KIND_ORDER: tuple[str, ...] = tuple(Feed)
COUNTERS = ("gaps", "checksum_failures", "resyncs", "reconnects", "errors", "malformed", "unknown")

VENUE_COL, FEED, STATE, RATE, AGE = range(5)
IN_SYNC = 5 + len(COUNTERS)


@dataclass(slots=True)
class _Row:
    link: VenueLink | None
    venue: Venue
    kind: str
    health: dict[str, Any] | None = None
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # registry entries for this kind


class HealthModel(KeyedTableModel):
    columns = (
        Column("Venue", "Kraken"),
        Column("Feed", "connection"),
        Column("State", "credentials-rejected"),
        Column("Msg/s", "0,000.0", numeric=True),
        Column("Age", "0.0 s", numeric=True, tip="Time since this feed last delivered data"),
        Column("Gaps", "000", numeric=True, tip="Sequence gaps detected (each one re-synced)"),
        Column("Cksum", "000", numeric=True, tip="Book checksum failures (each one re-synced)"),
        Column("Resyncs", "000", numeric=True),
        Column("Reconn.", "000", numeric=True, tip="Reconnections of this link"),
        Column("Errors", "000", numeric=True, tip="Errors the venue reported"),
        Column("Malformed", "000", numeric=True, tip="Frames that could not be decoded"),
        Column("Unknown", "000", numeric=True, tip="Frames of a type this app does not know"),
        Column("In sync", "10/10", tip="The server acknowledged every subscription the client wants"),
    )

    def __init__(self, min_interval_s: float = 0.25) -> None:
        super().__init__()
        self.min_interval_s = min_interval_s  # ages tick constantly; a few refreshes a second suffice
        self._last = -1e9

    def refresh(self, store: MarketStore, engine: StreamEngine | None = None, *, force: bool = False) -> bool:
        """Rebuild the rows (at most every ``min_interval_s`` unless forced). Returns whether it did."""
        now = time.monotonic()
        if not force and now - self._last < self.min_interval_s:
            return False
        self._last = now
        rows = _collect(store, list(engine.links) if engine is not None else [])
        self.sync([(key, _view(row, rows, now)) for key, row in rows.items()])
        return True


def _collect(store: MarketStore, links: list[VenueLink]) -> dict[tuple[str, str], _Row]:
    """Rows keyed (link name, kind), in display order: links in engine order, kinds in KIND_ORDER."""
    rows: dict[tuple[str, str], _Row] = {}
    registries = {link.name: link.registry() for link in links}
    for link in links:
        rows[(link.name, CONNECTION)] = _Row(link, link.venue, CONNECTION)
        for channel, entry in registries[link.name].items():
            kind = CHANNEL_FEEDS.get(channel, channel)
            row = rows.setdefault((link.name, kind), _Row(link, link.venue, kind))
            row.channels[channel] = entry
    for name, report in store.health_report().items():
        venue_text, _, kind = name.partition("/")
        venue = Venue(venue_text)
        owner = _owner(links, rows, venue, kind)
        key = (owner.name if owner is not None else venue.value, kind)
        row = rows.setdefault(key, _Row(owner, venue, kind))
        row.health = report
    order = {link.name: i for i, link in enumerate(links)}
    venues = list(Venue)

    def rank(key: tuple[str, str]) -> tuple[int, int, str]:
        name, kind = key
        link_rank = order.get(name, len(order) + venues.index(rows[key].venue))
        kind_rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        return (link_rank, kind_rank, kind)

    return {key: rows[key] for key in sorted(rows, key=rank)}


def _owner(
    links: Iterable[VenueLink], rows: dict[tuple[str, str], _Row], venue: Venue, kind: str
) -> VenueLink | None:
    """The link a venue's health kind belongs to: the one subscribing to it, else the venue's first."""
    first = None
    for link in links:
        if link.venue is not venue:
            continue
        if (link.name, kind) in rows:
            return link
        first = first or link
    return first


def _view(row: _Row, rows: dict[tuple[str, str], _Row], now: float) -> RowView:
    link, health = row.link, row.health or {}
    if row.kind == CONNECTION:
        feeds = [r for r in rows.values() if r.link is link and r.link is not None and r.kind != CONNECTION]
        rate = sum(float(r.health["rate"]) for r in feeds if r.health) if feeds else health.get("rate")
        last = None if link is None else link.last_frame
        age = None if last is None else now - last
        channels = {ch: e for r in feeds for ch, e in r.channels.items()}
    else:
        rate = health.get("rate")
        age = health.get("age_s")
        channels = row.channels
    counters = {name: int(health.get(name, 0)) for name in COUNTERS}
    if row.kind == CONNECTION and link is not None:
        counters["reconnects"] = link.reconnects  # per link (the store counts per venue)
    state = fmt.DASH if link is None else link.state.value
    stale = bool(health.get("stale"))
    down = link is not None and link.state is not ConnState.LIVE
    sync_text, sync_ok, sync_tip = _sync(row.kind, channels)
    if down and channels:  # a closed socket's acknowledgements mean nothing until it is live again
        sync_text, sync_ok, sync_tip = fmt.DASH, True, ""
    warn = stale or down or not sync_ok
    cells = (
        _link_title(link, row.venue),
        row.kind,
        state,
        fmt.rate(None if rate is None else float(rate)),
        fmt.age(None if age is None else float(age)),
        *(fmt.count(counters[name]) for name in COUNTERS),
        sync_text,
    )
    # The venue is written on every row (rows can be read alone), but only the link's own row in full.
    tones: list[str | None] = [None if row.kind == CONNECTION else DIM, None, None, None, None]
    tones += [DIM if counters[name] == 0 else None for name in COUNTERS]
    tones.append(None if sync_ok else WARN)
    if warn:
        tones = [WARN] * len(cells)
    tips = []
    if link is not None:
        tips.append(f"{link.name}: {link.state.value} ({link.transitions[-1].reason})")
    if stale:
        tips.append(f"stale: no {row.kind} data for {fmt.age(health.get('age_s'))}")
    if sync_tip:
        tips.append(sync_tip)
    if row.kind == Feed.BOOK and link is not None:
        notes = link.repairing()
        tips += [f"{market}: {note}" for market, note in list(notes.items())[:6]]
        if len(notes) > 6:
            tips.append(f"and {len(notes) - 6} more books being repaired")
    if health.get("last_problem"):
        tips.append(f"last problem: {health['last_problem']}")
    if health.get("messages") is not None:
        tips.append(f"{fmt.count(int(health['messages']))} messages")
    export = (
        cells[0],
        row.kind,
        state,
        "" if rate is None else f"{float(rate):.1f}",
        "" if age is None else f"{float(age):.3f}",
        *(str(counters[name]) for name in COUNTERS),
        sync_text,
    )  # plain numbers for a spreadsheet: no grouping, no unit
    return RowView(cells=cells, tones=tuple(tones), tip="\n".join(tips) or None, export=export)


def _sync(kind: str, channels: dict[str, dict[str, Any]]) -> tuple[str, bool, str]:
    """(cell text, all in sync, tooltip) over the registry channels behind a row."""
    if not channels:
        return fmt.DASH, True, ""
    out_of_sync = {ch: e for ch, e in channels.items() if not e.get("in_sync")}
    if kind == CONNECTION:
        text = f"{len(channels) - len(out_of_sync)}/{len(channels)}"
    else:
        text = "yes" if not out_of_sync else "no"
    tips = [
        f"{ch}: wants {_names(e.get('desired'))}, acknowledged {_names(e.get('acknowledged'))}"
        for ch, e in out_of_sync.items()
    ]
    return text, not out_of_sync, "\n".join(tips)


def _names(items: object) -> str:
    names = list(items) if isinstance(items, list | tuple | set) else []
    if not names:
        return "nothing"
    shown = ", ".join(str(n) for n in names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _link_title(link: VenueLink | None, venue: Venue) -> str:
    name = fmt.venue_name(venue)
    if link is None or link.name == venue.value:
        return name
    return f"{name} ({link.name.removeprefix(venue.value).strip('-_ ') or link.name})"
