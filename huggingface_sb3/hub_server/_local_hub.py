"""Running the local Hub: in a background thread or a subprocess (:class:`LocalHub`), or in the foreground
(:func:`serve`, behind ``huggingface-sb3 hub serve``)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from ..errors import LocalHubError
from ._app import HubApp
from ._auth import TokenGrant
from ._call import HubConfig, UploadMode
from ._transport import TransportLimits, fit_open_file_limit, guarded_protocol

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_USER = "local-user"
ENDPOINT_LINE_PREFIX = "export HF_ENDPOINT="
TOKEN_ENV = "HF_SB3_HUB_TOKEN"
"""Environment variable ``hub serve`` reads its write token from when ``--token`` is not given."""
GRANTS_ENV = "HF_SB3_HUB_GRANTS"
"""Environment variable with more ``TOKEN:USER[:ROLE]`` grants, separated by spaces."""
_START_TIMEOUT_SECONDS = 30.0
SERVER_OPTIONS = (
    "upload_mode",
    "page_size",
    "max_commit_bytes",
    "max_json_bytes",
    "max_lfs_bytes",
    "max_files_per_commit",
    "max_card_bytes",
    "max_card_aliases",
    "header_timeout",
    "body_timeout",
    "max_connections",
)
"""The :class:`HubConfig` settings :class:`LocalHub` takes, each also a ``hub serve`` option (``max_json_bytes``
is ``--max-json-bytes``)."""


def default_data_dir() -> Path:
    """Where ``huggingface-sb3 hub serve`` keeps repos unless told otherwise: ``$XDG_CACHE_HOME/huggingface_sb3/hub``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "huggingface_sb3" / "hub"


def generate_token() -> str:
    """A fresh random token in the Hub's ``hf_`` style."""
    return f"hf_local_{secrets.token_urlsafe(24)}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port=0``: any free port); LocalHubError if it is taken."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that name it, and without it a response
        # on a kept-alive connection waits ~40 ms for the client's delayed ACK (Nagle's algorithm)
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        raise LocalHubError(
            f"Cannot listen on {host}:{port} ({error.strerror or error}). "
            "Pick another port with --port, or --port 0 for any free port."
        ) from None
    return sock


def endpoint_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: HubApp, *, verbose: bool) -> uvicorn.Server:
    """A uvicorn server running the Hub app behind its transport limits (the socket is passed to ``run``).

    The process's open-file limit is raised to fit ``max_connections``. uvicorn's own ``limit_concurrency``
    counts the connection asking, hence the + 1; it also caps requests whose handlers still run after their
    client left.
    """
    config = app.state.config
    max_connections = fit_open_file_limit(config.max_connections)
    limits = TransportLimits(config.header_timeout, config.body_timeout, max_connections)
    return uvicorn.Server(
        uvicorn.Config(
            app,
            http=guarded_protocol(limits),
            ws="none",
            limit_concurrency=max_connections + 1,
            lifespan="off",
            log_level="info" if verbose else "warning",
            access_log=verbose,
            timeout_keep_alive=30,
        )
    )


