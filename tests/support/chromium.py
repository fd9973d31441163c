"""Debian's Chromium, driven by Playwright, for browser tests.

Playwright's own browser download is not used: ``launch()`` points it at the
system Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``).  The flags let it
run headless as root and keep it from reaching for the network on its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "LAUNCH_ARGS",
    "chromium_available",
    "chromium_path",
    "launch",
    "launch_args",
    "test_output_dir",
]

DEFAULT_CHROMIUM = "/usr/bin/chromium"

LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_path() -> str:
    """Path of the Chromium executable: ``$CHROMIUM`` or ``/usr/bin/chromium``."""
    override = os.environ.get("CHROMIUM")
    if override:
        return shutil.which(override) or override
    return DEFAULT_CHROMIUM


def chromium_available() -> bool:
    path = chromium_path()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def launch_args() -> list[str]:
    """Command-line flags for headless Chromium, as root, with no outside network."""
    return list(LAUNCH_ARGS)


def launch(playwright: Any, **kwargs: Any) -> Any:
    """Launch the system Chromium through a (sync or async) Playwright object.

    Extra keyword arguments go to ``playwright.chromium.launch``.
    """
    options: dict[str, Any] = {
        "executable_path": chromium_path(),
        "args": launch_args(),
        "headless": True,
    }
    extra_args = kwargs.pop("args", None)
    if extra_args:
        options["args"] = [*options["args"], *extra_args]
    options.update(kwargs)
    return playwright.chromium.launch(**options)


def test_output_dir(*parts: str) -> Path:
    """``$KAP12_TEST_OUTPUT`` (default ``test-output``) / *parts*, created."""
    path = Path(os.environ.get("KAP12_TEST_OUTPUT") or "test-output", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


# Not a test, whatever its name says.
test_output_dir.__test__ = False  # type: ignore[attr-defined]
