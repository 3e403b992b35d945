"""A real browser for the tests: the system's Chromium driven by Playwright (its own browser download is not needed).

The fixtures are re-exported by ``tests/conftest.py``:

    chromium: one headless Chromium (a Playwright ``Browser``) for the session, launched on first use and closed
        at the end. The tests that use it skip, saying how to enable them, when Playwright or the binary is missing.
    console_errors: the log of the test's console errors and uncaught page errors; ``ignore(pattern)`` tolerates
        the messages a test expects (e.g. Content Security Policy reports).
    page: a fresh page in a fresh browser context (no cookies shared between tests). The test fails at teardown,
        listing them, when the page logged a console error or raised an uncaught error that was not ignored.
    screenshot: ``screenshot(page, name)`` saves a full-page PNG to ``$HF_SB3_SCREENSHOTS`` (when set) or to the
        test's tmp_path, and returns its path.

The binary is ``$HF_SB3_CHROMIUM`` when set, else the first of chromium, chromium-browser, google-chrome on PATH.
Nothing here imports ``huggingface_hub`` (conftest.py imports this module before the local Hub's plugin runs) nor
Playwright at import time (a missing Playwright skips the tests instead of breaking collection).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page

CHROMIUM_ENV = "HF_SB3_CHROMIUM"
SCREENSHOTS_ENV = "HF_SB3_SCREENSHOTS"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DEFAULT_TIMEOUT_MS = 15_000  # every Playwright wait of a test; each test stays well under pytest's 30 s budget
HOW_TO_ENABLE = (
    "install Chromium (`apt-get install chromium`, or point HF_SB3_CHROMIUM at a Chromium/Chrome binary) and "
    'Playwright (`pip install -e ".[test]"`)'
)


def chromium_executable() -> str | None:
    """The Chromium binary to drive: ``$HF_SB3_CHROMIUM`` (a path or a command name), else the first on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_args() -> list[str]:
    """Command-line switches for Chromium in a container or CI runner (no sandbox as root, small /dev/shm)."""
    args = ["--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return args


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the session; the tests skip, saying how to enable them, without one."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"browser tests need Playwright for Python: {HOW_TO_ENABLE}")
    executable = chromium_executable()
    if executable is None:
        configured = os.environ.get(CHROMIUM_ENV)
        missing = f"${CHROMIUM_ENV}={configured!r} is no executable" if configured else "none on PATH"
        pytest.skip(f"browser tests need a Chromium binary ({missing}): {HOW_TO_ENABLE}")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=chromium_args())
    except Exception:
        playwright.stop()
        raise
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


@dataclass
class ConsoleErrors:
    """What a page logged as errors: console messages of type ``error`` and uncaught exceptions."""

    messages: list[str] = field(default_factory=list)
    ignored: list[re.Pattern[str]] = field(default_factory=list)

    def ignore(self, pattern: str) -> None:
        """Tolerate the messages this regular expression finds (``re.search``) for the rest of the test."""
        self.ignored.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url") or ""
            self.messages.append(f"console error: {message.text}" + (f" (at {url})" if url else ""))

    def on_page_error(self, error: Error) -> None:
        self.messages.append(f"page error: {error.name}: {error.message}")

    def unexpected(self) -> list[str]:
        """The messages no ``ignore`` pattern matches."""
        return [text for text in self.messages if not any(pattern.search(text) for pattern in self.ignored)]


@pytest.fixture
def console_errors() -> ConsoleErrors:
    """The current test's page errors (``page`` fills it); call ``ignore`` for the ones the test expects."""
    return ConsoleErrors()


@pytest.fixture
def page(chromium: Browser, console_errors: ConsoleErrors) -> Iterator[Page]:
    """A page in a fresh context; the test fails at teardown if it logged an error the test did not ignore."""
    context = chromium.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    opened = context.new_page()
    opened.on("console", console_errors.on_console)
    opened.on("pageerror", console_errors.on_page_error)
    try:
        yield opened
    finally:
        context.close()  # after the last events are delivered
    unexpected = console_errors.unexpected()
    if unexpected:
        pytest.fail(
            f"the page logged {len(unexpected)} error(s):\n" + "\n".join(f"  - {text}" for text in unexpected),
            pytrace=False,
        )


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[..., Path]:
    """``screenshot(page, name)``: a full-page PNG in ``$HF_SB3_SCREENSHOTS`` (created) or tmp_path; its path."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(configured) if configured else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def save(target: Page, name: str, **options: Any) -> Path:
        path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name)}.png"
        target.screenshot(path=str(path), full_page=True, **options)
        return path

    return save
