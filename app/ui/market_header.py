"""The selected market at a glance, above its depth: what it is (for Kalshi, the question), the last price
large, bid, ask and spread, the 24 h change, when it closes or how it ended (date, time and zone), and for
Kalshi its rules one click away.

Sizes are multiples of the application font, so the window's zoom (View → Zoom) scales them with
everything else. Texts are set only when they change: the 25 Hz refresh costs a few comparisons.
"""

from __future__ import annotations

import time
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.core.store import ENDED, MarketState, MarketStore
from app.launch.catalog import MarketDetails, MarketInfo
from app.ui import format as fmt
from app.ui import theme as themes
from app.ui.theme import Theme

LAST_SCALE = 2.2  # the last price, as a multiple of the application font
QUOTE_SCALE = 1.25  # bid, ask, spread and the change
TITLE_SCALE = 1.1


class MarketHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("marketHeader")
        self._venue: Venue | None = None
        self._market: str | None = None
        self._info: MarketInfo | None = None
        self._details: MarketDetails | None = None
        self._theme = themes.current()
        self._last_tone = ""

        self.title = QLabel(self)
        self.title.setObjectName("headerTitle")
        self.title.setWordWrap(True)
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("headerSubtitle")
        self.subtitle.setWordWrap(True)
        self.last = QLabel(self)
        self.last.setObjectName("headerLast")
        self.last.setToolTip("Last traded price")
        self.change = QLabel(self)
        self.change.setObjectName("headerChange")
        self.change.setToolTip("Change over the last 24 hours")
        self.bid, self.ask, self.spread = (QLabel(self) for _ in range(3))
        for label, name in ((self.bid, "headerBid"), (self.ask, "headerAsk"), (self.spread, "headerSpread")):
            label.setObjectName(name)
        self._captions = [QLabel(text, self) for text in ("Bid", "Ask", "Spread")]
        self.when = QLabel(self)
        self.when.setObjectName("headerWhen")
        self.when.setWordWrap(False)  # one line: the date and the countdown belong together
        self.rules_button = QToolButton(self)
        self.rules_button.setObjectName("headerRulesButton")
        self.rules_button.setText("Rules")
        self.rules_button.setCheckable(True)
        self.rules_button.setToolTip("How this market resolves, as Kalshi states it")
        self.rules_button.toggled.connect(self._show_rules)
        self.rules = QLabel(self)
        self.rules.setObjectName("headerRules")
        self.rules.setWordWrap(True)
        self.rules.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rules.hide()
        for label in self.findChildren(QLabel):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names and rules are text, never markup

        price_row = QHBoxLayout()
        price_row.setSpacing(10)
        price_row.addWidget(self.last)
        price_row.addWidget(self.change)
        quote = QGridLayout()
        quote.setHorizontalSpacing(14)
        quote.setVerticalSpacing(0)
        for col, (caption, value) in enumerate(
            zip(self._captions, (self.bid, self.ask, self.spread), strict=True)
        ):
            quote.addWidget(caption, 0, col)
            quote.addWidget(value, 1, col)
        price_row.addStretch(1)
        price_row.addLayout(quote)
        # The outcome asked about and when it closes share a line: the header stays short, so the
        # ladder under it keeps its rows on a laptop screen.
        sub_row = QHBoxLayout()
        sub_row.setSpacing(10)
        sub_row.addWidget(self.subtitle, 1)
        sub_row.addWidget(self.when)
        sub_row.addWidget(self.rules_button)
        self.when.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(sub_row)
        layout.addLayout(price_row)
        layout.addWidget(self.rules)
        self.apply_zoom()
        self.apply_theme(self._theme)
        self.set_market(None, None)

    # ------------------------------------------------------------------ public API

    def text(self) -> str:
        """Everything the header says, as plain text (tests and screen readers)."""
        parts = [self.title, self.subtitle, self.last, self.change]
        quote = [
            f"{c.text()} {v.text()}"
            for c, v in zip(self._captions, (self.bid, self.ask, self.spread), strict=True)
        ]
        words = [p.text() for p in parts if p.text()] + quote + [self.when.text()]
        return " ".join(w for w in words if w)

    def set_market(self, venue: Venue | None, market: str | None, info: MarketInfo | None = None) -> None:
        if (venue, market) != (self._venue, self._market):
            self._details = None
            self.rules_button.setChecked(False)
        self._venue, self._market, self._info = venue, market, info
        kalshi = venue is Venue.KALSHI
        self.rules_button.setVisible(kalshi)
        self.rules_button.setEnabled(False)  # until the market's details arrive
        for label in (self.last, self.change, self.bid, self.ask, self.spread, self.when):
            label.setText("")
        self.when.setVisible(kalshi)
        self._title()
        self.setVisible(venue is not None)

    def set_details(self, details: MarketDetails) -> None:
        """The market's details from the venue (Kalshi ``GET /markets/{ticker}``): question and rules."""
        if details.market != self._market or self._venue is not Venue.KALSHI:
            return
        self._details = details
        rules = "\n\n".join(r for r in (details.rules_primary, details.rules_secondary) if r)
        self.rules.setText(rules)
        self.rules_button.setEnabled(bool(rules))
        self._title()

    def refresh(
        self, store: MarketStore, bid: Decimal | None, ask: Decimal | None, now: float | None = None
    ) -> None:
        venue, market = self._venue, self._market
        if venue is None or market is None:
            return
        now = time.time() if now is None else now
        state = store.markets.get((venue, market))
        pdec = fmt.cent_places(p for p in (bid, ask) if p is not None)
        _set(self.bid, fmt.price(venue, bid, pdec))
        _set(self.ask, fmt.price(venue, ask, pdec))
        if bid is not None and ask is not None:
            spread = ask - bid
            if venue is Venue.KALSHI:
                _set(self.spread, fmt.cents(spread))
            else:
                _set(self.spread, f"{fmt.price(venue, spread)} ({fmt.bps(spread, (ask + bid) / 2)})")
        else:
            _set(self.spread, fmt.DASH)
        last = state.last if state is not None else None
        if last is None and self._details is not None:
            last = self._details.last_price  # before this session's first trade or ticker
        _set(self.last, fmt.price(venue, last))
        change, pct = self._change(state, last)
        t = self._theme
        tone = (
            t.bid if change is not None and change > 0 else t.ask if change is not None and change < 0 else ""
        )
        if tone != self._last_tone:
            self._last_tone = tone
            colour = f"color: {tone};" if tone else ""
            self.change.setStyleSheet(colour)
            self.last.setStyleSheet(colour)
        if change is None:
            _set(self.change, "")
        else:
            text = fmt.change(venue, change)
            if pct is not None:
                text += f" ({fmt.signed(pct.quantize(Decimal('0.01')))}%)"
            _set(self.change, f"{text} 24 h")
        when = self._when(store, now)
        _set(self.when, when)
        self.when.setVisible(bool(when))

    def apply_theme(self, t: Theme) -> None:
        self._theme = t
        self._last_tone = "?"  # recolour on the next refresh
        self.subtitle.setStyleSheet(f"color: {t.dim_text};")
        for caption in self._captions:
            caption.setStyleSheet(f"color: {t.dim_text};")
        self.bid.setStyleSheet(f"color: {t.bid};")
        self.ask.setStyleSheet(f"color: {t.ask};")
        self.rules.setStyleSheet(
            f"color: {t.text}; background: {t.alt_base}; padding: 6px; border-radius: 3px;"
        )
        self._title()

    def apply_zoom(self) -> None:
        """Sizes from the application font (call after the window's zoom changes it)."""
        base = QApplication.font()
        for label, scale, bold in (
            (self.title, TITLE_SCALE, True),
            (self.last, LAST_SCALE, True),
            (self.change, QUOTE_SCALE, False),
            (self.bid, QUOTE_SCALE, True),
            (self.ask, QUOTE_SCALE, True),
            (self.spread, QUOTE_SCALE, False),
        ):
            font = QFont(base)
            font.setPointSizeF(base.pointSizeF() * scale)
            font.setBold(bold)
            label.setFont(font)
        for widget in (*self._captions, self.subtitle, self.when, self.rules, self.rules_button):
            widget.setFont(base)

    # ------------------------------------------------------------------ internals

    def _title(self) -> None:
        venue, market = self._venue, self._market
        if venue is None or market is None:
            _set(self.title, "")
            _set(self.subtitle, "")
            self.subtitle.hide()
            return
        details, info = self._details, self._info
        question = (details.title if details else "") or (info.title if info else "")
        sub = (details.subtitle if details else "") or (info.subtitle if info else "")
        where = fmt.venue_name(venue)
        if venue is Venue.KALSHI and question:
            _set(self.title, question)
            _set(self.subtitle, f"{sub} · {market} · {where}" if sub else f"{market} · {where}")
        else:
            _set(self.title, f"{market} · {where}")
            _set(self.subtitle, "")
        self.subtitle.setVisible(bool(self.subtitle.text()) or venue is Venue.KALSHI)

    def _change(
        self, state: MarketState | None, last: Decimal | None
    ) -> tuple[Decimal | None, Decimal | None]:
        """The 24 h change: the venue's own figure (Kraken's ticker), else the last price against the
        last price a day ago (Kalshi's ``previous_price``)."""
        if state is not None and state.change is not None:
            return state.change, state.change_pct
        details = self._details
        if last is None or details is None or not details.previous_price:
            return None, None
        change = last - details.previous_price
        return change, change / details.previous_price * 100

    def _when(self, store: MarketStore, now: float) -> str:
        venue, market = self._venue, self._market
        assert venue is not None and market is not None
        status = store.status(venue, market)
        if status in ENDED:
            state = store.markets.get((venue, market))
            return fmt.outcome(status, state.outcome if state is not None else None).capitalize()
        details, info = self._details, self._info
        close = (details.close_time if details else None) or (info.close_time if info else None)
        if close is None:
            return ""  # Kraken trades around the clock: no line for it
        if close <= now:
            return f"Closed {fmt.when(close)}"
        return f"Closes {fmt.when(close)} · in {fmt.countdown(close - now)}"

    def _show_rules(self, on: bool) -> None:
        self.rules.setVisible(on and bool(self.rules.text()))


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
