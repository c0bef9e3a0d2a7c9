"""What this build is and what it found on the machine: Help → About and ``market-monitor about``.
The facts a user pastes into a bug report, so each one says where it came from."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from app.resources import frozen, resource_dir


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def facts() -> dict[str, str]:
    """Version (from the package metadata, bundled into the binary), build, runtime and keyring."""
    from app import __version__
    from app.user.secret_store import backend_info
    from app.user.settings import config_dir

    info = {
        "version": __version__,
        "build": "PyInstaller bundle" if frozen() else "source",
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
    }
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        info["qt"] = f"{qVersion()} (PySide6 {PySide6.__version__})"
    except ImportError as exc:  # headless tools never need Qt; say why it is absent
        info["qt"] = f"unavailable: {exc}"
    for name in ("pyqtgraph", "qasync", "aiohttp", "keyring", "cryptography"):
        info[name] = package_version(name)
    try:
        backend = backend_info()
        info["keyring backend"] = backend.name + ("" if backend.usable else f" (unusable: {backend.reason})")
    except Exception as exc:  # a broken keyring configuration must not stop the About box
        info["keyring backend"] = f"error: {exc}"
    info["settings"] = str(config_dir())
    folder = resource_dir()
    info["resources"] = str(folder) if folder.is_dir() else f"{folder} (missing)"
    # Read now: a one-file binary's resources live in a folder that is removed when it exits.
    info["themes"] = ", ".join(sorted(p.stem for p in folder.glob("themes/*.json"))) or "none found"
    sizes = sorted(int(p.stem.rsplit("-", 1)[1]) for p in folder.glob("icons/market-monitor-*.png"))
    info["icon sizes"] = ", ".join(map(str, sizes)) or "none found"
    return info
