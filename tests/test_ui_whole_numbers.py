"""Issue 19 item 7 in the real window: no number is ever cut off (a column too narrow for its text widens
to it) and chart axes read in plain units, never pyqtgraph's SI prefix ("USD (x0.001)")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.sim.server import SimOptions
from app.ui.column_fit import MARGIN
from app.ui.watchlist_model import C_MARKET
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, run_on


def test_narrowed_number_columns_widen_back_to_their_text_and_axes_stay_plain(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    settings = settings_mod.load(tmp_path)
    doge = MarketRef(Venue.KRAKEN, "DOGE/USD")
    settings.watchlist().add(doge)
    win = MainWindow(settings, SecretStore(), config_dir=tmp_path, sim_options=SimOptions(seed=3, rate=300))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    win.start()
    try:
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        view, model = win.table, win.watch_model
        pump_until(lambda: model.rowCount() > 0 and model.index(0, 3).data() not in (None, "–"), timeout=20)
        header = view.horizontalHeader()
        numbers = [c for c in range(model.columnCount()) if c != C_MARKET and not header.isSectionHidden(c)]
        numbers = [c for c in numbers if header.visualIndex(c) != header.count() - 1]  # the last stretches
        for col in numbers:
            view.setColumnWidth(col, 12)  # as a user dragging every column nearly shut
        assert view.fit.fit() > 0

        def fits(row: int, col: int) -> bool:
            index = model.index(row, col)
            font = index.data(Qt.ItemDataRole.FontRole)
            metrics = QFontMetrics(font if isinstance(font, QFont) else view.font())
            return metrics.horizontalAdvance(str(index.data() or "")) + MARGIN <= view.columnWidth(col)

        assert all(fits(r, c) for r in range(model.rowCount()) for c in numbers)
        assert view.fit.fit() == 0  # settled: nothing widens twice for the same text

        # The price chart on a coin priced under a dollar labels its axis in plain USD.
        win.select(doge)
        chart = win.chart
        pump_until(lambda: chart.history(doge.venue, doge.market) is not None, timeout=10)
        axis = chart.plot.getPlotItem().getAxis("left")
        axis.setLabel("price", units="USD")  # with units pyqtgraph would rescale: "price (x0.001 USD)"
        axis.setRange(0.0001601, 0.0001609)
        assert "(USD)" in axis.labelString(), axis.labelString()
        ticks = axis.tickStrings([0.0001602, 0.0001604], 1.0, 0.0000002)
        assert ticks == ["0.0001602", "0.0001604"]
    finally:
        run_on(qloop, win.shutdown())


def test_a_narrow_ladder_drops_its_totals_rather_than_cut_a_number(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui.ladder import ASK_CUM, BID_CUM

    settings = settings_mod.load(tmp_path)
    btc = MarketRef(Venue.KRAKEN, "BTC/USD")
    settings.watchlist().add(btc)
    win = MainWindow(settings, SecretStore(), config_dir=tmp_path, sim_options=SimOptions(seed=3, rate=300))
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.start()
    try:
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        pane = win.panes.open_pane(btc)  # a pane can be far narrower than the main Depth dock
        ladder = pane.ladder
        pump_until(lambda: ladder.model.rowCount() > 0 and ladder.model.shown_levels() > 0, timeout=20)
        dock = pane
        dock.setFloating(True)
        dock.resize(280, 600)  # as narrow as a pane at the window's edge
        QApplication.processEvents()
        assert ladder.fit_columns()
        table = ladder.table
        assert table.isColumnHidden(BID_CUM) and table.isColumnHidden(ASK_CUM)
        dock.resize(1200, 600)
        QApplication.processEvents()
        assert ladder.fit_columns()
        assert not table.isColumnHidden(BID_CUM) and not table.isColumnHidden(ASK_CUM)
    finally:
        run_on(qloop, win.shutdown())
