"""What the user keeps between runs: named watchlists, connection profiles, the active choices, the theme,
the font zoom and how the watchlist looks (hidden columns, compact mode, flashing).

Qt-free JSON in the user's config directory (alert rules too, each read on its own: one damaged rule is
set aside with its reason and the rest load) (window geometry and dock state are Qt's own business and
live beside it in QSettings). Never holds a secret: credentials are in the OS keyring
(app/user/secret_store.py). A damaged file is set aside, not overwritten, and the reason is kept for the
window to show.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.alerts.rules import Rule
from app.alerts.saved import Aside, rules_from_json, rules_to_json
from app.core.instruments import ENVIRONMENTS, Environment, Venue

CONFIG_DIR_ENV = "MARKET_MONITOR_CONFIG_DIR"
SETTINGS_FILE = "settings.json"
FORMAT = 1

SIM_PROFILE = "Simulator"
DEFAULT_WATCHLIST = "Default"
DEFAULT_KRAKEN = ("BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD")
FLASH_MODES = ("off", "subtle", "full")  # how the watchlist's cells flash as they tick (View → Flashing)
DEFAULT_FLASH = "subtle"


def config_dir() -> Path:
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "market-monitor"


DATA_DIR_ENV = "MARKET_MONITOR_DATA_DIR"


def data_dir() -> Path:
    """Where recordings go (``recordings/`` in it): the platform's data folder, not the config one."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "market-monitor"


@dataclass(frozen=True, slots=True)
class MarketRef:
    venue: Venue
    market: str

    def text(self) -> str:
        return f"{self.venue.value}:{self.market}"

    @classmethod
    def parse(cls, text: str) -> MarketRef:
        """``kalshi:TICKER`` / ``kraken:BTC/USD``; without a prefix a pair (has ``/``) is Kraken."""
        venue_name, sep, name = text.strip().partition(":")
        known = [v.value for v in Venue]
        if sep and venue_name.strip().lower() in known:
            venue, market = Venue(venue_name.strip().lower()), name.strip()
        elif sep:  # neither venue's market names hold a colon: this names another venue
            raise ValueError(
                f"unknown venue {venue_name.strip()!r} in {text.strip()!r} (known: {', '.join(known)})"
            )
        else:
            market = text.strip()
            venue = Venue.KRAKEN if "/" in market else Venue.KALSHI
        if not market or any(c.isspace() for c in market):
            raise ValueError(f"not a market name: {text!r}")
        return cls(venue, market.upper() if venue is Venue.KRAKEN else market)


@dataclass(slots=True)
class Watchlist:
    name: str
    markets: list[MarketRef] = field(default_factory=list)

    def add(self, ref: MarketRef) -> bool:
        if ref in self.markets:
            return False
        self.markets.append(ref)
        return True

    def remove(self, ref: MarketRef) -> bool:
        if ref not in self.markets:
            return False
        self.markets.remove(ref)
        return True

    def move(self, ref: MarketRef, step: int) -> bool:
        i = self.markets.index(ref)
        j = i + step
        if not 0 <= j < len(self.markets):
            return False
        self.markets[i], self.markets[j] = self.markets[j], self.markets[i]
        return True

    def of(self, venue: Venue) -> list[str]:
        return [r.market for r in self.markets if r.venue is venue]


@dataclass(frozen=True, slots=True)
class Profile:
    """A connection profile: which environment each venue uses (text from a settings file is checked
    and becomes an ``Environment``)."""

    name: str
    kalshi: Environment = Environment.SIM
    kraken: Environment = Environment.SIM

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a profile needs a name")
        for venue in Venue:
            allowed = ENVIRONMENTS[venue]
            value = getattr(self, venue.value)
            if value not in allowed:
                names = ", ".join(allowed)
                raise ValueError(f"{venue.value.capitalize()} environment must be one of {names}")
            object.__setattr__(self, venue.value, Environment(value))

    @property
    def uses_sim(self) -> bool:
        return Environment.SIM in (self.kalshi, self.kraken)

    def env(self, venue: Venue) -> Environment:
        env: Environment = getattr(self, venue.value)
        return env

    def only(self, venues: set[Venue]) -> Profile:
        """The same profile with every other venue off (``stream --venue``)."""
        kalshi, kraken = (
            self.env(v) if v in venues else Environment.OFF for v in (Venue.KALSHI, Venue.KRAKEN)
        )
        return Profile(self.name, kalshi, kraken)


