"""The local Hub's transport stays up under hostile clients on loopback: half-sent requests, stalled bodies,
anonymous and pathological JSON, refused commits, too many connections and absurd LFS sizes.

Each attack runs against a hub in a subprocess, so its memory can be read from /proc. Meanwhile a well-behaved
client (the real ``huggingface_hub`` client, on a fresh connection for every call) must keep being answered
within 1 s, and the server's peak resident memory must stay within 150 MiB of its idle size.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import pytest
from huggingface_hub import HfApi, close_session
from huggingface_hub.errors import HfHubHTTPError

from huggingface_sb3 import LocalHub
from huggingface_sb3.hub_server import TokenGrant

from ._http import raw_request

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads memory from /proc")

LATENCY_BOUND_SECONDS = 1.0
MEMORY_BOUND_MIB = 150
MiB = 1024 * 1024
Answer = TypeVar("Answer")


def memory_mib(pid: int, field: str = "VmRSS") -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of a process, in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class WellBehavedClient:
    """Calls ``whoami`` through ``huggingface_hub`` in a background thread, each time on a new connection,
    recording how long each call took and what failed, until the ``with`` block ends."""

    def __init__(self, hub: LocalHub) -> None:
        self.api = HfApi(endpoint=hub.endpoint, token=hub.token)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WellBehavedClient:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            close_session()  # the next call opens a new connection, as a new client would
            started = time.monotonic()
            try:
                self.api.whoami()
            except Exception as error:
                self.failures.append(repr(error))
            self.latencies.append(time.monotonic() - started)
            self._stop.wait(0.05)

    def assert_served(self) -> None:
        """Every call was answered, within the latency bound."""
        assert self.latencies, "the well-behaved client made no call during the attack"
        assert not self.failures, self.failures[:3]
        assert max(self.latencies) < LATENCY_BOUND_SECONDS, f"worst latency {max(self.latencies):.3f} s"


_IDLE_MIB: dict[int, float] = {}


def warm_up(hub: LocalHub) -> None:
    """Make one call, then note the server's idle memory."""
    HfApi(endpoint=hub.endpoint, token=hub.token).whoami()
    time.sleep(0.2)
    _IDLE_MIB[hub.pid] = memory_mib(hub.pid)


@contextmanager
def hub_in_subprocess(**options: object) -> Iterator[LocalHub]:
    """A warmed-up LocalHub in a child process."""
    with LocalHub(in_subprocess=True, **options) as hub:
        warm_up(hub)
        yield hub


@contextmanager
def bounded_memory(hub: LocalHub) -> Iterator[None]:
    """Assert the server's peak memory, since it started, is within the bound above its idle size."""
    yield
    idle, peak = _IDLE_MIB[hub.pid], memory_mib(hub.pid, "VmHWM")
    assert peak - idle <= MEMORY_BOUND_MIB, f"idle {idle:.0f} MiB, peak {peak:.0f} MiB"


def address(hub: LocalHub) -> tuple[str, int]:
    host, port = hub.endpoint.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def connect(hub: LocalHub, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection(address(hub), timeout=30)
    if data:
        sock.sendall(data)
    return sock


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict]:
    """Read one response: its status and its JSON error."""
    sock.settimeout(timeout)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without answering: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    fields = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:])
    while len(body) < int(fields[b"content-length"]):
        body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body)


def closed_by_server(sock: socket.socket, timeout: float = 10) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def eventually(condition: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def post_head(path: str, length: int, token: str | None = None, kind: str = "application/json") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {kind}\r\nContent-Length: {length}\r\n{auth}\r\n"
    ).encode()


@contextmanager
def open_file_limit(soft: int) -> Iterator[None]:
    """This process's soft open-file limit set to ``soft`` for the block (children started in it inherit it)."""
    previous = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, previous[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, previous)


def hard_file_limit() -> int:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return sys.maxsize if hard == resource.RLIM_INFINITY else hard


# --- slowloris: half-sent request heads, idle connections, too many connections ---------------------------------


