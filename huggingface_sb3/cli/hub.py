"""``huggingface-sb3 hub serve``: run the local Hub in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ..errors import LocalHubError
from ..hub_server import HubConfig, TokenGrant
from ..hub_server._local_hub import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_USER,
    ENDPOINT_LINE_PREFIX,
    GRANTS_ENV,
    SERVER_OPTIONS,
    TOKEN_ENV,
    default_data_dir,
    generate_token,
    serve,
)

SERVE_EXAMPLES = """\
examples:
  huggingface-sb3 hub serve
  huggingface-sb3 hub serve --port 0 --data-dir ./hub-data --user alice --token my-secret
  huggingface-sb3 hub serve --grant read-secret:alice:read --grant bob-secret:bob

then, in another shell:
  export HF_ENDPOINT=http://127.0.0.1:8787 HF_TOKEN=<the printed token>
  hf upload alice/my-agent ./my-agent-folder
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``hub`` and its ``serve`` subcommand to the root parser's commands."""
    hub = commands.add_parser("hub", help="run a local Hugging Face Hub", description="Run a local Hugging Face Hub.")
    hub_commands = hub.add_subparsers(title="commands", metavar="COMMAND", required=True)
    serve = hub_commands.add_parser(
        "serve",
        help="serve a local Hub that huggingface_hub clients can push to and pull from",
        description=(
            "Serve a Hub-compatible HTTP API on this machine: repos, branches, tags, commits, uploads and "
            "downloads, stored as git repositories in a data directory that survives restarts. Point any "
            "huggingface_hub client at it with HF_ENDPOINT."
        ),
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where repos are stored (default: {default_data_dir()})",
    )
    serve.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV) or None,
        help=f"write token of --user (default: ${TOKEN_ENV}, else generated once and saved in the data dir)",
    )
    serve.add_argument("--user", default=DEFAULT_USER, help="user the token belongs to (default: %(default)s)")
    serve.add_argument(
        "--grant",
        action="append",
        default=os.environ.get(GRANTS_ENV, "").split(),
        metavar="TOKEN:USER[:read|write]",
        help=f"accept another token, for another user or read-only (repeatable; also ${GRANTS_ENV}, space-separated)",
    )
    serve.add_argument(
        "--upload-mode",
        choices=("regular", "lfs"),
        default="regular",
        help="regular: files inline in commits, works with every client (default); "
        "lfs: large and binary files through the LFS batch API, for clients with HF_HUB_DISABLE_XET=1",
    )
    _add_limits(serve)
    serve.add_argument("--quiet", action="store_true", help="do not log each request")
    serve.set_defaults(run=run_serve)


def _add_limits(serve: argparse.ArgumentParser) -> None:
    """The ``--max-*`` and ``--*-timeout`` options, which bound what one client can make the server hold."""
    limits = serve.add_argument_group("limits", "what one client may make the server hold (see HubConfig)")
    sizes = (
        ("--max-commit-bytes", HubConfig.max_commit_bytes, "largest commit body; inline files travel base64 in it"),
        ("--max-json-bytes", HubConfig.max_json_bytes, "largest JSON or form body of an API call"),
        ("--max-lfs-bytes", HubConfig.max_lfs_bytes, "largest LFS object the batch API accepts"),
        ("--max-card-bytes", HubConfig.max_card_bytes, "largest YAML metadata block of a model card that is read"),
    )
    for flag, default, text in sizes:
        limits.add_argument(flag, type=_positive_int, default=default, metavar="BYTES", help=_with_size(text, default))
    bounds: tuple[tuple[str, Callable[[str], float], float, str, str], ...] = (
        ("--max-files-per-commit", _positive_int, HubConfig.max_files_per_commit, "N",
         "most file operations one commit may carry (default: %(default)s)"),
        ("--max-connections", _positive_int, HubConfig.max_connections, "N",
         "most connections open at once; more are answered 503 (default: %(default)s)"),
        ("--header-timeout", _positive_seconds, HubConfig.header_timeout, "SECONDS",
         "time a client has to send a request's line and headers; then 408 (default: %(default)g)"),
        ("--body-timeout", _positive_seconds, HubConfig.body_timeout, "SECONDS",
         "time a request body may go without a byte arriving; then 408 (default: %(default)g)"),
    )  # fmt: skip
    for flag, kind, fallback, metavar, text in bounds:
        limits.add_argument(flag, type=kind, default=fallback, metavar=metavar, help=text)
    limits.add_argument(
        "--max-card-aliases", type=_positive_int, default=HubConfig.max_card_aliases, help=argparse.SUPPRESS
    )
    limits.add_argument("--page-size", type=_positive_int, default=HubConfig.page_size, help=argparse.SUPPRESS)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _with_size(text: str, default: int) -> str:
    """Help text ending in the default both in bytes and in the largest binary unit that divides it."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if default % factor == 0:
            return f"{text} (default: {default} = {default // factor} {unit})"
    return f"{text} (default: {default})"


def _role(text: str) -> Literal["read", "write"]:
    if text == "read":
        return "read"
    if text == "write":
        return "write"
    raise ValueError(f"role must be 'read' or 'write', not {text!r}")  # as TokenGrant says


def _parse_grant(text: str) -> TokenGrant:
    token, _, rest = text.partition(":")
    user, _, role = rest.partition(":")
    try:
        return TokenGrant(token, user, _role(role or "write"))
    except ValueError as error:
        raise LocalHubError(f"Invalid --grant {text!r}: {error}. Use TOKEN:USER or TOKEN:USER:read.") from None


def _token_for(data_dir: Path, given: str | None) -> tuple[str, bool]:
    """The token to use and whether it was generated here (then it is saved in the data dir for restarts)."""
    if given:
        return given, False
    saved = data_dir / "token"
    if saved.is_file():
        return saved.read_text("utf-8").strip(), False
    token = generate_token()
    descriptor = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token)
    return token, True


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; print the endpoint and the environment variables to export first."""
    data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        token, generated = _token_for(data_dir, args.token)
    except OSError as error:
        raise LocalHubError(
            f"Cannot use the data directory {data_dir}: {error}. Choose another with --data-dir."
        ) from None
    grants = (TokenGrant(token, args.user, "write"), *(_parse_grant(text) for text in args.grant))
    config = HubConfig(data_dir=data_dir, grants=grants, **{name: getattr(args, name) for name in SERVER_OPTIONS})
    token_note = (
        "generated, saved in the data dir" if generated else "as given" if args.token else "saved in the data dir"
    )

    def announce(endpoint: str) -> None:
        print(
            f"Local Hugging Face Hub serving {data_dir}\n"
            f"  endpoint: {endpoint}\n"
            f"  user:     {args.user} (write token, {token_note})\n"
            f"  uploads:  {args.upload_mode}\n"
            "Point huggingface_hub clients at it:\n"
            f"  {ENDPOINT_LINE_PREFIX}{endpoint}\n"
            f"  export HF_TOKEN={token}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )

    serve(config, host=args.host, port=args.port, verbose=not args.quiet, on_ready=announce)
    print("Local Hub stopped.", flush=True)
    return 0
