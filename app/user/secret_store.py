"""Credentials in the OS keyring, and nowhere else.

Names are per venue and environment (``kalshi/production/key_id``), so profiles that point at the same
environment share one set. Keyring calls can block (D-Bus, an unlock prompt): the window runs them in a
worker thread. With no usable keyring the user may keep a secret for this run only, in memory; there is
never a plaintext fallback (``keyrings.alt`` is not a dependency, and an insecure backend is refused).
"""

from __future__ import annotations

from dataclasses import dataclass

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

SERVICE = "market-monitor"
_INSECURE = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")

KALSHI_FIELDS = ("key_id", "private_key")
KRAKEN_FIELDS = ("api_key", "secret")


class KeyringUnavailable(RuntimeError):  # noqa: N818 (reads as a state: 'the keyring is unavailable')
    """No secure OS keyring: the message says what is missing (never any secret)."""


def _backend_errors() -> tuple[type[Exception], ...]:
    # keyring wraps only some failures: the Secret Service backend lets D-Bus errors (secretstorage,
    # jeepney) and a lost bus connection (OSError) through, and those must not crash the caller.
    errors: list[type[Exception]] = [keyring.errors.KeyringError, OSError]
    try:
        from secretstorage.exceptions import SecretStorageException

        errors.append(SecretStorageException)
    except ImportError:  # not installed off Linux
        pass
    try:
        from jeepney.wrappers import DBusErrorResponse  # type: ignore[import-untyped, unused-ignore]

        errors.append(DBusErrorResponse)
    except ImportError:
        pass
    return tuple(errors)


_BACKEND_ERRORS = _backend_errors()


@dataclass(frozen=True, slots=True)
class BackendInfo:
    name: str
    usable: bool
    reason: str


def secret_name(venue: str, env: str, field: str) -> str:
    return f"{venue}/{env}/{field}"


def _effective(kr: KeyringBackend) -> KeyringBackend:
    if isinstance(kr, ChainerBackend) and kr.backends:
        first: KeyringBackend = kr.backends[0]  # the chainer writes to its first backend
        return first
    return kr


def backend_info() -> BackendInfo:
    kr = _effective(keyring.get_keyring())
    cls = type(kr)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if cls.__module__.startswith(_INSECURE):
        return BackendInfo(
            name,
            False,
            "no Secret Service, Keychain or Credential Locker was found (on Linux: gnome-keyring or "
            "KWallet, reached over D-Bus)",
        )
    return BackendInfo(name, True, "")


class SecretStore:
    """The keyring, plus an in-memory shelf for secrets the user chose to keep for this run only."""

    def __init__(self) -> None:
        self._session: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        if name in self._session:
            return self._session[name]
        if not backend_info().usable:
            return None
        try:
            return keyring.get_password(SERVICE, name)
        except _BACKEND_ERRORS as exc:
            raise KeyringUnavailable(_describe(exc)) from None

    def set(self, name: str, value: str, *, session_only: bool = False) -> None:
        if session_only:
            self._session[name] = value
            return
        info = backend_info()
        if not info.usable:
            raise KeyringUnavailable(info.reason)
        try:
            keyring.set_password(SERVICE, name, value)
        except _BACKEND_ERRORS as exc:
            raise KeyringUnavailable(_describe(exc)) from None
        self._session.pop(name, None)

    def delete(self, name: str) -> None:
        self._session.pop(name, None)
        if not backend_info().usable:
            return
        try:
            keyring.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored under that name
        except _BACKEND_ERRORS as exc:
            raise KeyringUnavailable(_describe(exc)) from None

    def is_session_only(self, name: str) -> bool:
        return name in self._session


def _describe(exc: Exception) -> str:
    # Keyring errors carry backend text (D-Bus names, "Prompt dismissed"), never the secret itself.
    return f"the OS keyring refused: {type(exc).__name__}: {exc}"
