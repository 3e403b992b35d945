"""A bounded soak: well-behaved clients commit and download while others send a random mix of hostile requests.

Asserts what users of a shared Hub rely on: no 5xx for anyone, no acknowledged commit lost, memory flat.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi, hf_hub_download

from huggingface_sb3 import LocalHub

from ._hostile import MiB, file_line, header_line, ndjson, probing, rss_bytes
from ._http import raw_request

SOAK_SECONDS = 30
OWNER, TOKEN = "alice", "alice-write"


HEADER = header_line()
ALIAS_BOMB = "---\nl0: &l0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 8)
)


class Hostile:
    """Each method sends one hostile request and returns the statuses the server answered."""

    def __init__(self, hub: LocalHub, repo_id: str, rng: random.Random) -> None:
        self.hub, self.repo_id, self.rng = hub, repo_id, rng
        self.api_url = f"{hub.endpoint}/api/models/{repo_id}"

    def redos_preupload(self) -> list[int]:
        files = [{"path": "a" * 100 + str(i), "size": 1, "sample": ""} for i in range(64)]
        ignore = "\n".join("*a*a*a*a*a*a*a*a*a*ab" for _ in range(100))
        body = {"files": files, "gitIgnore": ignore}
        return [raw_request("POST", f"{self.api_url}/preupload/main", json_body=body, token=TOKEN).status]

    def digit_run_commit(self) -> list[int]:
        body = ndjson(HEADER) + b"\n" + b"9" * (4 * MiB)
        return [raw_request("POST", f"{self.api_url}/commit/main", body=body, token=TOKEN).status]

    def alias_bomb_card(self) -> list[int]:
        body = ndjson(HEADER, file_line("README.md", f"{ALIAS_BOMB}---\n# bomb\n".encode()))
        statuses = [raw_request("POST", f"{self.api_url}/commit/main?create_pr=1", body=body, token=TOKEN).status]
        return [*statuses, raw_request("GET", f"{self.hub.endpoint}/api/models?cardData=1").status]

    def anonymous_json_amplification(self) -> list[int]:
        body = b"[" + b"{}," * (2 * MiB) + b"{}]"
        return [raw_request("POST", f"{self.hub.endpoint}/api/repos/create", body=body).status]

    def deeply_nested_json(self) -> list[int]:
        body = b"[" * 100_000 + b"]" * 100_000
        return [raw_request("POST", f"{self.api_url}/preupload/main", body=body, token=TOKEN).status]

    def huge_lfs_size(self) -> list[int]:
        body = {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": "a" * 64, "size": 10**30}]}
        url = f"{self.hub.endpoint}/{self.repo_id}.git/info/lfs/objects/batch"
        return [raw_request("POST", url, json_body=body, token=TOKEN).status]

    def unsafe_paths_and_refs(self) -> list[int]:
        path = self.rng.choice(["../x", "a/../../b", ".git/config", "a\\b", "/abs"])
        commit = raw_request(
            "POST", f"{self.api_url}/commit/main", body=ndjson(HEADER, file_line(path, b"x")), token=TOKEN
        )
        branch = raw_request("POST", f"{self.api_url}/branch/soak/nested", token=TOKEN)
        return [commit.status, branch.status]

    def half_sent_request(self) -> list[int]:
        host, port = urlsplit(self.hub.endpoint).hostname, urlsplit(self.hub.endpoint).port
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"POST /api/repos/create HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n")
            time.sleep(0.2)
        return []

    def garbage(self) -> list[int]:
        host, port = urlsplit(self.hub.endpoint).hostname, urlsplit(self.hub.endpoint).port
        with socket.create_connection((host, port), timeout=15) as sock:
            try:
                sock.sendall(self.rng.randbytes(4096) + b"\r\n\r\n")
                reply = sock.recv(64)
            except ConnectionResetError:  # the server may close as soon as it sees the request is not HTTP
                return []
        return [int(reply.split()[1])] if reply.startswith(b"HTTP/1.1 ") else []

    def all(self) -> list[Callable[[], list[int]]]:
        return [
            self.redos_preupload,
            self.digit_run_commit,
            self.alias_bomb_card,
            self.anonymous_json_amplification,
            self.deeply_nested_json,
            self.huge_lfs_size,
            self.unsafe_paths_and_refs,
            self.half_sent_request,
            self.garbage,
        ]


@pytest.mark.timeout(180)
def test_well_behaved_clients_are_served_while_others_attack(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "data", user=OWNER, token=TOKEN, in_subprocess=True) as hub:
        api = HfApi(endpoint=hub.endpoint, token=TOKEN)
        repo_id = f"{OWNER}/soak"
        api.create_repo(repo_id)
        api.create_branch(repo_id, branch="soak")
        idle = rss_bytes(hub.pid)
        deadline = time.monotonic() + SOAK_SECONDS
        acknowledged: dict[str, bytes] = {}
        server_errors: list[str] = []
        lock = threading.Lock()

        def well_behaved(worker: int) -> None:
            rng = random.Random(worker)
            step = 0
            while time.monotonic() < deadline:
                path, content = f"w{worker}/{step}.txt", rng.randbytes(rng.randint(1, 200_000))
                api.upload_file(path_or_fileobj=content, path_in_repo=path, repo_id=repo_id)
                with lock:
                    acknowledged[path] = content
                    known = rng.choice(sorted(acknowledged))
                served = hf_hub_download(repo_id, known, endpoint=hub.endpoint, token=TOKEN, cache_dir=tmp_path / "c")
                assert Path(served).read_bytes() == acknowledged[known]
                step += 1

        def hostile(worker: int) -> None:
            rng = random.Random(100 + worker)
            attacks = Hostile(hub, repo_id, rng).all()
            while time.monotonic() < deadline:
                attack = rng.choice(attacks)
                for status in attack():
                    if status >= 500:
                        with lock:
                            server_errors.append(f"{attack.__name__}: {status}")

        failures: list[BaseException] = []

        def guarded(target: Callable[[int], None], worker: int) -> None:
            try:
                target(worker)
            except BaseException as error:  # reported after the join
                failures.append(error)

        threads = [threading.Thread(target=guarded, args=(well_behaved, i)) for i in range(2)]
        threads += [threading.Thread(target=guarded, args=(hostile, i)) for i in range(3)]
        with probing(hub.endpoint, TOKEN, pid=hub.pid, interval=0.1) as probe:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert not failures, failures
        assert not server_errors, server_errors
        assert all(status == 200 for status in probe.statuses)
        assert probe.worst_latency < 1.0, f"whoami took {probe.worst_latency:.2f} s during the attacks"
        assert probe.peak_rss_growth(idle) < 150 * MiB
        files = set(api.list_repo_files(repo_id))
        assert set(acknowledged) <= files, "an acknowledged commit was lost"
        assert len(acknowledged) > 10, "the well-behaved clients barely got through"
