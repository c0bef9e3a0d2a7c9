"""Theme palettes are data (resources/themes/*.json): the bundled ones load, and a damaged file is named
with the field that is wrong rather than failing somewhere in a paint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.resources import resource_path
from app.ui import theme


def _write(folder: Path, name: str, **changes: object) -> Path:
    doc = json.loads(resource_path("themes", "dark.json").read_text())
    doc["name"] = name
    colours = doc["colors"]
    for key, value in changes.items():
        if value is None:
            colours.pop(key)
        else:
            colours[key] = value
    path = folder / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


def test_bundled_themes_load_with_every_colour() -> None:
    themes = theme.load_themes(resource_path("themes"))
    assert set(themes) == {"dark", "light"}
    assert themes["light"].base == "#ffffff" and themes["dark"].label == "Dark"
    assert theme.named("no-such-theme") == themes["dark"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"bid": None}, "missing colours ['bid']"),
        ({"bidd": "#000000"}, "unknown colours ['bidd']"),
        ({"ask": "red"}, "colour 'ask' is 'red'"),
        ({"warn": "#12345"}, "expected #rrggbb or #rrggbbaa"),
    ],
)
def test_a_damaged_theme_names_its_file_and_field(
    tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    path = _write(tmp_path, "dark", **change)
    with pytest.raises(theme.ThemeError, match=problem.replace("[", r"\[").replace("]", r"\]")) as info:
        theme.load_themes(tmp_path)
    assert str(path) in str(info.value)


def test_not_json_and_no_default_theme(tmp_path: Path) -> None:
    (tmp_path / "dark.json").write_text("{not json")
    with pytest.raises(theme.ThemeError, match="cannot read the theme"):
        theme.load_themes(tmp_path)
    (tmp_path / "dark.json").unlink()
    _write(tmp_path, "blue")
    with pytest.raises(theme.ThemeError, match="no 'dark' theme"):
        theme.load_themes(tmp_path)
