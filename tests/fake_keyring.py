"""Keyring backends and fixtures for tests (platform notes §5).

Test modules import the fixtures by their function names and ask for them by fixture name::

    from tests.fake_keyring import memory_keyring_fixture  # noqa: F401 (fixture)

    def test_x(memory_keyring: MemoryKeyring) -> None: ...

``real_keyring`` is the real Secret Service backend, and only the private, throw-away one that
scripts/with-keyring.sh starts (it sets MARKET_MONITOR_TEST_KEYRING=1): a plain ``pytest`` on a desktop
must never write into the user's login keyring.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.errors import PasswordDeleteError

from app.user.secret_store import SERVICE, backend_info


class MemoryKeyring(keyring.backend.KeyringBackend):
    # Below zero on purpose: keyring considers every imported KeyringBackend subclass, and a positive
    # priority would make this one the default in later tests.
    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


@contextmanager
def using(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def real_keyring_problem() -> str | None:
    """Why the real-keyring tests must skip, or None when they may run."""
    if os.environ.get("MARKET_MONITOR_TEST_KEYRING") != "1":
        return (
            "needs the private test keyring: run under scripts/with-keyring.sh (scripts/test.sh does), "
            "which needs dbus-run-session and gnome-keyring-daemon"
        )
    name = backend_info().name
    if "SecretService" not in name:
        return f"the keyring backend is {name}, not SecretService"
    return None


@pytest.fixture(name="memory_keyring")
def memory_keyring_fixture() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with using(backend):
        yield backend


@pytest.fixture(name="fail_keyring")
def fail_keyring_fixture() -> Iterator[None]:
    """keyring's own "no backend available" (what a headless Linux without D-Bus gets)."""
    with using(keyring.backends.fail.Keyring()):
        yield


@pytest.fixture(name="null_keyring")
def null_keyring_fixture() -> Iterator[None]:
    with using(keyring.backends.null.Keyring()):
        yield


@pytest.fixture(name="real_keyring")
def real_keyring_fixture() -> Iterator[list[str]]:
    """The private Secret Service keyring; yields a list the test adds its names to (deleted after)."""
    problem = real_keyring_problem()
    if problem is not None:
        pytest.skip(problem)
    names: list[str] = []
    yield names
    for name in names:
        with suppress(PasswordDeleteError):
            keyring.delete_password(SERVICE, name)
