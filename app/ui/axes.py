"""pyqtgraph axes whose tick labels come from app/ui/format.py, so a chart's prices and sizes read like
the tables beside it (``67,120`` on the axis as in the ladder, never pyqtgraph's ``67120`` or ``1.2e+05``)
and its times say the day on a long window (``21 Nov 14:00``).
"""

from __future__ import annotations

import pyqtgraph as pg

from app.ui import format as fmt


class NumberAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Plain units: pyqtgraph would relabel a low-priced coin's axis "USD (x0.001)" and its ticks 0.15.
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode:
            return list(super().tickStrings(values, scale, spacing))
        return fmt.axis_ticks((v * scale for v in values), spacing * scale)


class TimeAxis(pg.DateAxisItem):  # type: ignore[misc]
    """pyqtgraph's date axis (its tick placement in local time), labelled by ``fmt.axis_times``."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return fmt.axis_times((v * scale for v in values), spacing * scale)
