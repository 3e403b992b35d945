"""Starting and stopping the local Hub: LocalHub in a thread and in a subprocess, the CLI, restarts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from huggingface_sb3 import LocalHub, LocalHubError
from huggingface_sb3.hub_server import TokenGrant

from ._http import raw_request


def test_local_hub_context_manager_exposes_endpoint_token_user(tmp_path):
    with LocalHub(tmp_path / "data", user="alice", token="secret") as hub:
        assert hub.endpoint.startswith("http://127.0.0.1:")
        assert (hub.token, hub.user) == ("secret", "alice")
        assert HfApi(endpoint=hub.endpoint, token=hub.token).whoami()["name"] == "alice"
    assert hub.endpoint == ""
    with pytest.raises(OSError):
        raw_request("GET", f"http://127.0.0.1:{hub.port or 1}/api/whoami-v2")


def test_a_temporary_data_dir_is_removed_on_exit():
    with LocalHub() as hub:
        data_dir = hub.data_dir
        assert data_dir.exists()
    assert not data_dir.exists()


def test_repos_survive_a_restart(tmp_path):
    payload = os.urandom(11 * 1024 * 1024)
    with LocalHub(tmp_path, token="t") as hub:
        api = HfApi(endpoint=hub.endpoint, token="t")
        api.create_repo("local-user/kept", private=True)
        api.upload_file(path_or_fileobj=b"small", path_in_repo="a.txt", repo_id="local-user/kept")
        api.upload_file(path_or_fileobj=payload, path_in_repo="big.bin", repo_id="local-user/kept")
        api.create_tag("local-user/kept", tag="v1")
        sha = api.model_info("local-user/kept").sha
    with LocalHub(tmp_path, token="t") as hub:
        api = HfApi(endpoint=hub.endpoint, token="t")
        info = api.model_info("local-user/kept")
        assert (info.sha, info.private) == (sha, True)
        assert [tag.target_commit for tag in api.list_repo_refs("local-user/kept").tags] == [sha]
        with open(api.hf_hub_download("local-user/kept", "big.bin", cache_dir=tmp_path / "cache"), "rb") as file:
            assert file.read() == payload
        assert not HfApi(endpoint=hub.endpoint, token=False).repo_exists("local-user/kept")


def test_local_hub_in_a_subprocess(tmp_path):
    grants = [TokenGrant("reader-secret", "local-user", "read")]
    with LocalHub(tmp_path, in_subprocess=True, grants=grants) as hub:
        assert hub.pid != os.getpid()
        command_line = Path(f"/proc/{hub.pid}/cmdline").read_bytes()
        assert hub.token.encode() not in command_line and b"reader-secret" not in command_line
        assert HfApi(endpoint=hub.endpoint, token="reader-secret").whoami()["auth"]["accessToken"]["role"] == "read"
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        api.create_repo(f"{hub.user}/sub")
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=f"{hub.user}/sub")
        pid = hub.pid
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
    assert (tmp_path / "repos" / "models" / "local-user" / "sub").is_dir()


def test_a_taken_port_is_a_clear_error():
    with LocalHub() as running:
        port = int(running.endpoint.rsplit(":", 1)[1])
        with pytest.raises(LocalHubError, match="--port 0"):
            LocalHub(port=port).start()


def run_cli(*args):
    """Run ``huggingface-sb3 ARGS`` in a subprocess and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "huggingface_sb3.cli.main", *args], capture_output=True, text=True, timeout=60
    )


def _serve(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "huggingface_sb3.cli.main", "hub", "serve", "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_banner(process):
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return "".join(lines)
    raise AssertionError("no banner: " + "".join(lines) + process.stderr.read())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serve_prints_the_endpoint_and_stops_cleanly(tmp_path, stop_signal):
    process = _serve("--data-dir", str(tmp_path), "--token", "cli-token", "--user", "carol")
    try:
        banner = _read_banner(process)
        endpoint = next(line.split("=", 1)[1] for line in banner.splitlines() if "export HF_ENDPOINT=" in line)
        assert "export HF_TOKEN=cli-token" in banner
        assert HfApi(endpoint=endpoint, token="cli-token").whoami()["name"] == "carol"
        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0
        assert "Local Hub stopped." in process.stdout.read()
    finally:
        process.kill()
        process.wait()


def test_cli_serve_generates_a_token_once_and_reuses_it(tmp_path):
    tokens = []
    for _ in range(2):
        process = _serve("--data-dir", str(tmp_path))
        try:
            banner = _read_banner(process)
            tokens.append(next(line.split("=", 1)[1] for line in banner.splitlines() if "HF_TOKEN=" in line))
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert tokens[0] == tokens[1] and tokens[0].startswith("hf_local_")
    assert oct((tmp_path / "token").stat().st_mode & 0o777) == "0o600"


def test_cli_serve_on_a_taken_port_exits_1_with_one_line(tmp_path):
    with LocalHub() as running:
        port = running.endpoint.rsplit(":", 1)[1]
        result = run_cli("hub", "serve", "--port", port, "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: Cannot listen on") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_usage_exits_2():
    result = run_cli("hub", "serve", "--port", "not-a-port")
    assert result.returncode == 2 and "invalid int value" in result.stderr


def test_cli_help_on_every_level_has_examples():
    for args in ([], ["hub"], ["hub", "serve"]):
        result = run_cli(*args, "--help")
        assert result.returncode == 0
        assert "usage: huggingface-sb3" in result.stdout
    assert "examples:" in result.stdout and "HF_ENDPOINT" in result.stdout


def test_module_entry_point_is_the_serve_command():
    result = subprocess.run(
        [sys.executable, "-m", "huggingface_sb3.hub_server", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--data-dir" in result.stdout


def test_two_servers_cannot_share_a_data_dir(tmp_path):
    with LocalHub(tmp_path):
        with pytest.raises(LocalHubError, match="in use by another local Hub"):
            LocalHub(tmp_path).start()
        result = run_cli("hub", "serve", "--port", "0", "--data-dir", str(tmp_path))
        assert result.returncode == 1 and "in use by another local Hub" in result.stderr
    with LocalHub(tmp_path) as again:
        assert again.endpoint


def test_an_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LocalHubError, match="Choose another"):
        LocalHub(blocker / "data").start()


def test_the_listening_socket_names_tcp_so_responses_are_not_delayed():
    """asyncio turns Nagle's algorithm off (TCP_NODELAY) only on accepted sockets whose protocol is IPPROTO_TCP;
    with protocol 0 every response on a kept-alive connection (what huggingface_hub uses) waited ~40 ms."""
    import socket

    from huggingface_sb3.hub_server._local_hub import bind_socket

    with bind_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
