"""What the web pages show, read from the same storage the API serves (no second copy of any data).

Each function gathers one page's facts into a frozen view that the templates only format. Reading a card costs a
page what it costs the API: the same bounded YAML reader, and the one reader of the score a card claims.
Index rows and rendered cards are cached by what makes them (a repo's head commit, a README's blob id), so a page
never shows stale data and a busy index does not re-read every card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from ..card_claim import CardClaim, read_claim
from ..card_metadata import MetadataLimits
from ..model_files import README, REPLAY
from ._auth import TokenGrant
from ._call import HubState
from ._card_html import CardLinks, CardView, card_view
from ._errors import entry_not_found, revision_not_found
from ._gitrepo import DEFAULT_BRANCH, CommitRecord, FileChange, FileEntry, FolderEntry
from ._handlers_repos import card_limits, readme_metadata
from ._lru import Lru
from ._storage import RepoHandle, RepoMeta

MAX_README_BYTES = 4 * 1024 * 1024
"""A README larger than this is not rendered (the page says so): the card reader cuts far earlier anyway."""
MAX_TEXT_BYTES = 1024 * 1024
"""A file larger than this (or not UTF-8 text) is offered as a download rather than shown."""
COMMITS_PER_PAGE = 50


@dataclass(frozen=True)
class RepoRow:
    """One line of the index: a model repo and the score its card claims at the head of ``main``."""

    repo_id: str
    private: bool
    claim: CardClaim | None
    updated: datetime


@dataclass(frozen=True)
class RepoAt:
    """A readable repo at one revision: the name asked for and the commit it resolved to."""

    meta: RepoMeta
    revision: str
    commit_id: str


@dataclass(frozen=True)
class ModelPage:
    """The model page: the card, its claimed score, the replay (``video_path``, unless the card embeds it), the
    top-level files and the latest commit."""

    repo: RepoAt
    card: CardView | None
    card_note: str | None
    claim: CardClaim | None
    tags: tuple[str, ...]
    video_path: str | None
    entries: tuple[FileEntry | FolderEntry, ...]
    latest: CommitRecord


@dataclass(frozen=True)
class TreePage:
    """A folder's entries at a revision."""

    repo: RepoAt
    path: str
    entries: tuple[FileEntry | FolderEntry, ...]


@dataclass(frozen=True)
class BlobPage:
    """One file at a revision: its text when it is small UTF-8 text, else only its facts (and a download link)."""

    repo: RepoAt
    entry: FileEntry
    text: str | None


@dataclass(frozen=True)
class CommitsPage:
    """A page of a revision's history, newest first."""

    repo: RepoAt
    commits: tuple[CommitRecord, ...]
    page: int
    has_next: bool


@dataclass(frozen=True)
class CommitPage:
    """One commit: its message, parents and the files it changed."""

    repo: RepoAt
    commit: CommitRecord
    parents: tuple[str, ...]
    changes: tuple[FileChange, ...]


_ROWS: Lru[tuple[str, str], RepoRow] = Lru(capacity=16384)
_CARD_VIEWS: Lru[tuple[str, MetadataLimits, CardLinks | None], CardView] = Lru(capacity=64)


def index_rows(state: HubState, grant: TokenGrant | None) -> list[RepoRow]:
    """The model repos ``grant`` may see that have a ``main`` branch, in storage order.

    A row is cached by its repo's head commit, which is read without opening the repo when it can be.
    """
    rows = []
    for meta, head in state.storage.iter_branch_heads("model", DEFAULT_BRANCH):
        if meta.private and (grant is None or grant.user != meta.owner):
            continue
        row = _ROWS.peek((meta.repo_id, head)) if head is not None else None
        if row is None:
            row = _fresh_row(state, meta)
            if row is None:
                continue
        rows.append(row if row.private == meta.private else RepoRow(row.repo_id, meta.private, row.claim, row.updated))
    return rows


def _fresh_row(state: HubState, meta: RepoMeta) -> RepoRow | None:
    """Open the repo and make (and cache) its row; None when it has no ``main`` branch."""
    handle = state.storage.open(meta.repo_type, meta.namespace, meta.name)
    if handle is None:
        return None
    with handle:
        resolved = handle.git.resolve(DEFAULT_BRANCH)
        if resolved is None:
            return None
        head = resolved[0]
        return _ROWS.get((meta.repo_id, head), partial(_row, state, handle, head))


def _row(state: HubState, handle: RepoHandle, head: str) -> RepoRow:
    """The index row at ``head``: only the card's metadata is read (as the API's listings read it), not rendered."""
    readme = handle.git.entry(head, README)
    wanted = isinstance(readme, FileEntry) and readme.size <= MAX_README_BYTES
    metadata = readme_metadata(state.config, handle, readme if isinstance(readme, FileEntry) and wanted else None)
    return RepoRow(handle.meta.repo_id, handle.meta.private, read_claim(metadata), handle.git.commit_date(head))


