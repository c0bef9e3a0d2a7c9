"""A name asked for in a small dialog that stays open while the name cannot be used: it says why as the
user types (too long, empty, taken) and OK waits for a good one, so a refusal never loses what was typed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QInputDialog, QWidget

from app.ui import theme

Problem = Callable[[str], str | None]  # what is wrong with a name as typed, or None


class NameDialog(QInputDialog):
    """A ``QInputDialog`` for text whose OK refuses a name ``problem`` objects to (the label says why)."""

    def __init__(self, parent: QWidget | None, title: str, label: str, text: str, problem: Problem) -> None:
        super().__init__(parent)
        self.setObjectName("nameDialog")
        self.setWindowTitle(title)
        self.setInputMode(QInputDialog.InputMode.TextInput)
        self.setTextValue(text)
        self.prompt = label
        self.problem = problem
        self.textValueChanged.connect(self._check)
        self.setLabelText(label)

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)  # type: ignore[arg-type]
        self._check(self.textValue())  # the buttons exist once shown

    def refusal(self) -> str | None:
        return self.problem(self.textValue())

    def _check(self, text: str) -> None:
        why = self.problem(text)
        colour = theme.current().ask
        quiet = why is None or not text.strip()  # an empty box needs no scolding: OK is simply off
        self.setLabelText(
            self.prompt if quiet else f"{self.prompt}  <span style='color:{colour}'>{why}</span>"
        )
        box = self.findChild(QDialogButtonBox)
        if box is not None:
            ok = box.button(QDialogButtonBox.StandardButton.Ok)
            if ok is not None:
                ok.setEnabled(why is None)
                ok.setToolTip(why or "")

    def done(self, result: int) -> None:
        if result == QDialog.DialogCode.Accepted and self.refusal() is not None:
            self._check(self.textValue())  # Enter on a bad name: it stays, and the label says why
            return
        super().done(result)


def ask_name(parent: QWidget, title: str, label: str, text: str, problem: Problem) -> str | None:
    """The name typed, once ``problem`` accepts it; None when the user cancels."""
    dialog = NameDialog(parent, title, label, text, problem)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.textValue()
        return None
    finally:
        dialog.deleteLater()