def serve(
    config: HubConfig,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    verbose: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``config`` in the foreground until Ctrl-C or SIGTERM, which finish open requests and return.

    ``on_ready`` receives the endpoint once the socket listens (``port=0`` picks a free one). LocalHubError if the
    port is taken; the data directory is released on return.
    """
    app = HubApp(config)
    try:
        sock = bind_socket(host, port)
        server = make_server(app, verbose=verbose)
        if on_ready is not None:
            on_ready(endpoint_of(sock))
        _serve_until_signalled(server, sock)
    finally:
        app.close()


def _serve_until_signalled(server: uvicorn.Server, sock: socket.socket) -> None:
    """Run the server; Ctrl-C or SIGTERM make it finish open requests and return (instead of killing us).

    uvicorn handles the signals while serving and re-raises them once it has shut down; the handlers set
    here receive that re-raised signal (and any signal that arrives before uvicorn takes over).
    """

    def request_stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class LocalHub:
    """A Hub-compatible server on 127.0.0.1, for tests, examples and offline previews of a push.

    Use it as a context manager; point a client at it with ``HF_ENDPOINT=hub.endpoint`` (see :meth:`client_env`)
    or ``HfApi(endpoint=hub.endpoint, token=hub.token)``::

        with LocalHub() as hub:
            api = HfApi(endpoint=hub.endpoint, token=hub.token)
            api.create_repo(f"{hub.user}/my-agent")

    Args:
        data_dir: where repos are kept; by default a temporary directory, created on start and removed on stop.
        host: interface to listen on.
        port: port to listen on; 0 (the default) picks a free one.
        token: the write token of ``user``; generated when not given.
        user: the user the token belongs to (its namespace is writable).
        grants: more tokens, e.g. ``TokenGrant("t", "alice", "read")``.
        upload_mode: ``"regular"`` (default, works with every client) or ``"lfs"`` (see :class:`HubConfig`).
        page_size: entries per page of listings.
        max_commit_bytes: largest commit body accepted (inline files are base64 in it).
        max_json_bytes: largest JSON or form body accepted.
        max_lfs_bytes: largest LFS object the batch API accepts.
        max_files_per_commit: most file operations one commit may carry.
        max_card_bytes: largest YAML metadata block of a model card that is read and validated.
        max_card_aliases: most YAML aliases a card's metadata may use.
        header_timeout: seconds a connection may take to send a complete request head.
        body_timeout: seconds a request body may go without a byte arriving.
        max_connections: most connections open at once.
        in_subprocess: run the server in a child Python process instead of a thread of this one.

    The limits are described in :class:`HubConfig`; ``options`` holds them all.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        token: str | None = None,
        user: str = DEFAULT_USER,
        grants: Sequence[TokenGrant] = (),
        upload_mode: UploadMode = "regular",
        page_size: int = 1000,
        max_commit_bytes: int = HubConfig.max_commit_bytes,
        max_json_bytes: int = HubConfig.max_json_bytes,
        max_lfs_bytes: int = HubConfig.max_lfs_bytes,
        max_files_per_commit: int = HubConfig.max_files_per_commit,
        max_card_bytes: int = HubConfig.max_card_bytes,
        max_card_aliases: int = HubConfig.max_card_aliases,
        header_timeout: float = HubConfig.header_timeout,
        body_timeout: float = HubConfig.body_timeout,
        max_connections: int = HubConfig.max_connections,
        in_subprocess: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.token = token or generate_token()
        self.user = user
        self.grants = (TokenGrant(self.token, user, "write"), *grants)
        self.options: dict[str, Any] = {
            "upload_mode": upload_mode,
            "page_size": page_size,
            "max_commit_bytes": max_commit_bytes,
            "max_json_bytes": max_json_bytes,
            "max_lfs_bytes": max_lfs_bytes,
            "max_files_per_commit": max_files_per_commit,
            "max_card_bytes": max_card_bytes,
            "max_card_aliases": max_card_aliases,
            "header_timeout": header_timeout,
            "body_timeout": body_timeout,
            "max_connections": max_connections,
        }
        HubConfig(data_dir=Path(), grants=self.grants, **self.options)  # refuse bad settings now, not on start
        self.in_subprocess = in_subprocess
        self._owns_data_dir = data_dir is None
        self.data_dir: Path | None = Path(data_dir) if data_dir is not None else None
        self.endpoint = ""
        self._app: HubApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalHub:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalHub(endpoint={self.endpoint!r}, user={self.user!r}, data_dir='{self.data_dir}')"

    @property
    def pid(self) -> int:
        """Process id of the server (this process when it runs in a thread)."""
        return self._process.pid if self._process is not None else os.getpid()

    @property
    def requests_received(self) -> int:
        """How many HTTP requests the server has received (thread mode only)."""
        if self._app is None:
            raise LocalHubError("requests_received is only known for a running LocalHub in thread mode.")
        return self._app.state.requests_received

    @property
    def recent_requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of the last 1000 requests, oldest first (thread mode only)."""
        if self._app is None:
            raise LocalHubError("recent_requests is only known for a running LocalHub in thread mode.")
        return list(self._app.state.recent_requests)

    def client_env(self) -> dict[str, str]:
        """Environment variables that point a ``huggingface_hub`` client (started afterwards) at this Hub."""
        return {"HF_ENDPOINT": self.endpoint, "HF_TOKEN": self.token, "HF_HUB_DISABLE_TELEMETRY": "1"}

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        if self.endpoint:
            raise LocalHubError("This LocalHub is already running; stop it before starting it again.")
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="hf-local-hub-"))
        if self.in_subprocess:
            self._start_subprocess()
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        assert self.data_dir is not None
        self._app = HubApp(HubConfig(data_dir=self.data_dir, grants=self.grants, **self.options))
        try:
            sock = bind_socket(self.host, self.port)
        except LocalHubError:
            self.stop()
            raise
        self._server = make_server(self._app, verbose=False)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="huggingface-sb3-local-hub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                self.stop()
                raise LocalHubError("The local Hub thread did not start; see the log above for the cause.")
            time.sleep(0.01)
        self.endpoint = endpoint_of(sock)

    def _start_subprocess(self) -> None:
        assert self.data_dir is not None
        command = [
            sys.executable, "-m", "huggingface_sb3.hub_server",
            "--host", self.host, "--port", str(self.port), "--data-dir", str(self.data_dir), "--user", self.user,
            *(part for name, value in self.options.items() for part in (f"--{name.replace('_', '-')}", str(value))),
            "--quiet",
        ]  # fmt: skip
        secrets_env = {  # tokens travel in the environment, not on a command line other users can read
            TOKEN_ENV: self.token,
            GRANTS_ENV: " ".join(f"{grant.token}:{grant.user}:{grant.role}" for grant in self.grants[1:]),
        }
        log_path = self.data_dir / "local-hub.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **secrets_env, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self._process.poll() is None:
            for line in log_path.read_text("utf-8").splitlines():
                if line.strip().startswith(ENDPOINT_LINE_PREFIX):
                    self.endpoint = line.strip().removeprefix(ENDPOINT_LINE_PREFIX)
                    return
            time.sleep(0.05)
        self._stop_process()
        raise LocalHubError(
            f"The local Hub process did not start: {log_path.read_text('utf-8').strip() or 'no output'}"
        )

    def stop(self) -> None:
        """Stop serving (idempotent); a temporary data directory is removed."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=_START_TIMEOUT_SECONDS)
            self._server = self._thread = None
        if self._app is not None:
            self._app.close()
            self._app = None
        self._stop_process()
        self.endpoint = ""
        if self._owns_data_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def _stop_process(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=_START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
