"""Watchlist → Import…, when some lines cannot be imported: which ones and why, and a choice to import
the good lines or nothing. A small fixed list (no live data), so a ``QTreeWidget`` serves."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.user.watchlists import ParsedList


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class ImportReport(QDialog):
    """Accepted: import ``parsed.markets``; rejected: import nothing."""

    def __init__(self, parsed: ParsedList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importReport")
        self.setWindowTitle("Import watchlist")
        good, bad = len(parsed.markets), len(parsed.rejected)
        layout = QVBoxLayout(self)
        if good:
            head = (
                f"{parsed.source}: {_plural(good, 'market')} can be imported as “{parsed.name}”; "
                f"{_plural(bad, 'line')} cannot:"
            )
        else:
            head = f"{parsed.source}: nothing can be imported; {_plural(bad, 'line')} cannot:"
        self.summary = QLabel(head)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.lines = QTreeWidget()
        self.lines.setObjectName("rejectedLines")
        self.lines.setHeaderLabels(["Where", "Text", "Why not"])
        self.lines.setRootIsDecorated(False)
        self.lines.setWordWrap(True)
        for r in parsed.rejected:
            item = QTreeWidgetItem([r.where, r.text, r.reason])
            item.setToolTip(2, r.reason)
            self.lines.addTopLevelItem(item)
        header = self.lines.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.lines)
        buttons = QDialogButtonBox()
        self.import_button: QPushButton | None = None
        if good:
            self.import_button = buttons.addButton(
                f"Import {_plural(good, 'market')}", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.import_button.setDefault(True)
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        else:
            buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, min(480, 160 + 26 * bad))

    def reasons(self) -> list[str]:
        """Each refused line as shown: where, text and why (for tests and the log)."""
        out = []
        for i in range(self.lines.topLevelItemCount()):
            item = self.lines.topLevelItem(i)
            if item is not None:
                out.append(" | ".join(item.text(c) for c in range(3)))
        return out
