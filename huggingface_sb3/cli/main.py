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
from . import hub

EXAMPLES = """\
examples:
  huggingface-sb3 hub serve                      start the local Hub (prints HF_ENDPOINT and HF_TOKEN)
  huggingface-sb3 hub serve --port 0 --data-dir ./hub-data
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``huggingface-sb3`` and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="huggingface-sb3",
        description="Share Stable-Baselines3 agents on the Hugging Face Hub, and run a local Hub.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback when a command fails")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    hub.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``huggingface-sb3`` with ``argv`` (default: the process arguments) and return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except HuggingFaceSB3Error as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
