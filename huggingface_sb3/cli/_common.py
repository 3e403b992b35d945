"""Options and output shared by the commands: Hub options, ``--json``/``--quiet``/``--debug``, and printing."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def add_hub_options(parser: argparse.ArgumentParser) -> None:
    """``--token`` and ``--endpoint`` (both also read from ``HF_TOKEN`` and ``HF_ENDPOINT``)."""
    group = parser.add_argument_group("Hub")
    group.add_argument("--token", help="Hugging Face token (default: $HF_TOKEN or the saved `hf auth login`)")
    group.add_argument("--endpoint", help="Hub URL (default: $HF_ENDPOINT, else https://huggingface.co)")


def progress_of(args: argparse.Namespace) -> bool | None:
    """The ``progress`` a command passes on: none with ``--quiet`` or ``--json``, else bars on a terminal only."""
    return False if getattr(args, "quiet", False) or getattr(args, "json", False) else None


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--quiet`` and ``--debug``."""
    group = parser.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print the result as one JSON object")
    group.add_argument("--quiet", action="store_true", help="no progress bars (they show only on a terminal anyway)")
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


# The one place where the package's Python advice becomes command-line advice. Messages name the fix as the
# keyword argument of the Python call (``pass token=...``); the command line phrases it with the flag of the
# command that failed (``pass --token``), and drops a sentence whose fix that command has no flag for.
_PYTHON_ADVICE = re.compile(
    r"\b(?P<name>token|push|local_dir|env_id|algo|model_architecture|video|trust_remote_code)="
    r"(?P<value>\.\.\.|True|False|'[^']*')?"
)
# A parenthesised alternative, "(or env=...)": kept (as the flag) when the command has one, else left out.
_ADVICE_ASIDE = re.compile(r"\s*\((?P<or>or\s+)?(?P<name>\w+)=(?P<value>\.\.\.|True|False|'[^']*')?\)")
# (keyword, value) -> the flags that give that fix, by argparse dest, first one the command has wins, with how
# to phrase it ("{flag}" is the flag); None as value: any value (the flag takes it).
_FLAG_OF_ADVICE: dict[tuple[str, str | None], tuple[tuple[str, str], ...]] = {
    ("token", None): (("token", "{flag}"),),
    ("push", "False"): (("dry_run", "{flag}"),),
    ("local_dir", None): (("local_dir", "{flag}"),),
    ("env_id", None): (("env_id", "{flag}"),),
    ("algo", None): (("algo", "{flag}"),),
    ("model_architecture", None): (("algo", "{flag}"),),
    ("video", "False"): (("no_video", "{flag}"), ("record", "leave out {flag}")),
    ("trust_remote_code", "True"): (("trust_remote_code", "{flag}"),),
}
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z(`'])")


def _flag_phrase(name: str, value: str | None, flags: dict[str, str]) -> str | None:
    """The command-line phrasing of the Python advice ``name=value`` (None if the command has no flag for it)."""
    for dest, template in _FLAG_OF_ADVICE.get((name, value)) or _FLAG_OF_ADVICE.get((name, None)) or ():
        if dest in flags:
            phrase = template.format(flag=flags[dest])
            if (name, None) in _FLAG_OF_ADVICE and value and value.startswith("'"):
                return f"{phrase} {value.strip(chr(39))}"
            return phrase
    return None


def looks_like_path(source: str) -> bool:
    """Whether a command's source argument names a local path rather than a repo id: it starts with ``./``,
    ``../``, ``/`` or ``~``, ends with ``.zip`` or ``.md``, or exists."""
    return (
        source.startswith(("./", "../", "/", "~", ".\\", "..\\"))
        or source.lower().endswith((".zip", ".md"))
        or Path(source).exists()
    )


def command_flags(parser: argparse.ArgumentParser, run: object) -> dict[str, str]:
    """The flags (by argparse dest) of the (sub)command whose ``run`` default is ``run``."""
    chosen = _command_parser(parser, run) or parser
    return {
        action.dest: max(action.option_strings, key=len)
        for action in chosen._actions
        if action.option_strings and action.option_strings[0].startswith("--")
    }


def _command_parser(parser: argparse.ArgumentParser, run: object) -> argparse.ArgumentParser | None:
    if run is not None and parser.get_default("run") is run:
        return parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found = _command_parser(sub, run)
                if found is not None:
                    return found
    return None


def command_line_message(message: str, flags: dict[str, str]) -> str:
    """``message`` on one line, its Python advice phrased with ``flags`` (dest -> flag) of the current command."""

    def aside(match: re.Match[str]) -> str:
        phrase = _flag_phrase(match["name"], match["value"], flags)
        return f" ({match['or'] or ''}{phrase})" if phrase else ""

    sentences = []
    for sentence in _SENTENCE_END.split(_ADVICE_ASIDE.sub(aside, " ".join(message.split()))):
        missing = False

        def to_flag(match: re.Match[str]) -> str:
            nonlocal missing
            phrase = _flag_phrase(match["name"], match["value"], flags)
            if phrase is None:
                missing = True
                return match[0]
            return phrase

        phrased = _PYTHON_ADVICE.sub(to_flag, sentence)
        if not missing:
            sentences.append(phrased)
    return " ".join(sentences) if sentences else " ".join(message.split())
