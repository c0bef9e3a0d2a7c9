"""File → Connection profiles…: which environment each venue uses, by name; OK makes one active."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import ENVIRONMENTS, Environment, Venue
from app.user.settings import SIM_PROFILE, Profile, Settings

ENV_LABELS = {
    Environment.SIM: "Simulator (built in)",
    Environment.PRODUCTION: "Production",
    Environment.DEMO: "Demo",
    Environment.LIVE: "Live",
    Environment.BETA: "Beta",
    Environment.OFF: "Off",
}


class ProfilesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connection profiles")
        self.settings = settings
        self.changed = False
        self.profile = QComboBox()
        self.profile.setObjectName("profileCombo")
        self.kalshi = QComboBox()
        self.kalshi.setObjectName("kalshiEnv")
        self.kraken = QComboBox()
        self.kraken.setObjectName("krakenEnv")
        for combo, envs in (
            (self.kalshi, ENVIRONMENTS[Venue.KALSHI]),
            (self.kraken, ENVIRONMENTS[Venue.KRAKEN]),
        ):
            for env in envs:
                combo.addItem(ENV_LABELS[env], env)
        new = QPushButton("New…")
        new.setObjectName("newProfile")
        delete = QPushButton("Delete")
        delete.setObjectName("deleteProfile")
        new.clicked.connect(self._new)
        delete.clicked.connect(self._delete)
        row = QHBoxLayout()
        row.addWidget(self.profile, 1)
        row.addWidget(new)
        row.addWidget(delete)
        form = QFormLayout()
        form.addRow("Profile", row)
        form.addRow("Kalshi", self.kalshi)
        form.addRow("Kraken", self.kraken)
        note = QLabel(
            "Real venues use the credentials saved under File → Credentials… for that environment. "
            "Kalshi signs every connection, so it needs a key even for market data; Kraken market data "
            "needs none (fills and balances do)."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use this profile")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._fill(settings.active_profile)
        self.profile.currentIndexChanged.connect(self._show)

    def _fill(self, select: str) -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        for p in self.settings.profiles:
            self.profile.addItem(p.name)
        self.profile.setCurrentText(select)
        self.profile.blockSignals(False)
        self._show()

    def _show(self) -> None:
        p = self.settings.profile(self.profile.currentText())
        self.kalshi.setCurrentIndex(self.kalshi.findData(p.kalshi))
        self.kraken.setCurrentIndex(self.kraken.findData(p.kraken))
        builtin = p.name == SIM_PROFILE
        self.kalshi.setEnabled(not builtin)
        self.kraken.setEnabled(not builtin)

    def _new(self) -> None:
        name, ok = QInputDialog.getText(self, "New profile", "Name:", text="Live")
        name = name.strip()
        if not ok or not name:
            return
        if any(p.name == name for p in self.settings.profiles):
            QMessageBox.warning(self, "New profile", f"A profile named {name!r} already exists.")
            return
        self.settings.put_profile(Profile(name, Environment.PRODUCTION, Environment.LIVE))
        self.changed = True
        self._fill(name)

    def _delete(self) -> None:
        name = self.profile.currentText()
        try:
            self.settings.delete_profile(name)
        except ValueError as exc:
            QMessageBox.warning(self, "Delete profile", str(exc))
            return
        self.changed = True
        self._fill(self.settings.active_profile)

    def _accept(self) -> None:
        name = self.profile.currentText()
        if name != SIM_PROFILE:
            self.settings.put_profile(Profile(name, self.kalshi.currentData(), self.kraken.currentData()))
        if self.settings.active_profile != name or name != SIM_PROFILE:
            self.changed = True
        self.settings.active_profile = name
        self.accept()
