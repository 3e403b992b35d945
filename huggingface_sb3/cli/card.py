"""``huggingface-sb3 card``: write (or refresh) a model card from ``results.json`` and the zip, or validate one."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_hub_options, add_output_options, formatter, looks_like_path, report

EXAMPLES = """\
examples:
  huggingface-sb3 card write ./my-agent-repo --repo-id your-name/ppo-CartPole-v1
  huggingface-sb3 card validate ./my-agent-repo/README.md
  huggingface-sb3 card validate sb3/ppo-CartPole-v1
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``card write`` and ``card validate`` to the root command."""
    card = commands.add_parser(
        "card", help="write or validate a model card", description="Write or validate a model card.",
        epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    actions = card.add_subparsers(title="commands", metavar="COMMAND", required=True)
    write = actions.add_parser(
        "write",
        help="write README.md in a repo folder from its results.json and zip (existing prose is kept)",
        description="Write README.md in a repo folder (as package_to_hub builds it) from its results.json and "
        "agent zip; an existing README keeps its prose and gets fresh metadata.",
        epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    write.add_argument("folder", type=Path, help="the repo folder (with results.json and the agent's zip)")
    write.add_argument("--repo-id", required=True, help="namespace/name the card will live in (for its usage code)")
    write.add_argument("--env-id", help="environment id (default: from results.json)")
    write.add_argument("--algo", help="algorithm (default: from results.json or the zip)")
    write.add_argument("--tags", nargs="*", default=[], help="more tags")
    write.add_argument("--license", help="license, e.g. mit")
    add_hub_options(write)
    add_output_options(write)
    write.set_defaults(run=run_write)
    validate = actions.add_parser(
        "validate",
        help="check that the Deep RL leaderboard and the RL Zoo can read a card",
        description="Check a README.md (a file, or a repo's) for what the Deep RL leaderboard and the RL Zoo "
        "read: library_name, the env id tag, and one model-index result with a 'mean +/- std' mean_reward.",
        epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    validate.add_argument("source", help="a README.md file, or a repo id")
    validate.add_argument("--revision", help="revision of the repo (default: main)")
    add_hub_options(validate)
    add_output_options(validate)
    validate.set_defaults(run=run_validate)


def run_write(args: argparse.Namespace) -> int:
    """Build the card's facts from the folder and write README.md."""
    from ..card import render_card
    from ..card_facts import read_card_facts
    from ..model_files import README

    folder: Path = args.folder
    facts = read_card_facts(folder, repo_id=args.repo_id, endpoint=args.endpoint, env_id=args.env_id, algo=args.algo)
    readme = folder / README
    existing = readme.read_text(encoding="utf-8") if readme.is_file() else None
    readme.write_text(render_card(facts, existing=existing, tags=args.tags, license=args.license), encoding="utf-8")
    report(args, [f"Wrote {readme}"], {"readme": str(readme)})
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Print the problems of a card (exit code 1 if there are any)."""
    from ..card import leaderboard_problems
    from ..errors import MissingFileError
    from ..loading import load_from_hub

    if looks_like_path(args.source):
        path = Path(args.source).expanduser()
        path = path / "README.md" if path.is_dir() else path
        if not path.is_file():
            raise MissingFileError(
                f"The local file {path} does not exist. Give a README.md file, or a repo id such as "
                "'sb3/ppo-CartPole-v1'."
            )
    else:
        path = Path(
            load_from_hub(args.source, "README.md", revision=args.revision, token=args.token, endpoint=args.endpoint)
        )
    problems = leaderboard_problems(path.read_text(encoding="utf-8"))
    lines = [f"{args.source}: the Deep RL leaderboard and the RL Zoo can read this card."] if not problems else [
        f"{args.source}: {len(problems)} problem(s):", *(f"  - {problem}" for problem in problems)
    ]  # fmt: skip
    report(args, lines, {"source": args.source, "valid": not problems, "problems": problems})
    return 1 if problems else 0
