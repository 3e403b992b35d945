"""``huggingface-sb3 evaluate`` over many sources: positional sources, ``--author``, ``--sources-file``; serially or on
Ray; one JSON line per source in ``--output`` as each finishes; ``--resume``; ``--leaderboard``."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import looks_like_path, progress_of

if TYPE_CHECKING:
    from ..bulk_evaluation import SourceEvaluation

SINGLE_SOURCE_OPTIONS = (("record", "--record"), ("algo", "--algo"), ("env_id", "--env-id"), ("revision", "--revision"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose many sources and how to evaluate them."""
    group = parser.add_argument_group("many agents")
    group.add_argument("--author", help="every stable-baselines3 model repo of this user or organisation")
    group.add_argument("--sources-file", type=Path, help="a file with one repo id or path per line (# comments)")
    group.add_argument(
        "--backend", choices=("serial", "ray"), default="serial", help="how to run them (default: serial)"
    )
    group.add_argument("--workers", type=int, help="Ray workers (default: the CPU count); each uses one thread")
    group.add_argument("--ray-address", help="join this Ray cluster (default: start a local one with --workers CPUs)")
    group.add_argument("--output", type=Path, help="write one JSON object per source to this .jsonl, as each finishes")
    group.add_argument("--leaderboard", type=Path, help="write a table of claimed vs measured scores (.md or .html)")
    group.add_argument("--resume", action="store_true", help="skip sources --output already holds at the same commit")


def wants_many(args: argparse.Namespace) -> bool:
    """Whether the command evaluates a list of sources (anything but exactly one source and the default options)."""
    return (
        len(args.sources) != 1
        or any(getattr(args, name) for name in ("author", "sources_file", "output", "leaderboard", "resume"))
        or args.backend != "serial"
    )


def run_many(args: argparse.Namespace) -> int:
    """Evaluate every source; exit 1 when any failed."""
    from ..bulk_evaluation import evaluate_many
    from ..errors import InvalidArgumentError
    from ..leaderboard import write_leaderboard
    from ..progress import progress_enabled

    for name, flag in SINGLE_SOURCE_OPTIONS:
        if getattr(args, name, None) is not None:
            raise InvalidArgumentError(f"{flag} applies to one source; leave it out when evaluating several.")
    if args.resume and args.output is None:
        raise InvalidArgumentError("--resume needs --output, the .jsonl file of an earlier run.")
    if args.workers is not None and args.workers < 1:
        raise InvalidArgumentError(f"--workers must be at least 1, not {args.workers}.")
    sources = _sources(args)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    kept = _unchanged_records(args, sources) if args.resume else {}
    todo = [source for source in sources if source not in kept]
    deterministic = None if not (args.deterministic or args.stochastic) else not args.stochastic
    from tqdm.auto import tqdm

    records = list(kept.values())
    output_file = args.output.open("a" if args.resume else "w", encoding="utf-8") if args.output else nullcontext()
    with (
        output_file as output,
        tqdm(total=len(todo), unit="agent", disable=not progress_enabled(progress_of(args))) as bar,
    ):
        evaluations = evaluate_many(
            todo, backend=args.backend, workers=args.workers, ray_address=args.ray_address,
            n_eval_episodes=args.n_eval_episodes, seed=seed, deterministic=deterministic, token=args.token,
            endpoint=args.endpoint, trust_remote_code=args.trust_remote_code,
        )  # fmt: skip
        for record in evaluations:
            records.append(record)
            if output is not None:
                output.write(json.dumps(record.to_json()) + "\n")
                output.flush()
            bar.write(json.dumps(record.to_json()) if args.json else _line(record), file=sys.stdout)
            bar.update()
    if args.leaderboard is not None:
        write_leaderboard(records, args.leaderboard)
    fresh = records[len(kept) :]
    failed = sum(record.error is not None for record in fresh)
    summary = f"{len(fresh) - failed} evaluated, {failed} failed"
    summary += f", {len(kept)} kept from {args.output} (same commit)" if kept else ""
    if not args.json:
        print(f"{summary}; seed {seed}, {args.n_eval_episodes} episodes each.")
    return 1 if failed else 0


def _sources(args: argparse.Namespace) -> list[str]:
    """The positional sources, then the file's, then the author's repos, each once, in that order."""
    from ..bulk_evaluation import list_author_sources
    from ..errors import InvalidArgumentError, MissingFileError

    sources = list(args.sources)
    if args.sources_file is not None:
        if not args.sources_file.is_file():
            raise MissingFileError(f"--sources-file {args.sources_file} does not exist.")
        lines = args.sources_file.read_text(encoding="utf-8").splitlines()
        sources += [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
    if args.author:
        sources += list_author_sources(args.author, token=args.token, endpoint=args.endpoint)
    if not sources and args.sources_file is None and not args.author:
        args.usage_error("give a repo id or path to evaluate (or several, --sources-file or --author)")
    if not sources:
        raise InvalidArgumentError("Nothing to evaluate: the --sources-file is empty or --author has no agents.")
    return [str(Path(source).expanduser()) if looks_like_path(source) else source for source in dict.fromkeys(sources)]


def _unchanged_records(args: argparse.Namespace, sources: list[str]) -> dict[str, SourceEvaluation]:
    """Records of ``--output`` for sources still at the commit they were evaluated at (failed ones are redone)."""
    from ..bulk_evaluation import SourceEvaluation
    from ..errors import CorruptArtifactError

    if not args.output.is_file():
        return {}
    previous: dict[str, SourceEvaluation] = {}
    for number, line in enumerate(args.output.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = SourceEvaluation.from_json(json.loads(line))
        except (ValueError, TypeError, KeyError) as error:
            raise CorruptArtifactError(
                f"{args.output}, line {number}, is not a record of this command ({error}); pass another --output."
            ) from None
        previous[record.source] = record
    wanted = set(sources)
    return {
        source: record
        for source, record in previous.items()
        if source in wanted and record.error is None and record.revision == _current_revision(args, source)
    }


def _current_revision(args: argparse.Namespace, source: str) -> str | None:
    """The commit a repo's ``main`` is at (None for a local path, or when the Hub cannot tell)."""
    from ..errors import HuggingFaceSB3Error
    from ..hub_access import hub_api, hub_errors

    if looks_like_path(source):
        return None
    try:
        with hub_errors(source, endpoint=args.endpoint):
            return hub_api(args.token, args.endpoint).model_info(source).sha
    except HuggingFaceSB3Error:
        return None


def _line(record: SourceEvaluation) -> str:
    """One line per source for people: the measure beside the claim, or the error."""
    where = f"{record.source} @ {record.revision[:12]}" if record.revision else record.source
    if record.error is not None:
        return f"FAILED {where}: {record.error}"
    claim = "no claim"
    if record.claimed is not None:
        claim = f"claims {record.claimed[0]:.2f} +/- {record.claimed[1]:.2f}: {'holds' if record.claim_holds else 'does NOT hold'}"
    return f"ok     {where}: {record.algo} on {record.env_id}, {record.mean_reward:.2f} ± {record.std_reward:.2f} ({claim})"
