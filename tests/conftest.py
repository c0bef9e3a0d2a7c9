"""Shared test helpers. Fixture frames live in tests/data (copied from the project's shared fixtures)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.venues import wire

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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
