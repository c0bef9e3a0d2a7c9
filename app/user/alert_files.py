"""Alert rules in and out of files (Alerts → Import…/Export…), and into the saved settings.

An export is ``alerts.saved``'s JSON; an import also takes a bare list or one rule per line. A rule
that can't be read is reported with its reason and the rest are imported; imported rules whose id is
already in use get a new one, so an import never replaces a rule.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from app.alerts.rules import Rule
from app.alerts.saved import Aside, export_text, import_text
from app.user.settings import Settings

MAX_FILE = 5 << 20  # an alerts file is small; a bigger one is the wrong file


class AlertFileError(Exception):
    """The file could not be read or written; ``str()`` says why in the user's words."""


def export_alerts(rules: list[Rule], path: Path) -> int:
    """Write the rules atomically; returns how many."""
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".alerts-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(export_text(rules))
        os.replace(tmp, path)
    except OSError as exc:
        raise AlertFileError(f"could not write {path}: {exc.strerror or exc}") from None
    return len(rules)


def read_alerts(path: Path) -> tuple[list[Rule], list[Aside]]:
    try:
        if path.stat().st_size > MAX_FILE:
            raise AlertFileError(f"{path} is too big for an alerts file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertFileError(f"could not read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return import_text(text)


def import_alerts(settings: Settings, path: Path) -> tuple[list[Rule], list[Aside]]:
    """Add the file's rules to the settings: the ones added, and the ones that could not be read."""
    rules, aside = read_alerts(path)
    taken = {r.id for r in settings.alerts}
    for rule in rules:
        if rule.id in taken:
            rule.id = uuid.uuid4().hex[:12]
        taken.add(rule.id)
    settings.alerts.extend(rules)
    return rules, aside
