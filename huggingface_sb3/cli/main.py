"""``huggingface-sb3``: the root command, its subcommands, and how errors become exit codes.

Exit codes: 0 on success, 1 when the work failed (one line on stderr naming the cause and the fix;
``--debug`` adds the traceback), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..errors import HuggingFaceSB3Error
from . import card, evaluate, hub, package, preview, pull, push
from ._common import command_flags, command_line_message, formatter, progress_of

EXAMPLES = """\
examples:
  huggingface-sb3 package agent.zip --env-id CartPole-v1 --repo-id you/ppo-CartPole-v1   evaluate, film, card, push
  huggingface-sb3 pull sb3/ppo-CartPole-v1                          download an agent's files
  huggingface-sb3 evaluate sb3/ppo-CartPole-v1 --record replay.mp4  check the card's score (safely)
  huggingface-sb3 record sb3/ppo-CartPole-v1                        film a replay
  huggingface-sb3 push you/ppo-CartPole-v1 notes.md                 upload files as they are
  huggingface-sb3 card validate README.md                           can the leaderboard read it?
  huggingface-sb3 preview ./repo --open                             a repo folder's model page, before pushing
  huggingface-sb3 hub serve                                         run a local Hub

Set HF_TOKEN (or run `hf auth login`) to push to huggingface.co; set HF_ENDPOINT to use another Hub
(e.g. the local one). push-to-hub and load-from-hub are short names for `package` and `pull`.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``huggingface-sb3`` and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="huggingface-sb3",
        description="Share Stable-Baselines3 agents on the Hugging Face Hub, and run a local Hub.",
        epilog=EXAMPLES,
        formatter_class=formatter(),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback when a command fails")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in (package, pull, push, evaluate, card, preview, hub):
        command.register(commands)
    return parser


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    from ..progress import progress_enabled

    if not progress_enabled(progress_of(args)):
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    try:
        return args.run(args)
    except HuggingFaceSB3Error as error:
        if getattr(args, "debug", False):
            traceback.print_exc()
        flags = command_flags(parser, getattr(args, "run", None))
        print(f"error: {command_line_message(str(error), flags)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``huggingface-sb3`` with ``argv`` (default: the process arguments) and return the exit code."""
    return _run(build_parser(), argv)


def push_to_hub_main(argv: Sequence[str] | None = None) -> int:
    """The ``push-to-hub`` command (``huggingface-sb3 package``)."""
    parser = argparse.ArgumentParser(
        prog="push-to-hub", description=package.DESCRIPTION, epilog=package.EXAMPLES, formatter_class=formatter()
    )
    package.add_arguments(parser)
    return _run(parser, argv)


def load_from_hub_main(argv: Sequence[str] | None = None) -> int:
    """The ``load-from-hub`` command (``huggingface-sb3 pull``)."""
    parser = argparse.ArgumentParser(
        prog="load-from-hub", description=pull.DESCRIPTION, epilog=pull.EXAMPLES, formatter_class=formatter()
    )
    pull.add_arguments(parser)
    return _run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
