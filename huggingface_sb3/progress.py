"""When to draw progress bars: only where a person watches them.

A bar redrawn on a terminal is useful; the same bar written to a log file or a CI capture is a wall of carriage
returns and escape codes. ``progress=None`` (the default of the public functions that take it) therefore means
"on a terminal or in a notebook, else off".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hub_progress_bars", "progress_enabled"]


def progress_enabled(progress: bool | None) -> bool:
    """Whether to draw bars: ``progress`` when given, else whether stderr is a terminal or this runs in a notebook."""
    if progress is not None:
        return progress
    if sys.stderr is not None and sys.stderr.isatty():
        return True
    if "IPython" not in sys.modules:  # no notebook without IPython (and no need to import huggingface_hub)
        return False
    from huggingface_hub.utils import is_notebook

    return is_notebook()


@contextmanager
def hub_progress_bars(enabled: bool) -> Iterator[None]:
    """Within the block, huggingface_hub draws its upload and download bars only when ``enabled``.

    huggingface_hub's switch is process-wide, so it is restored on exit, and left alone when the user (or
    ``HF_HUB_DISABLE_PROGRESS_BARS``) already turned the bars off.
    """
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    if enabled or are_progress_bars_disabled():
        yield
        return
    disable_progress_bars()
    try:
        yield
    finally:
        enable_progress_bars()
