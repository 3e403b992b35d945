"""Options and output shared by the commands: Hub options, ``--json``/``--quiet``/``--debug``, and printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any


def add_hub_options(parser: argparse.ArgumentParser) -> None:
    """``--token`` and ``--endpoint`` (both also read from ``HF_TOKEN`` and ``HF_ENDPOINT``)."""
    group = parser.add_argument_group("Hub")
    group.add_argument("--token", help="Hugging Face token (default: $HF_TOKEN or the saved `hf auth login`)")
    group.add_argument("--endpoint", help="Hub URL (default: $HF_ENDPOINT, else https://huggingface.co)")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--quiet`` and ``--debug``."""
    group = parser.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print the result as one JSON object")
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    group.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback when it fails"
    )


def report(args: argparse.Namespace, lines: Iterable[str], payload: dict[str, Any]) -> None:
    """Print the result: ``payload`` as JSON with ``--json``, else ``lines``."""
    if args.json:
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        for line in lines:
            print(line)


def formatter() -> type[argparse.HelpFormatter]:
    """The help formatter of every command (keeps the examples' layout)."""
    return argparse.RawDescriptionHelpFormatter