@dataclass(slots=True)
class Settings:
    watchlists: list[Watchlist] = field(default_factory=lambda: [Watchlist(DEFAULT_WATCHLIST)])
    active_watchlist: str = DEFAULT_WATCHLIST
    profiles: list[Profile] = field(default_factory=lambda: [Profile(SIM_PROFILE)])
    active_profile: str = SIM_PROFILE
    theme: str = "dark"
    zoom: int = 100  # the window's font size, percent of the system's (View → Zoom)
    hidden_columns: list[str] = field(default_factory=list)  # watchlist column titles the user hid
    compact: bool = False  # the watchlist shows its few key columns only (View → Compact watchlist)
    flash: str = DEFAULT_FLASH  # one of FLASH_MODES
    alerts: list[Rule] = field(default_factory=list)
    # Saved rules that could not be read, kept as found (with their "reason") so nothing is lost.
    alerts_aside: list[Aside] = field(default_factory=list)
    first_run: bool = True  # nothing saved yet: the window seeds the default watchlist
    problem: str | None = None  # why the saved file could not be read (shown once, never saved)

    # ------------------------------------------------------------------ watchlists

    def watchlist(self, name: str | None = None) -> Watchlist:
        name = self.active_watchlist if name is None else name
        for wl in self.watchlists:
            if wl.name == name:
                return wl
        raise KeyError(name)

    def add_watchlist(self, name: str) -> Watchlist:
        name = clean_name(name)
        if any(wl.name == name for wl in self.watchlists):
            raise ValueError(f"a watchlist named {name!r} already exists")
        wl = Watchlist(name)
        self.watchlists.append(wl)
        return wl

    def rename_watchlist(self, old: str, new: str) -> None:
        new = clean_name(new)
        if new != old and any(wl.name == new for wl in self.watchlists):
            raise ValueError(f"a watchlist named {new!r} already exists")
        self.watchlist(old).name = new
        if self.active_watchlist == old:
            self.active_watchlist = new

    def delete_watchlist(self, name: str) -> None:
        if len(self.watchlists) == 1:
            raise ValueError("the last watchlist cannot be deleted")
        self.watchlists.remove(self.watchlist(name))
        if self.active_watchlist == name:
            self.active_watchlist = self.watchlists[0].name

    # ------------------------------------------------------------------ profiles

    def profile(self, name: str | None = None) -> Profile:
        name = self.active_profile if name is None else name
        for p in self.profiles:
            if p.name == name:
                return p
        raise KeyError(name)

    def put_profile(self, profile: Profile) -> None:
        """Add a profile or replace the one with its name."""
        self.profiles = [p for p in self.profiles if p.name != profile.name] + [profile]

    def delete_profile(self, name: str) -> None:
        if name == SIM_PROFILE:
            raise ValueError("the simulator profile is built in")
        self.profiles = [p for p in self.profiles if p.name != name]
        if self.active_profile == name:
            self.active_profile = SIM_PROFILE

    # ------------------------------------------------------------------ files

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "watchlists": [
                {"name": w.name, "markets": [r.text() for r in w.markets]} for w in self.watchlists
            ],
            "active_watchlist": self.active_watchlist,
            "profiles": [{"name": p.name, "kalshi": p.kalshi, "kraken": p.kraken} for p in self.profiles],
            "active_profile": self.active_profile,
            "theme": self.theme,
            "zoom": self.zoom,
            "hidden_columns": self.hidden_columns,
            "compact": self.compact,
            "flash": self.flash,
            "alerts": rules_to_json(self.alerts),
            "alerts_set_aside": self.alerts_aside,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Settings:
        if not isinstance(obj, dict):
            raise ValueError("settings must be a JSON object")
        s = cls(first_run=False)
        lists = [
            Watchlist(clean_name(w["name"]), [MarketRef.parse(m) for m in w.get("markets", [])])
            for w in obj.get("watchlists", [])
        ]
        if lists:
            s.watchlists = lists
        profiles = [
            Profile(p["name"], p.get("kalshi", Environment.SIM), p.get("kraken", Environment.SIM))
            for p in obj["profiles"]
        ]
        if not any(p.name == SIM_PROFILE for p in profiles):
            profiles.insert(0, Profile(SIM_PROFILE))
        s.profiles = profiles
        s.active_watchlist = str(obj.get("active_watchlist", s.watchlists[0].name))
        if not any(w.name == s.active_watchlist for w in s.watchlists):
            s.active_watchlist = s.watchlists[0].name
        s.active_profile = str(obj.get("active_profile", SIM_PROFILE))
        if not any(p.name == s.active_profile for p in s.profiles):
            s.active_profile = SIM_PROFILE
        theme = obj.get("theme")
        s.theme = theme if isinstance(theme, str) and theme else "dark"  # an unknown name shows the default
        zoom = obj.get("zoom", 100)
        s.zoom = zoom if isinstance(zoom, int) and not isinstance(zoom, bool) and 50 <= zoom <= 300 else 100
        hidden = obj.get("hidden_columns", [])
        s.hidden_columns = [c for c in hidden if isinstance(c, str)] if isinstance(hidden, list) else []
        s.compact = obj.get("compact") is True
        flash = obj.get("flash")
        s.flash = flash if flash in FLASH_MODES else DEFAULT_FLASH
        # A damaged rule is set aside with its reason; the rest load (never the whole file for one rule).
        s.alerts, fresh = rules_from_json(obj.get("alerts", []))
        kept = obj.get("alerts_set_aside")
        s.alerts_aside = [a for a in kept if isinstance(a, dict)] if isinstance(kept, list) else []
        s.alerts_aside += fresh
        return s


def clean_name(name: object) -> str:
    """A watchlist name as kept: stripped, 1 to 60 characters (``ValueError`` otherwise)."""
    text = str(name).strip()
    if not text:
        raise ValueError("a watchlist needs a name")
    if len(text) > 60:
        raise ValueError("a watchlist name is at most 60 characters")
    return text


def load(directory: Path | None = None) -> Settings:
    path = (directory or config_dir()) / SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        s = Settings()
        s.problem = f"could not read {path}: {exc.strerror or exc}"
        return s
    try:
        return Settings.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        aside = path.with_name(path.name + ".bad")
        os.replace(path, aside)
        s = Settings()
        s.problem = f"{path} was damaged ({exc}); it was moved to {aside.name} and defaults are in use"
        return s


def save(settings: Settings, directory: Path | None = None) -> Path:
    """Write atomically: a crash mid-write leaves the previous file, never half of one."""
    folder = directory or config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings.to_json(), fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    settings.first_run = False
    return path