@pytest.mark.skipif(hard_file_limit() < 4096, reason="needs 1,100 sockets on the client side")
def test_half_sent_heads_neither_starve_clients_nor_stay_open():
    """1,100 connections that never finish their request head, on a server started with the common soft
    open-file limit of 1024: it raises its limit to fit --max-connections, keeps answering, and closes them
    with 408 after --header-timeout."""
    hub = LocalHub(in_subprocess=True, header_timeout=4, max_connections=2000)
    with open_file_limit(1024):
        hub.start()
    try:
        warm_up(hub)
        assert _soft_file_limit(hub.pid) >= 2000 + 256
        with open_file_limit(min(hard_file_limit(), 65536)), bounded_memory(hub):
            with WellBehavedClient(hub) as client:
                started = time.monotonic()
                attackers = [connect(hub, b"GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\n") for _ in range(1100)]
                time.sleep(2)
                assert time.monotonic() - started < 4, "the attack must still be on while the client is served"
            client.assert_served()
            assert {read_response(sock, timeout=15)[0] for sock in attackers} == {408}
            assert all(closed_by_server(sock) for sock in attackers)
            for sock in attackers:
                sock.close()
        assert HfApi(endpoint=hub.endpoint, token=hub.token).whoami()["name"] == hub.user
    finally:
        hub.stop()


def _soft_file_limit(pid: int) -> int:
    with open(f"/proc/{pid}/limits", encoding="ascii") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    return int(line.split()[3])


def test_the_408_names_the_cause_and_a_silent_connection_is_closed_quietly():
    with hub_in_subprocess(header_timeout=1) as hub:
        half_sent = connect(hub, b"POST /api/repos/create HTTP/1.1\r\nHost: x\r\n")
        silent = connect(hub)
        status, error = read_response(half_sent, timeout=10)
        assert status == 408 and "--header-timeout" in error["error"]
        assert closed_by_server(half_sent) and closed_by_server(silent)


def test_connections_beyond_the_limit_are_refused_with_503():
    with hub_in_subprocess(max_connections=16) as hub:
        close_session()  # the warm-up call's keep-alive connection would count against the limit
        time.sleep(0.2)
        idle = [connect(hub) for _ in range(16)]
        time.sleep(0.2)
        refused = connect(hub)
        status, error = read_response(refused, timeout=10)
        assert status == 503 and "--max-connections" in error["error"]
        assert closed_by_server(refused)
        for sock in idle:
            sock.close()
        time.sleep(0.2)
        assert HfApi(endpoint=hub.endpoint, token=hub.token).whoami()["name"] == hub.user


