"""Named workspaces: the window's layout and its market panes, one JSON file per workspace.

A workspace holds the dock layout (``QMainWindow.saveState`` as base64 text: opaque here), each pane's
market, contents, chart interval and link group, and the main Price dock's interval. The files live in
``workspaces/`` in the settings folder, named after the workspace (percent-encoded, so any name is a
safe file name), beside ``current.json``, which says which one the window opened last. No Qt: the window
turns a ``Workspace`` into docks (app/ui/workspace_controller.py).

A damaged file is set aside (renamed ``NAME.json.bad`` beside it), its reason kept for the window to show
once, and the built-in layout loads in its place; nothing is overwritten unread.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from app.user.settings import MarketRef

FORMAT = 1
FOLDER = "workspaces"
CURRENT_FILE = "current.json"
DEFAULT = "Default"
LINK_GROUPS = range(0, 7)  # 0: not linked; 1-6 the groups
MAX_PANES = 64  # more is a damaged file, not a layout


class WorkspaceError(Exception):
    """A workspace action that cannot be done, in words for the user."""


@dataclass(slots=True)
class PaneSpec:
    id: int
    market: MarketRef | None
    contents: list[str]
    link: int = 0
    interval: str = ""  # the pane's price chart window ("5m"); "" for the chart's default

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "market": self.market.text() if self.market is not None else None,
            "contents": list(self.contents),
            "link": self.link,
            "interval": self.interval,
        }

    @classmethod
    def from_json(cls, obj: Any) -> PaneSpec:
        if not isinstance(obj, dict):
            raise ValueError("a pane must be a JSON object")
        pane_id = obj.get("id")
        if not isinstance(pane_id, int) or isinstance(pane_id, bool) or pane_id < 1:
            raise ValueError(f"a pane's id must be a positive whole number, not {pane_id!r}")
        market = obj.get("market")
        if market is not None and not isinstance(market, str):
            raise ValueError(f"pane {pane_id}: its market must be text like kraken:BTC/USD")
        contents = obj.get("contents", [])
        if not isinstance(contents, list) or not all(isinstance(c, str) for c in contents):
            raise ValueError(f"pane {pane_id}: contents must be a list of names")
        link = obj.get("link", 0)
        if link not in LINK_GROUPS or isinstance(link, bool):
            raise ValueError(f"pane {pane_id}: link group must be 0 (none) to 6, not {link!r}")
        interval = obj.get("interval", "")
        if not isinstance(interval, str):
            raise ValueError(f"pane {pane_id}: interval must be text like 5m")
        ref = MarketRef.parse(market) if market else None
        return cls(pane_id, ref, list(contents), int(link), interval)


@dataclass(slots=True)
class Workspace:
    name: str
    state: str = ""  # base64 of QMainWindow.saveState(); "" is the built-in layout
    panes: list[PaneSpec] = field(default_factory=list)
    chart_interval: str = ""  # the main Price dock's window

    def state_bytes(self) -> bytes:
        return base64.b64decode(self.state) if self.state else b""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "state": self.state,
            "chart_interval": self.chart_interval,
            "panes": [p.to_json() for p in self.panes],
        }

    @classmethod
    def from_json(cls, obj: Any) -> Workspace:
        if not isinstance(obj, dict):
            raise ValueError("a workspace must be a JSON object")
        version = obj.get("format")
        if version != FORMAT:
            raise ValueError(f"format {version!r} is not one this version reads ({FORMAT})")
        name = clean_name(obj.get("name", ""))
        state = obj.get("state", "")
        if not isinstance(state, str):
            raise ValueError("the layout must be base64 text")
        try:
            base64.b64decode(state, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"the layout is not base64 ({exc})") from None
        panes = obj.get("panes", [])
        if not isinstance(panes, list):
            raise ValueError("panes must be a list")
        if len(panes) > MAX_PANES:
            raise ValueError(f"{len(panes)} panes (at most {MAX_PANES})")
        specs = [PaneSpec.from_json(p) for p in panes]
        ids = [p.id for p in specs]
        if len(ids) != len(set(ids)):
            raise ValueError("two panes have the same id")
        interval = obj.get("chart_interval", "")
        return cls(name, state, specs, interval if isinstance(interval, str) else "")


def clean_name(name: object) -> str:
    """A workspace name as kept: stripped, 1 to 60 characters (``ValueError`` otherwise)."""
    text = str(name).strip() if isinstance(name, str) else ""
    if not text:
        raise ValueError("a workspace needs a name")
    if len(text) > 60:
        raise ValueError("a workspace name is at most 60 characters")
    return text


class Workspaces:
    """The workspace files of one settings folder."""

    def __init__(self, config_dir: Path) -> None:
        self.folder = config_dir / FOLDER
        self._problems: list[str] = []

    # ------------------------------------------------------------------ what is there

    def names(self) -> list[str]:
        """Every saved workspace, sorted (damaged files included: loading one sets it aside)."""
        if not self.folder.is_dir():
            return []
        found = {
            unquote(p.name[: -len(".json")])
            for p in self.folder.iterdir()
            if p.name.endswith(".json") and p.name != CURRENT_FILE and not p.name.startswith(".")
        }
        return sorted(found, key=str.casefold)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def take_problems(self) -> list[str]:
        """Files set aside since the last call, each with its reason (shown once)."""
        problems, self._problems = self._problems, []
        return problems

    # ------------------------------------------------------------------ one workspace

    def load(self, name: str) -> Workspace:
        """The saved workspace, or the built-in layout under that name (none saved, or a damaged file,
        which is set aside with its reason)."""
        path = self._path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Workspace(name)
        except OSError as exc:
            self._problems.append(f"could not read workspace {name!r} ({exc.strerror or exc})")
            return Workspace(name)
        try:
            found = Workspace.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            self._set_aside(path, name, exc)
            return Workspace(name)
        found.name = name  # the file's name is the workspace's: a hand-edited "name" cannot fork it
        return found

    def save(self, workspace: Workspace) -> Path:
        """Write atomically: a crash mid-write leaves the previous file, never half of one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(clean_name(workspace.name))
        _write_json(path, workspace.to_json())
        return path

    def rename(self, old: str, new: str) -> str:
        try:
            new = clean_name(new)
        except ValueError as exc:
            raise WorkspaceError(str(exc).capitalize()) from None
        if new == old:
            return new
        if self.exists(new):
            raise WorkspaceError(f"A workspace named “{new}” already exists")
        workspace = self.load(old)
        workspace.name = new
        self.save(workspace)
        self._path(old).unlink(missing_ok=True)
        if self.current() == old:
            self.set_current(new)
        return new

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ the one the window shows

    def current(self) -> str:
        path = self.folder / CURRENT_FILE
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
            name = clean_name(obj.get("current")) if isinstance(obj, dict) else DEFAULT
        except FileNotFoundError:
            return DEFAULT
        except (OSError, ValueError) as exc:
            self._problems.append(f"{path} could not be read ({exc}); the {DEFAULT} workspace is in use")
            return DEFAULT
        return name

    def set_current(self, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_json(self.folder / CURRENT_FILE, {"format": FORMAT, "current": clean_name(name)})

    # ------------------------------------------------------------------ internals

    def _path(self, name: str) -> Path:
        return self.folder / (quote(name, safe=" -_()[]+,;=@") + ".json")

    def _set_aside(self, path: Path, name: str, exc: Exception) -> None:
        aside = path.with_name(path.name + ".bad")
        try:
            os.replace(path, aside)
        except OSError as err:
            self._problems.append(
                f"workspace {name!r} is damaged ({exc}) and could not be set aside ({err.strerror or err}); "
                "the default layout is in use"
            )
            return
        self._problems.append(
            f"workspace {name!r} was damaged ({exc}); the file was moved to {aside.name} and the default "
            "layout is in use"
        )


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ws-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
