"""Render ``resources/icons/market-monitor.svg`` into the checked-in PNG sizes and a multi-size ICO.

Usage, from the repository root::

    .venv/bin/python packaging/make_icons.py

The outputs (``market-monitor-{16..512}.png`` and ``market-monitor.ico``) sit beside the SVG and are
checked in; run this again after editing the SVG. Rendering needs no display (offscreen Qt platform).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
NAME = "market-monitor"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The SVG drawn antialiased onto a transparent ``size`` x ``size`` ARGB image."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise RuntimeError(f"could not encode PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO container whose entries are PNG images (read by Windows Vista and later, and by Qt).

    Layout: ICONDIR (reserved 0, type 1, count), one 16-byte ICONDIRENTRY per image (width and height
    as a byte, 0 meaning 256; colour count; reserved; planes; bits per pixel; size; offset), then the
    PNG data in the same order."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries = b""
    for size in sizes:
        if not 1 <= size <= 256:
            raise ValueError(f"ICO entries are 1 to 256 px, not {size}")
        side = 0 if size == 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(pngs[size]), offset)
        offset += len(pngs[size])
    return header + entries + b"".join(pngs[size] for size in sizes)


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the app icon SVG into PNG sizes and an ICO.")
    parser.add_argument("--svg", type=Path, default=ICON_DIR / f"{NAME}.svg", help="the source SVG")
    parser.add_argument("--out-dir", type=Path, default=ICON_DIR, help="default: resources/icons")
    args = parser.parse_args(argv)
    svg: Path = args.svg
    out_dir: Path = args.out_dir

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # QPainter wants a GUI application
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"make_icons: error: {svg} is not a valid SVG", file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = {size: png_bytes(render(renderer, size)) for size in sorted({*PNG_SIZES, *ICO_SIZES})}
    for size in PNG_SIZES:
        path = out_dir / f"{NAME}-{size}.png"
        state = "wrote" if write_if_changed(path, pngs[size]) else "unchanged"
        print(f"{state:9} {path}")
    ico = out_dir / f"{NAME}.ico"
    state = "wrote" if write_if_changed(ico, ico_bytes({s: pngs[s] for s in ICO_SIZES})) else "unchanged"
    print(f"{state:9} {ico} ({', '.join(map(str, ICO_SIZES))} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
