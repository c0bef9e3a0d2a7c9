"""app/user/secret_store.py: the keyring round trip, session-only secrets, refusing insecure backends, and the
real Secret Service backend (the private keyring of scripts/with-keyring.sh; skipped without it)."""

from __future__ import annotations

import uuid

import keyring
import keyring.errors
import pytest

from app.launch.launcher import kalshi_credentials, kraken_credentials
from app.user.secret_store import (
    KALSHI_FIELDS,
    KRAKEN_FIELDS,
    SERVICE,
    KeyringUnavailable,
    SecretStore,
    backend_info,
    secret_name,
)
from tests.fake_keyring import (  # noqa: F401 (fixtures)
    MemoryKeyring,
    fail_keyring_fixture,
    memory_keyring_fixture,
    null_keyring_fixture,
    real_keyring_fixture,
)

SECRET = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1sZWFr"


def test_names_and_fields() -> None:
    assert secret_name("kalshi", "production", "key_id") == "kalshi/production/key_id"
    assert KALSHI_FIELDS == ("key_id", "private_key")
    assert KRAKEN_FIELDS == ("api_key", "secret")


def test_round_trip_through_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    name = secret_name("kraken", "live", "secret")
    assert backend_info().usable
    assert store.get(name) is None
    store.set(name, SECRET)
    assert memory_keyring.store == {(SERVICE, name): SECRET}
    assert not store.is_session_only(name)
    assert SecretStore().get(name) == SECRET  # in the keyring, not in this object
    store.delete(name)
    assert store.get(name) is None
    store.delete(name)  # deleting what is not there is fine


def test_session_only_stays_out_of_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    name = secret_name("kalshi", "demo", "key_id")
    store.set(name, "key-1", session_only=True)
    assert store.get(name) == "key-1"
    assert store.is_session_only(name)
    assert memory_keyring.store == {}
    assert SecretStore().get(name) is None  # another run does not see it
    store.set(name, "key-2")  # saving for good replaces the session copy
    assert not store.is_session_only(name)
    assert memory_keyring.store == {(SERVICE, name): "key-2"}
    store.delete(name)
    assert store.get(name) is None


@pytest.mark.usefixtures("fail_keyring")
def test_no_keyring_refuses_to_save_and_reads_nothing() -> None:
    info = backend_info()
    assert not info.usable
    assert "fail" in info.name
    assert "Secret Service" in info.reason
    store = SecretStore()
    name = secret_name("kraken", "live", "secret")
    with pytest.raises(KeyringUnavailable) as caught:
        store.set(name, SECRET)
    assert SECRET not in str(caught.value)
    assert store.get(name) is None
    store.delete(name)  # nothing to do, and no error
    store.set(name, SECRET, session_only=True)  # the offer the dialog makes instead
    assert store.get(name) == SECRET
    assert store.is_session_only(name)


@pytest.mark.usefixtures("null_keyring")
def test_null_keyring_is_insecure_too() -> None:
    assert not backend_info().usable
    with pytest.raises(KeyringUnavailable):
        SecretStore().set(secret_name("kalshi", "production", "private_key"), SECRET)


def test_backend_errors_become_keyring_unavailable_without_the_secret() -> None:
    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError("Prompt dismissed.")

        def delete_password(self, service: str, username: str) -> None:
            raise OSError("the D-Bus connection closed")

    previous = keyring.get_keyring()
    keyring.set_keyring(Locked())
    try:
        store = SecretStore()
        for call in (
            lambda: store.get("kraken/live/secret"),
            lambda: store.set("kraken/live/secret", SECRET),
            lambda: store.delete("kraken/live/secret"),
        ):
            with pytest.raises(KeyringUnavailable) as caught:
                call()
            assert SECRET not in str(caught.value)
            assert "the OS keyring refused" in str(caught.value)
    finally:
        keyring.set_keyring(previous)


def test_launch_reads_what_the_store_saved(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    store.set(secret_name("kraken", "beta", "api_key"), "kraken-key")
    assert kraken_credentials(store, "beta") is None  # half a credential is none
    store.set(secret_name("kraken", "beta", "secret"), SECRET)
    creds = kraken_credentials(store, "beta")
    assert creds is not None and creds.api_key == "kraken-key"
    assert kalshi_credentials(store, "production") is None


def test_real_keyring_round_trip(real_keyring: list[str]) -> None:
    assert "SecretService" in backend_info().name
    name = f"test/{uuid.uuid4()}/secret"
    real_keyring.append(name)
    store = SecretStore()
    store.set(name, SECRET)
    assert keyring.get_password(SERVICE, name) == SECRET  # really in the Secret Service
    assert SecretStore().get(name) == SECRET
    store.set(name, "changed")
    assert SecretStore().get(name) == "changed"
    store.delete(name)
    assert SecretStore().get(name) is None
    assert keyring.get_password(SERVICE, name) is None


def test_real_keyring_session_only_writes_nothing(real_keyring: list[str]) -> None:
    name = f"test/{uuid.uuid4()}/key_id"
    real_keyring.append(name)
    store = SecretStore()
    store.set(name, "only-now", session_only=True)
    assert store.get(name) == "only-now"
    assert keyring.get_password(SERVICE, name) is None
