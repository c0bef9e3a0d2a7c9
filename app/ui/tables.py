"""The live tables of the window, in one import: the trade tape, the user's fills, positions and
balances, and feed health, plus the view they are shown in. Each model lives in its own module; every
one is a ``QAbstractTableModel`` fed by a ``refresh`` that the window's 20-30 Hz timer calls, and that
costs almost nothing when nothing changed.
"""

from __future__ import annotations

from app.ui.fills_model import FILL_ROWS, FillsModel
from app.ui.health_model import HealthModel
from app.ui.positions_model import PositionsModel
from app.ui.table_base import ROW_HEIGHT, Column, RawRole, TableModel, make_table_view
from app.ui.tape_model import TAPE_ROWS, TradeTapeModel

__all__ = [
    "FILL_ROWS",
    "ROW_HEIGHT",
    "TAPE_ROWS",
    "Column",
    "FillsModel",
    "HealthModel",
    "PositionsModel",
    "RawRole",
    "TableModel",
    "TradeTapeModel",
    "make_table_view",
]
