"""A table of keyed rows that a refresh diffs against the previous state: rows that went away are
removed, new keys are inserted where they belong, and changed rows get one ranged ``dataChanged``.

For small tables whose rows change in place (positions, health). Every refresh passes the whole wanted
table, already formatted; display text is compared, so a refresh that changes nothing emits nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex

from app.ui.table_base import TableModel


@dataclass(frozen=True, slots=True)
class RowView:
    cells: tuple[str, ...]
    tones: tuple[str | None, ...] = ()  # per column; shorter means no colour for the rest
    tip: str | None = None
    raw: object = None
    export: tuple[str, ...] = ()  # the exact values File → Export writes (empty: the cells as shown)


class KeyedTableModel(TableModel):
    def __init__(self) -> None:
        super().__init__()
        self._keys: list[Hashable] = []
        self._views: list[RowView] = []

    def sync(self, wanted: Sequence[tuple[Hashable, RowView]]) -> None:
        """Make the table equal ``wanted`` (in that order). Keys must keep their relative order between
        calls (sort by key), which makes a new key's position simply where it appears."""
        wanted_keys = {key: i for i, (key, _) in enumerate(wanted)}
        # 1. Removals, bottom-up in contiguous runs.
        row = len(self._keys) - 1
        while row >= 0:
            if self._keys[row] in wanted_keys:
                row -= 1
                continue
            last = row
            while row >= 0 and self._keys[row] not in wanted_keys:
                row -= 1
            self.beginRemoveRows(QModelIndex(), row + 1, last)
            del self._keys[row + 1 : last + 1], self._views[row + 1 : last + 1]
            self.endRemoveRows()
        # 2. Insertions: the survivors are now a subsequence of ``wanted``; fill in the runs between.
        have = set(self._keys)
        pos = 0
        while pos < len(wanted):
            if wanted[pos][0] in have:
                pos += 1
                continue
            end = pos
            while end < len(wanted) and wanted[end][0] not in have:
                end += 1
            self.beginInsertRows(QModelIndex(), pos, end - 1)
            self._keys[pos:pos] = [key for key, _ in wanted[pos:end]]
            self._views[pos:pos] = [view for _, view in wanted[pos:end]]
            self.endInsertRows()
            pos = end
        if self._keys != [key for key, _ in wanted]:
            # The caller reordered keys: no cheap diff, start over (never happens with sorted keys).
            self.beginResetModel()
            self._keys = [key for key, _ in wanted]
            self._views = [view for _, view in wanted]
            self.endResetModel()
            return
        # 3. Changes, as one range from the first to the last changed row.
        first = last_changed = -1
        for i, (_, view) in enumerate(wanted):
            if self._views[i] != view:
                self._views[i] = view
                if first < 0:
                    first = i
                last_changed = i
        if first >= 0:
            self.dataChanged.emit(self.index(first, 0), self.index(last_changed, len(self.columns) - 1))

    def views(self) -> list[RowView]:
        """The rows as shown, top to bottom (exports read their exact values)."""
        return list(self._views)

    def row_count(self) -> int:
        return len(self._views)

    def key_at(self, row: int) -> Hashable:
        return self._keys[row]

    def cell(self, row: int, col: int) -> str:
        return self._views[row].cells[col]

    def tone(self, row: int, col: int) -> str | None:
        tones = self._views[row].tones
        return tones[col] if col < len(tones) else None

    def tooltip(self, row: int, col: int) -> str | None:
        return self._views[row].tip

    def raw(self, row: int) -> object:
        return self._views[row].raw