LIMITED_SERVE = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (400, 400))
sys.argv = ["huggingface-sb3", "hub", "serve", "--port", "0", "--quiet", "--data-dir", sys.argv[1]]
runpy.run_module("huggingface_sb3.cli.main", run_name="__main__")
"""


def test_a_low_hard_file_limit_lowers_the_connection_limit_with_a_warning(tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-c", LIMITED_SERVE, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        for line in server.stdout:
            if line.startswith("Press Ctrl-C"):
                break
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert "serves at most 144 connections instead of 1024" in errors
    assert "--max-connections" in errors


# --- stalled bodies ---------------------------------------------------------------------------------------------


def test_a_stalled_body_is_answered_408_and_nothing_is_written():
    with hub_in_subprocess(body_timeout=1) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        repo_id = api.create_repo(f"{hub.user}/stalled").repo_id
        head = api.model_info(repo_id).sha
        with bounded_memory(hub), WellBehavedClient(hub) as client:
            stalled = [
                connect(hub, post_head(f"/api/models/{repo_id}/commit/main", 10_000, hub.token) + b'{"key": '),
                connect(hub, post_head("/api/validate-yaml", 10_000) + b'{"content": "'),
            ]
            responses = [read_response(sock, timeout=10) for sock in stalled]
        client.assert_served()
        assert [status for status, _ in responses] == [408, 408]
        assert all("--body-timeout" in error["error"] for _, error in responses)
        assert all(closed_by_server(sock) for sock in stalled)
        assert api.model_info(repo_id).sha == head
        assert eventually(lambda: not any((hub.data_dir / "tmp").iterdir())), "the spooled body was not removed"


# --- JSON: anonymous bodies, amplification, nesting -------------------------------------------------------------


def _many_empty_objects(size: int) -> bytes:
    return b"[" + b",".join([b"{}"] * (size // 3)) + b"]"


def _concurrently(count: int, send: Callable[[int], Answer]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


@pytest.fixture(scope="module")
def json_hub():
    grants = [TokenGrant("reader", "local-user", "read"), TokenGrant("bob-write", "bob")]
    with hub_in_subprocess(grants=grants) as hub:
        HfApi(endpoint=hub.endpoint, token=hub.token).create_repo(f"{hub.user}/target")
        yield hub


def test_anonymous_json_amplification_is_refused_before_parsing(json_hub):
    """Four concurrent 16 MiB ``[{},{},...]`` bodies to a write route, anonymous or with an unknown token: 401
    without parsing; the same shape within the size limit to a route anyone may call: 413 before parsing."""
    hub, amplifier = json_hub, _many_empty_objects(16 * MiB)
    readable = _many_empty_objects(hub.options["max_json_bytes"] - 1024)

    def create(index: int) -> int:
        token = "not-a-token" if index % 2 else None
        return raw_request("POST", f"{hub.endpoint}/api/repos/create", body=amplifier, token=token).status

    def validate(_: int) -> int:
        return raw_request("POST", f"{hub.endpoint}/api/validate-yaml", body=readable).status

    with bounded_memory(hub), WellBehavedClient(hub) as client:
        assert _concurrently(4, create) == [401] * 4
        assert _concurrently(4, validate) == [413] * 4
    client.assert_served()


@pytest.mark.parametrize(
    ("body", "status", "cause"),
    [
        (b"[" * (5 * MiB) + b"]" * (5 * MiB), 400, "nested more than"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, 400, "nested more than"),
        (_many_empty_objects(9 * MiB), 413, "more than 200000 values"),
        (b'{"tag": ' + b"9" * 100_000 + b"}", 400, "Malformed JSON"),
        (b'{"tag": "' + b"\\u0041" * MiB + b"x", 400, "Unterminated string"),
        (b"x" * (11 * MiB), 413, "Request body too large"),
    ],
    ids=["deep-arrays", "deep-objects", "many-values", "huge-integer", "unterminated-string", "oversized"],
)
def test_pathological_json_from_an_owner_is_a_4xx_not_a_500(json_hub, body, status, cause):
    """Four at once: they reach the parser, which must refuse them without blocking or bloating the server."""
    hub = json_hub

    def send(_: int) -> tuple[int, str]:
        url = f"{hub.endpoint}/api/models/{hub.user}/target/tag/main"
        response = raw_request("POST", url, body=body, token=hub.token)
        return response.status, response.json()["error"]

    with bounded_memory(hub), WellBehavedClient(hub) as client:
        answers = _concurrently(4, send)
    client.assert_served()
    assert all(answer == status and cause in error for answer, error in answers), answers


def test_a_form_with_too_many_fields_is_413(json_hub):
    response = raw_request(
        "POST",
        f"{json_hub.endpoint}/api/models/{json_hub.user}/target/paths-info/main",
        body=b"&".join([b"paths=a"] * 250_000),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413 and "fields" in response.json()["error"]


def test_the_largest_legitimate_preupload_fits_and_is_parsed_off_the_event_loop(json_hub):
    """10,000 files with 512-byte samples (about 8 MiB, the most preupload accepts), four at once."""
    hub = json_hub
    files = [
        {"path": f"data/shard-{index:05d}.bin", "sample": base64.b64encode(os.urandom(512)).decode(), "size": 1 << 20}
        for index in range(10_000)
    ]
    body = json.dumps({"files": files}).encode()
    assert 7 * MiB < len(body) < hub.options["max_json_bytes"]

    def preupload(_: int) -> int:
        url = f"{hub.endpoint}/api/models/{hub.user}/target/preupload/main"
        return raw_request("POST", url, body=body, token=hub.token).status

    with bounded_memory(hub), WellBehavedClient(hub) as client:
        assert _concurrently(4, preupload) == [200] * 4
    client.assert_served()


def test_anonymous_callers_share_a_bounded_body_budget(json_hub):
    """Anonymous bodies that hold the whole budget make the next anonymous one 503; callers with a token are not
    affected, and the budget frees up when those bodies go."""
    hub, limit = json_hub, json_hub.options["max_json_bytes"]
    holders = [connect(hub, post_head("/api/validate-yaml", limit) + b'{"content": "') for _ in range(4)]
    time.sleep(0.3)
    refused = raw_request("POST", f"{hub.endpoint}/api/validate-yaml", json_body={"content": "---\n---\n"})
    assert refused.status == 503 and "pass a token" in refused.json()["error"]
    assert refused.headers["retry-after"] == "1"
    authenticated = raw_request(
        "POST", f"{hub.endpoint}/api/validate-yaml", json_body={"content": "---\n---\n"}, token=hub.token
    )
    assert authenticated.status == 200
    for sock in holders:
        sock.close()
    time.sleep(0.3)
    assert raw_request("POST", f"{hub.endpoint}/api/validate-yaml", json_body={"content": "---\n---\n"}).status == 200


# --- commits: refused callers' bodies are never read, spooled or parsed ------------------------------------------


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("not-a-token", 401), ("reader", 403), ("bob-write", 403)],
    ids=["anonymous", "unknown-token", "read-token", "other-user"],
)
def test_a_refused_commit_is_answered_before_its_body_is_spooled(json_hub, token, status):
    hub = json_hub
    api = HfApi(endpoint=hub.endpoint, token=hub.token)
    head = api.model_info(f"{hub.user}/target").sha
    payload = b'{"key": "header", "value": {"summary": "x"}}\n' + b" " * (64 * MiB)
    path = f"/api/models/{hub.user}/target/commit/main"
    with bounded_memory(hub), WellBehavedClient(hub) as client:
        sock = connect(hub, post_head(path, len(payload), token, "application/x-ndjson") + payload[: 4 * MiB])
        time.sleep(0.3)
        assert list((hub.data_dir / "tmp").iterdir()) == []
        sock.sendall(payload[4 * MiB :])
        answered, error = read_response(sock, timeout=30)
        sock.close()
    client.assert_served()
    assert answered == status and error["error"]
    assert list((hub.data_dir / "tmp").iterdir()) == []
    assert api.model_info(f"{hub.user}/target").sha == head


@pytest.mark.parametrize(
    ("length", "expect"),
    [(64 * MiB, "Expect: 100-continue\r\n"), (10 * 1024 * MiB, "")],
    ids=["expects-100-continue", "beyond-the-drain-limit"],
)
def test_a_refused_body_that_is_not_worth_draining_is_never_asked_for(json_hub, length, expect):
    """The error comes at once, before any of the body is sent, and the connection is closed."""
    head = post_head(f"/api/models/{json_hub.user}/target/commit/main", length, kind="application/x-ndjson")
    sock = connect(json_hub, head.replace(b"\r\n\r\n", f"\r\n{expect}\r\n".encode()))
    status, error = read_response(sock, timeout=5)
    assert status == 401 and "write token" in error["error"]
    assert closed_by_server(sock)


# --- LFS: declared object sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "status", "cause"),
    [
        (10**30, 413, "--max-lfs-bytes"),
        (50 * 1024**3 + 1, 413, "--max-lfs-bytes"),
        (-1, 400, "non-negative integer"),
        (1.5, 400, "non-negative integer"),
        ("12", 400, "non-negative integer"),
        (True, 400, "non-negative integer"),
    ],
)
def test_lfs_batch_refuses_sizes_that_are_absurd_or_not_sizes(local_hub, hub_api, hub_repo_id, size, status, cause):
    hub_api.create_repo(hub_repo_id)
    response = raw_request(
        "POST",
        f"{local_hub.endpoint}/{hub_repo_id}.git/info/lfs/objects/batch",
        json_body={"operation": "upload", "objects": [{"oid": "a" * 64, "size": size}]},
        token=local_hub.token,
    )
    assert response.status == status and cause in response.json()["error"]


def test_the_real_client_sees_the_lfs_size_limit_and_nothing_is_stored(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with LocalHub(tmp_path, upload_mode="lfs", max_lfs_bytes=4096) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        repo_id = api.create_repo(f"{hub.user}/small-lfs").repo_id
        with pytest.raises(HfHubHTTPError) as caught:
            api.upload_file(path_or_fileobj=bytes(range(256)) * 64, path_in_repo="model.zip", repo_id=repo_id)
        assert caught.value.response.status_code == 413 and "--max-lfs-bytes" in str(caught.value)
        assert api.list_repo_files(repo_id) == [".gitattributes"]


# --- options ----------------------------------------------------------------------------------------------------


def test_the_limits_are_hub_serve_options():
    result = subprocess.run(
        [sys.executable, "-m", "huggingface_sb3.cli.main", "hub", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    for option in (
        "--header-timeout SECONDS",
        "--body-timeout SECONDS",
        "--max-connections N",
        "--max-json-bytes BYTES",
        "--max-lfs-bytes BYTES",
        "--max-files-per-commit N",
        "--max-card-bytes BYTES",
    ):
        assert option in result.stdout
    assert "10 MiB" in result.stdout and "50 GiB" in result.stdout


def test_invalid_limits_are_refused():
    with pytest.raises(ValueError, match="header_timeout must be positive"):
        LocalHub(header_timeout=0)