def _card(state: HubState, handle: RepoHandle, readme: FileEntry, links: CardLinks | None = None) -> CardView:
    """The README rendered (cached by blob id and links); an LFS or oversized README renders as an empty card."""
    limits = card_limits(state.config)
    if readme.lfs is not None or readme.size > MAX_README_BYTES:
        return card_view("", limits)
    return _CARD_VIEWS.get(
        (readme.blob_id, limits, links),
        lambda: card_view(handle.git.read_blob(readme.blob_id).decode("utf-8", "replace"), limits, links),
    )


def at_revision(handle: RepoHandle, revision: str) -> RepoAt:
    """The repo at a branch, tag, ``refs/...`` name or commit id (404 when there is none)."""
    resolved = handle.git.resolve(revision)
    if resolved is None:
        raise revision_not_found(revision, handle.meta.repo_id)
    return RepoAt(handle.meta, revision, resolved[0])


def model_page(state: HubState, handle: RepoHandle) -> ModelPage:
    """The model page of the repo's ``main`` branch."""
    repo = at_revision(handle, DEFAULT_BRANCH)
    entries = tuple(handle.git.list_folder(repo.commit_id, "", recursive=False))
    by_path = {entry.path: entry for entry in entries}
    readme = by_path.get(README)
    card, note = None, None
    if isinstance(readme, FileEntry):
        card = _card(state, handle, readme, CardLinks(repo.meta.repo_id, repo.commit_id))
        if readme.lfs is not None or readme.size > MAX_README_BYTES:
            note = f"The model card is {readme.size:,} bytes: too large to show here."
    metadata = card.metadata if card is not None else {}
    video = by_path.get(REPLAY)
    return ModelPage(
        repo=repo,
        card=card,
        card_note=note,
        claim=read_claim(metadata),
        tags=card.tags if card is not None else (),
        video_path=REPLAY if isinstance(video, FileEntry) and not _plays_own_video(card, repo.meta.repo_id) else None,
        entries=entries,
        latest=next(handle.git.history(repo.commit_id)),
    )


def _plays_own_video(card: CardView | None, repo_id: str) -> bool:
    """Whether the rendered card embeds a video of the repo's own files (then the page shows no second copy of the
    replay; a video from elsewhere does not count, as the page's policy does not load it)."""
    return card is not None and re.search(rf'<video[^>]*\ssrc="/{re.escape(repo_id)}/resolve/', card.html) is not None


def tree_page(handle: RepoHandle, revision: str, path: str) -> TreePage:
    """A folder at a revision (404 when the path is not a folder there)."""
    repo = at_revision(handle, revision)
    folder = handle.git.entry(repo.commit_id, path)
    if not isinstance(folder, FolderEntry):
        raise entry_not_found(path, revision, commit_id=repo.commit_id)
    return TreePage(repo, path, tuple(handle.git.list_folder(repo.commit_id, path, recursive=False)))


def blob_page(handle: RepoHandle, revision: str, path: str) -> BlobPage:
    """A file at a revision (404 when the path is not a file there)."""
    repo = at_revision(handle, revision)
    entry = handle.git.entry(repo.commit_id, path)
    if not isinstance(entry, FileEntry):
        raise entry_not_found(path, revision, commit_id=repo.commit_id)
    text = None
    if entry.lfs is None and entry.size <= MAX_TEXT_BYTES:
        data = handle.git.read_blob(entry.blob_id)
        try:
            text = data.decode("utf-8") if b"\0" not in data else None
        except UnicodeDecodeError:
            text = None
    return BlobPage(repo, entry, text)


def commits_page(handle: RepoHandle, revision: str, page: int) -> CommitsPage:
    """Page ``page`` (from 0) of the history of a revision."""
    repo = at_revision(handle, revision)
    history = handle.git.history(repo.commit_id)
    skipped = page * COMMITS_PER_PAGE
    commits: list[CommitRecord] = []
    for index, record in enumerate(history):
        if index >= skipped + COMMITS_PER_PAGE:
            return CommitsPage(repo, tuple(commits), page, has_next=True)
        if index >= skipped:
            commits.append(record)
    return CommitsPage(repo, tuple(commits), page, has_next=False)


def commit_page(handle: RepoHandle, commit_id: str) -> CommitPage:
    """A commit by id (404 when the repo has no such commit)."""
    repo = at_revision(handle, commit_id)
    return CommitPage(
        repo=repo,
        commit=next(handle.git.history(repo.commit_id)),
        parents=handle.git.parents(repo.commit_id),
        changes=tuple(handle.git.changes(repo.commit_id)),
    )
