"""``huggingface-sb3 preview DIR``: the model page of a repo folder, before pushing it anywhere.

The folder (for example what ``package_to_hub(..., push=False, local_dir=DIR)`` or ``push-to-hub --dry-run``
wrote) is committed to a local Hub in a temporary data directory, which then serves the very page the Hub shows
after a push: the card, the claimed score, the replay playing, the files.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ._common import formatter

DESCRIPTION = """\
Show the model page of a repo folder in a browser, as it will look once pushed: the rendered card, the score it
claims, the replay video and the files. Serves until Ctrl-C; nothing leaves this machine."""

EXAMPLES = """\
examples:
  push-to-hub agent.zip --env-id CartPole-v1 --repo-id you/ppo-CartPole-v1 --dry-run --local-dir ./repo
  huggingface-sb3 preview ./repo --open
"""
IGNORED = [".git/*", "**/.git/*", "**/__pycache__/*", "**/.DS_Store"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``preview`` to the root command."""
    parser = commands.add_parser(
        "preview", help="show a repo folder's model page in a browser, before pushing",
        description=DESCRIPTION, epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    parser.add_argument("folder", type=Path, help="the repo folder (e.g. a dry run's --local-dir)")
    parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Commit the folder to a temporary local Hub, print the page's URL and serve until Ctrl-C."""
    import tempfile
    import webbrowser

    from huggingface_hub import HfApi

    from ..errors import InvalidArgumentError, MissingFileError
    from ..hub_access import hub_errors
    from ..hub_server import LocalHub
    from ..hub_target import serve_until_interrupted

    folder: Path = args.folder.expanduser().resolve()
    if not folder.is_dir():
        raise MissingFileError(
            f"The folder {args.folder} does not exist. Give a repo folder, e.g. a dry run's --local-dir."
        )
    if not any(path.is_file() for path in folder.iterdir()):
        raise InvalidArgumentError(f"The folder {args.folder} holds no file to preview.")
    repo_id = _card_repo_id(folder) or f"local-user/{_repo_name(folder.name)}"
    with (
        tempfile.TemporaryDirectory(prefix="huggingface-sb3-preview-") as data_dir,
        LocalHub(data_dir, port=args.port, user=repo_id.split("/")[0]) as hub,
    ):
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        with hub_errors(repo_id, endpoint=hub.endpoint):
            api.create_repo(repo_id)
            api.upload_folder(
                repo_id=repo_id, folder_path=folder, commit_message=f"Preview of {folder}", ignore_patterns=IGNORED
            )
        url = f"{hub.endpoint}/{repo_id}"
        print(f"Previewing {folder} as {repo_id}.", flush=True)
        if args.open:
            webbrowser.open(url)
        serve_until_interrupted(url)
    return 0


def _card_repo_id(folder: Path) -> str | None:
    """The repo the folder's card was written for (its replay's URL names it), so that the page shows as it will
    once pushed there; None without such a card."""
    from ..errors import InvalidRepoIdError
    from ..hub_access import check_repo_id

    readme = folder / "README.md"
    if not readme.is_file() or readme.stat().st_size > 1024 * 1024:
        return None
    found = _CARD_REPLAY.search(readme.read_text(encoding="utf-8", errors="replace"))
    if found is None:
        return None
    try:
        return check_repo_id(found["repo_id"])
    except InvalidRepoIdError:
        return None


_CARD_REPLAY = re.compile(r'<video[^>]*\ssrc="[a-z]+://[^/"]+/(?P<repo_id>[^/"]+/[^/"]+)/resolve/')


def _repo_name(folder_name: str) -> str:
    """A repo name the Hub accepts, made from a folder's name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder_name)
    name = re.sub(r"([-.])[-.]+", r"\1", name).strip("-.")[:96].strip("-.")
    return name.removesuffix(".git") or "preview"
