"""The transport bar under the window while a recording plays: play/pause, the speeds, a timeline on the
recording's clock (each frame's receive time, UTC), step one frame, and Back to live.

Only a view: it shows a ``ReplayPlayer``'s position and says what the user asked through signals; the
replay controller (app/ui/replay_controller.py) does it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from app.stream.replay_player import SPEEDS
from app.ui import theme

SLIDER_STEPS = 10_000  # the slider's resolution over the recording, whatever its length


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


def clock_text(ms: int | None) -> str:
    if ms is None:
        return "—"
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC"


def span_text(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class TransportBar(QWidget):
    play_pause = Signal()
    step = Signal()
    speed_chosen = Signal(object)  # float | None
    seek = Signal(int)  # receive time, Unix ms
    back_to_live = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transportBar")
        self.first_ms = 0
        self.last_ms = 0
        self._dragging = False
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(6)
        self.play = QPushButton("Play")
        self.play.setObjectName("transportPlay")
        self.play.setToolTip("Play or pause the recording (Space)")
        self.play.setMinimumWidth(84)
        self.play.clicked.connect(self.play_pause)
        self.step_button = QPushButton("Step")
        self.step_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.step_button.setObjectName("transportStep")
        self.step_button.setToolTip("Apply the next frame, paused (.)")
        self.step_button.clicked.connect(self.step)
        row.addWidget(self.play)
        row.addWidget(self.step_button)
        self.speeds = QButtonGroup(self)
        self.speeds.setExclusive(True)
        for speed in SPEEDS:
            button = QToolButton()
            button.setText(speed_label(speed))
            button.setCheckable(True)
            button.setObjectName(f"speed_{speed_label(speed)}")
            button.setToolTip(
                "As fast as the window takes it" if speed is None else f"{speed:g} times the recording's pace"
            )
            button.clicked.connect(lambda _checked=False, s=speed: self.speed_chosen.emit(s))
            self.speeds.addButton(button)
            row.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("transportSlider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("The recording's clock (receive time); drag or click to seek")
        self.slider.sliderPressed.connect(self._pressed)
        self.slider.sliderReleased.connect(self._released)
        self.slider.actionTriggered.connect(self._clicked)
        row.addWidget(self.slider, 1)
        self.clock = QLabel()
        self.clock.setObjectName("transportClock")
        self.elapsed = QLabel()
        self.elapsed.setObjectName("transportElapsed")
        row.addWidget(self.clock)
        row.addWidget(self.elapsed)
        self.live = QPushButton("Back to live")
        self.live.setObjectName("transportLive")
        self.live.setToolTip("Stop replaying and connect the active profile again")
        self.live.clicked.connect(self.back_to_live)
        row.addWidget(self.live)
        self.apply_theme()

    def apply_theme(self) -> None:
        t = theme.current()
        self.clock.setStyleSheet(f"font-weight:bold; color:{t.text};")
        for button in self.speeds.buttons():  # the speed in force stands out
            button.setStyleSheet(
                f"QToolButton {{ padding:2px 7px; }} QToolButton:checked {{ background:{t.highlight};"
                " color:#fff; font-weight:bold; border-radius:3px; }"
            )
        self.elapsed.setStyleSheet(f"color:{t.dim_text};")

    def set_range(self, first_ms: int | None, last_ms: int | None) -> None:
        self.first_ms = first_ms or 0
        self.last_ms = max(last_ms or 0, self.first_ms)

    def _ms_at(self, value: int) -> int:
        return self.first_ms + round((self.last_ms - self.first_ms) * value / SLIDER_STEPS)

    def _pressed(self) -> None:
        self._dragging = True

    def _released(self) -> None:
        self._dragging = False
        self.seek.emit(self._ms_at(self.slider.value()))

    def _clicked(self, action: int) -> None:
        pages = (QSlider.SliderAction.SliderPageStepAdd.value, QSlider.SliderAction.SliderPageStepSub.value)
        if action in pages:  # a click beside the handle
            self.seek.emit(self._ms_at(self.slider.sliderPosition()))

    def show_state(self, position_ms: int | None, playing: bool, speed: float | None, at_end: bool) -> None:
        self.play.setText("Pause" if playing else ("Replay" if at_end else "Play"))
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self.style().standardIcon(icon))
        for button in self.speeds.buttons():
            button.setChecked(button.text() == speed_label(speed))
        if position_ms is not None and not self._dragging:
            span = self.last_ms - self.first_ms
            value = SLIDER_STEPS if span <= 0 else round((position_ms - self.first_ms) * SLIDER_STEPS / span)
            self.slider.blockSignals(True)
            self.slider.setValue(max(0, min(SLIDER_STEPS, value)))
            self.slider.blockSignals(False)
        self.clock.setText(clock_text(position_ms))
        at = (position_ms or self.first_ms) - self.first_ms
        self.elapsed.setText(f"{span_text(at)} / {span_text(self.last_ms - self.first_ms)}")
