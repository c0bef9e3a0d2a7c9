"""How a firing reaches the user beyond the window: a desktop notification through the freedesktop
Notifications service on the session D-Bus, else the tray icon's message, else the Alerts log alone
(said once, in the log's header and the status bar); and a sound, different for up and down.

D-Bus is spoken with jeepney, not PySide6's QtDBus. From Python, QtDBus marshals ``Notify``'s
``replaces_id`` as an int32 and its actions as an array of variants (``sisssava{sv}i``), which services
that check signatures (GLib's, so GNOME's and most others) refuse; PySide6 offers no way to say uint32.
jeepney sends the exact ``susssasa{sv}i``, is already installed wherever the app runs on Linux (keyring's
Secret Service backend is built on it), and runs on the window's asyncio loop, so a slow bus never stalls
the window. ``desktop-notifier`` would be a new dependency for the same call.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import struct
import subprocess
import wave
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"  # app_name, replaces_id, icon, summary, body, actions, hints, timeout
PROBE_TIMEOUT_S = 2.0
SHOW_MS = 8_000


class Channel(StrEnum):
    DESKTOP = "desktop notifications"
    TRAY = "the tray icon's messages"
    LOG = "the Alerts log only"


class Notifier:
    """One channel for the whole run, chosen at ``start``; a desktop service that stops answering drops
    to the next channel, once, and says so."""

    def __init__(
        self, parent: QWidget | None = None, *, bus: str = "SESSION", app_name: str = "Market Monitor"
    ) -> None:
        self.parent = parent
        self.bus = bus  # "SESSION", or a bus address (tests run a private bus)
        self.app_name = app_name
        self.channel: Channel | None = None
        self.server = ""  # the notification service's name and version, when there is one
        self.sent = 0
        self.problem: str | None = None  # why a better channel is not in use
        self._router: Any = None
        self._router_cm: Any = None
        self._tray: QSystemTrayIcon | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def description(self) -> str:
        what = str(self.channel or "not started")
        if self.channel is Channel.DESKTOP and self.server:
            what += f" ({self.server})"
        return f"Alerts notify through {what}" + (f"; {self.problem}" if self.problem else "")

    async def start(self) -> Channel:
        try:
            await asyncio.wait_for(self._open(), PROBE_TIMEOUT_S)
            self.channel = Channel.DESKTOP
        except Exception as exc:  # no bus, no service, a refusal: any of them means "not this way"
            await self._close_router()
            self.problem = f"no desktop notification service ({_words(exc)})"
            self.channel = self._fallback()
        return self.channel

    async def _open(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.asyncio import open_dbus_router

        self._router_cm = open_dbus_router(bus=self.bus)
        self._router = await self._router_cm.__aenter__()
        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        reply = await self._router.send_and_get_reply(new_method_call(address, "GetServerInformation"))
        body = _reply_body(reply)
        self.server = " ".join(str(part) for part in body[:3:2]) if body else SERVICE

    def _fallback(self) -> Channel:
        if QSystemTrayIcon.isSystemTrayAvailable():
            app = QApplication.instance()
            icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
            self._tray = QSystemTrayIcon(icon, self.parent)
            self._tray.setToolTip(self.app_name)
            self._tray.show()
            return Channel.TRAY
        if self.problem:
            self.problem += "; no system tray either"
        return Channel.LOG

    def notify(self, summary: str, body: str, *, up: bool = True) -> None:
        if self.channel is Channel.DESKTOP:
            task = asyncio.ensure_future(self._send(summary, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif self.channel is Channel.TRAY and self._tray is not None:
            kind = QSystemTrayIcon.MessageIcon.Information if up else QSystemTrayIcon.MessageIcon.Warning
            self._tray.showMessage(summary, body, kind, SHOW_MS)
            self.sent += 1

    async def _send(self, summary: str, body: str) -> None:
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        message = new_method_call(
            address,
            "Notify",
            NOTIFY_SIGNATURE,
            (self.app_name, 0, "", summary, body, [], {"category": ("s", "x-market-monitor.alert")}, SHOW_MS),
        )
        try:
            _reply_body(await asyncio.wait_for(self._router.send_and_get_reply(message), PROBE_TIMEOUT_S))
            self.sent += 1
        except Exception as exc:
            await self._close_router()
            self.problem = f"the desktop notification service stopped answering ({_words(exc)})"
            self.channel = self._fallback()
            self.notify(summary, body)

    async def _close_router(self) -> None:
        cm, self._router_cm, self._router = self._router_cm, None, None
        if cm is not None:
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._close_router()
        if self._tray is not None:
            self._tray.hide()


class ServiceRefusedError(Exception):
    """The bus or the service answered with an error; its text says which."""


def _reply_body(reply: Any) -> tuple[Any, ...]:
    from jeepney import MessageType

    if reply.header.message_type is MessageType.error:
        raise ServiceRefusedError(str(reply.body[0]) if reply.body else "an error")
    return tuple(reply.body)


def _words(exc: BaseException) -> str:
    """Why the desktop service cannot be used, as a sentence (jeepney says ``KeyError: 'DBUS_SESSION…'``)."""
    if isinstance(exc, TimeoutError):
        return "it did not answer"
    if isinstance(exc, KeyError) and "DBUS_SESSION_BUS_ADDRESS" in str(exc):
        return "no D-Bus session bus in this session"
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return "the D-Bus session bus cannot be reached"
    if isinstance(exc, ServiceRefusedError):
        if "not provided by any .service files" in str(exc) or "ServiceUnknown" in str(exc):
            return "no notification daemon is running"
        return f"the service refused: {exc}"[:120]
    return f"{type(exc).__name__}: {exc}"[:120]


# ---------------------------------------------------------------------- sound

RATE = 22_050
PLAYERS = (("pw-play",), ("paplay",), ("aplay", "-q"))


def _tone(path: Path, notes: tuple[float, ...], seconds: float = 0.12) -> None:
    frames = bytearray()
    for freq in notes:
        n = int(RATE * seconds)
        for i in range(n):
            fade = min(1.0, i / 200, (n - i) / 200)  # no click at either end
            frames += struct.pack("<h", int(9000 * fade * math.sin(2 * math.pi * freq * i / RATE)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


class Sound:
    """Two short tones, rising for up and falling for down, played by the first player found; without
    one, the system beep (once for up, twice for down)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.player = next((p for p in PLAYERS if shutil.which(p[0])), None)
        self.played = 0

    @property
    def description(self) -> str:
        return f"sound through {self.player[0]}" if self.player else "sound as the system beep"

    def path(self, up: bool) -> Path:
        path = self.folder / ("alert-up.wav" if up else "alert-down.wav")
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            _tone(path, (660.0, 880.0) if up else (880.0, 587.0))
        return path

    def play(self, up: bool) -> None:
        self.played += 1
        if self.player is not None:
            with contextlib.suppress(OSError):
                subprocess.Popen(  # a fixed player on our own file
                    [*self.player, str(self.path(up))],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                return
        QApplication.beep()
        if not up:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(180, QApplication.beep)
