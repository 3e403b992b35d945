"""``huggingface-sb3 push``: upload files as they are (3.0's ``push_to_hub``), leaving the model card alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_hub_options, add_output_options, formatter, report

DESCRIPTION = "Upload files to a repo as they are, in one commit each (the repo is created if missing)."
EXAMPLES = """\
examples:
  huggingface-sb3 push your-name/ppo-CartPole-v1 ppo-CartPole-v1.zip
  huggingface-sb3 push your-name/ppo-CartPole-v1 run/events.out.tfevents.1 --path-in-repo logs/events.out.tfevents.1
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``push`` to the root command."""
    parser = commands.add_parser(
        "push", help="upload files as they are", description=DESCRIPTION, epilog=EXAMPLES, formatter_class=formatter()
    )
    parser.add_argument("repo_id", help="namespace/name of the repo")
    parser.add_argument("files", nargs="+", type=Path, help="files to upload")
    parser.add_argument("--path-in-repo", help="where to put the file (one file only; default: its name)")
    parser.add_argument("--commit-message", help="commit title (default: 'Upload <file name>')")
    parser.add_argument("--revision", help="branch to commit to")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead")
    add_hub_options(parser)
    add_output_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Upload each file."""
    from ..errors import InvalidArgumentError
    from ..push_to_hub import push_to_hub

    if args.path_in_repo and len(args.files) > 1:
        raise InvalidArgumentError("--path-in-repo names one file; upload the files one at a time.")
    commits = [
        push_to_hub(
            args.repo_id,
            path,
            args.commit_message or f"Upload {path.name}",
            args.token,
            path_in_repo=args.path_in_repo,
            revision=args.revision,
            private=args.private,
            create_pr=args.create_pr,
            endpoint=args.endpoint,
        )
        for path in args.files
    ]
    report(
        args,
        [f"Uploaded {path} → {commit}" for path, commit in zip(args.files, commits, strict=True)],
        {"repo_id": args.repo_id, "commits": [str(commit) for commit in commits]},
    )
    return 0
