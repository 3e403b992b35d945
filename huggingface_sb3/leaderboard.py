"""A leaderboard of evaluated agents: what each card claims beside what was measured, as Markdown or HTML.

``huggingface-sb3 evaluate ... --leaderboard FILE`` writes one from its records (``.md`` or ``.html``, by the file's
suffix). Rows are sorted by env, then by measured mean reward (best first); sources that failed come last with their
error. The HTML page is self-contained (no script, no external resource) and escapes every value, since repo names
and error messages come from strangers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidArgumentError

if TYPE_CHECKING:
    from .bulk_evaluation import SourceEvaluation

__all__ = ["leaderboard_rows", "write_leaderboard"]

COLUMNS = ("repo", "algo", "env", "claimed", "measured", "verdict")
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#111827}table{border-collapse:collapse}"
    "th,td{border-bottom:1px solid #e5e7eb;padding:.35rem .7rem;text-align:left}th{color:#6b7280;font-weight:500}"
    ".holds{color:#047857}.fails{color:#b91c1c;font-weight:600}.error{color:#b91c1c}"
)


def leaderboard_rows(records: Iterable[SourceEvaluation]) -> list[tuple[str, ...]]:
    """One row of cells (:data:`COLUMNS`) per record, evaluated ones by env and best measured score first."""
    done = sorted(
        (record for record in records if record.error is None),
        key=lambda record: (record.env_id or "", -(record.mean_reward or 0.0), record.source),
    )
    failed = sorted((record for record in records if record.error is not None), key=lambda record: record.source)
    rows: list[tuple[str, ...]] = []
    for record in [*done, *failed]:
        claimed = f"{record.claimed[0]:.2f} +/- {record.claimed[1]:.2f}" if record.claimed else ""
        if record.error is not None:
            measured, verdict = "", f"error: {record.error}"
        else:
            measured = f"{record.mean_reward:.2f} +/- {record.std_reward:.2f}"
            verdict = {True: "holds", False: "does not hold", None: "no claim"}[record.claim_holds]
        rows.append((record.source, record.algo or "", record.env_id or "", claimed, measured, verdict))
    return rows


def write_leaderboard(records: Iterable[SourceEvaluation], path: Path) -> None:
    """Write the leaderboard of ``records`` to ``path`` (``.md`` or ``.html``)."""
    suffix = path.suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise InvalidArgumentError(f"--leaderboard {path}: name a .md or .html file.")
    rows = leaderboard_rows(list(records))
    text = _markdown(rows) if suffix == ".md" else _html(rows)
    path.write_text(text, encoding="utf-8")


def _markdown(rows: list[tuple[str, ...]]) -> str:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _html(rows: list[tuple[str, ...]]) -> str:
    def verdict_class(verdict: str) -> str:
        return {"holds": "holds", "does not hold": "fails"}.get(verdict, "error" if verdict.startswith("error") else "")

    head = "".join(f"<th>{name}</th>" for name in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row[:-1])
        + f'<td class="{verdict_class(row[-1])}">{html.escape(row[-1])}</td></tr>\n'
        for row in rows
    )  # fmt: skip
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>'
        f"<style>{_STYLE}</style></head>\n<body><h1>Leaderboard</h1>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table></body></html>\n"
    )
