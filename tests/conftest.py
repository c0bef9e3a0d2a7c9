"""Shared test helpers. Fixture frames live in tests/data (copied from the project's shared fixtures)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from app.venues import wire

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the developer's login keyring: only scripts/with-keyring.sh (a private, temporary
# Secret Service) sets MARKET_MONITOR_TEST_KEYRING; anywhere else the keyring is the "fail" backend.
if not os.environ.get("MARKET_MONITOR_TEST_KEYRING"):
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

# CI runs the same examples every time (a red CI must be reproducible); HYPOTHESIS_PROFILE=deep explores.
settings.register_profile("default", max_examples=400)
settings.register_profile("ci", max_examples=400, derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=20_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

DATA = Path(__file__).parent / "data"


def fixture_lines(name: str) -> Iterator[dict[str, Any]]:
    """Each line of a fixture file, parsed keeping exact number text."""
    with open(DATA / name, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield wire.parse(line)


@pytest.fixture
def data_dir() -> Path:
    return DATA


# Qt fixtures (imported here so every test module can ask for them by name).
from tests.qtsupport import qloop  # noqa: E402

__all__ = ["qloop"]
