"""Times as the Hub writes them in JSON: ISO 8601 in UTC with milliseconds and a ``Z``."""

from __future__ import annotations

from datetime import datetime, timezone


def hub_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``2024-05-01T10:00:00.000Z``."""
    moment = moment if moment is not None else datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
