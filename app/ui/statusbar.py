"""A venue's part of the status bar: state with a coloured dot, reconnect countdown, messages/s."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.core.instruments import Venue
from app.stream.link import VenueLink
from app.stream.state import ConnState
from app.ui.theme import Theme, current


class VenueStatus(QLabel):
    def __init__(self, venue: Venue) -> None:
        super().__init__()
        self.venue = venue
        self.setObjectName(f"status_{venue.value}")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.problem: str | None = None
        self.state_text = "off"
        self._theme = current()
        self.setMinimumWidth(200)

    def apply_theme(self, t: Theme) -> None:
        self._theme = t

    def set_problem(self, problem: str | None) -> None:
        self.problem = problem

    def update_from(self, links: Sequence[VenueLink], rate: float, simulated: set[Venue]) -> None:
        t = self._theme
        name = self.venue.value.capitalize() + (" (sim)" if self.venue in simulated else "")
        if not links:
            self.state_text = "needs credentials" if self.problem else "off"
            colour = t.warn if self.problem else t.dim_text
            self.setToolTip(self.problem or "This profile leaves the venue out.")
            self.setText(f"<span style='color:{colour}'>●</span> {name}: {self.state_text}")
            return
        link = links[0]  # the market-data link; a private one follows it
        state = link.state
        detail = state.value
        if state is ConnState.BACKING_OFF and link.retry_at is not None:
            detail = f"reconnecting in {max(0.0, link.retry_at - time.monotonic()):.0f}s"
        elif state is ConnState.CREDENTIALS_REJECTED:
            detail = "credentials rejected"
        colour = {
            ConnState.LIVE: t.bid,
            ConnState.CONNECTING: t.warn,
            ConnState.AUTHENTICATING: t.warn,
            ConnState.BACKING_OFF: t.warn,
        }.get(state, t.ask)
        tips = [f"{lk.name}: {lk.state.value} — {lk.transitions[-1].reason}" for lk in links]
        tips += [f"last network error: {lk.last_error_detail}" for lk in links if lk.last_error_detail]
        if state is ConnState.LIVE:
            # Live, yet not all it was asked: amber, and the reason in words.
            refused = {m: why for lk in links for m, why in lk.refused.items()}
            unsynced = sorted({ch for lk in links for ch in lk.unsynced()})
            if refused:
                detail += f", {len(refused)} market{'s' if len(refused) > 1 else ''} refused"
                tips += [f"{m}: not listed by the venue ({why})" for m, why in list(refused.items())[:8]]
            if unsynced:
                detail += ", not all subscriptions acknowledged"
                tips.append(f"waiting for the venue to acknowledge: {', '.join(unsynced)}")
            if refused or unsynced:
                colour = t.warn
        self.state_text = detail
        self.setToolTip("\n".join(tips))
        self.setText(f"<span style='color:{colour}'>●</span> {name}: {detail} · {rate:,.0f}/s")
