"""``load-from-hub`` (= ``huggingface-sb3 pull``): download an agent's files, or one file, at a revision."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_hub_options, add_output_options, formatter, report

DESCRIPTION = """\
Download a repo's agent files (the zip, the model card, results.json, config files and normalisation
statistics; not the video or logs) at a revision, into a folder or the Hugging Face cache, and print where
they are. With FILENAME, download only that file."""

EXAMPLES = """\
examples:
  load-from-hub sb3/ppo-CartPole-v1
  load-from-hub sb3/ppo-CartPole-v1 ppo-CartPole-v1.zip --revision main
  load-from-hub your-name/ppo-CartPole-v1 --local-dir ./agent --json
"""

AGENT_FILE_PATTERNS = ["*.zip", "*.json", "*.yml", "*.pkl", "README.md"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``load-from-hub``."""
    parser.add_argument("repo_id", help="namespace/name of the repo")
    parser.add_argument("filename", nargs="?", help="only this file")
    parser.add_argument("--revision", help="branch, tag or commit id (default: main)")
    parser.add_argument("--local-dir", type=Path, help="download into this folder (default: the cache)")
    add_hub_options(parser)
    add_output_options(parser)
    parser.set_defaults(run=run)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``pull`` to the root command."""
    parser = commands.add_parser(
        "pull", help="download an agent's files (= load-from-hub)",
        description=DESCRIPTION, epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Download and print the local paths."""
    from ..hub_access import check_repo_id, hub_errors
    from ..loading import load_from_hub

    if args.filename:
        if args.local_dir is not None:
            from huggingface_hub import hf_hub_download

            check_repo_id(args.repo_id, namespace_required=False)
            with hub_errors(args.repo_id, endpoint=args.endpoint, revision=args.revision, filename=args.filename):
                path = hf_hub_download(args.repo_id, args.filename, revision=args.revision, token=args.token,
                                       local_dir=args.local_dir, endpoint=args.endpoint)  # fmt: skip
        else:
            path = load_from_hub(args.repo_id, args.filename, revision=args.revision, token=args.token,
                                 endpoint=args.endpoint)  # fmt: skip
        report(args, [path], {"repo_id": args.repo_id, "files": [path]})
        return 0
    from huggingface_hub import snapshot_download

    check_repo_id(args.repo_id, namespace_required=False)
    with hub_errors(args.repo_id, endpoint=args.endpoint, revision=args.revision):
        folder = Path(
            snapshot_download(
                args.repo_id, revision=args.revision, token=args.token, endpoint=args.endpoint,
                local_dir=args.local_dir, allow_patterns=AGENT_FILE_PATTERNS,
            )
        )  # fmt: skip
    files = sorted(
        str(path) for path in folder.rglob("*") if path.is_file() and ".cache" not in path.relative_to(folder).parts
    )
    report(args, [f"Downloaded {args.repo_id} into {folder}", *(f"  {path}" for path in files)],
           {"repo_id": args.repo_id, "folder": str(folder), "files": files})  # fmt: skip
    return 0
