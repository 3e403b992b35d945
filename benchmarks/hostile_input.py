"""What each hostile request costs the local Hub, and what the safe loader spends refusing each bomb.

Runs the local Hub in a subprocess (so its memory is its own). For each attack found by probing the server, a
well-behaved client asks ``whoami`` every 20 ms while the attack runs, and the server's resident memory is
sampled; the table shows the attack's own duration, that client's worst latency beside its worst latency with
no attack (measured in the same run, best of several rounds), and the server's peak RSS above idle. Then each
loader bomb is loaded with ``load_agent`` and the time to the package error is shown.

    python benchmarks/hostile_input.py
    python benchmarks/hostile_input.py --rounds 1        # quicker, noisier

Targets (issue #9): other clients answered within 1 s during every attack; server RSS within +150 MiB of idle;
every loader bomb refused with a package error in under 10 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

from huggingface_sb3 import LocalHub

MiB = 1024 * 1024
TOKEN = "bench-write"
USER = "bench"


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def request(method: str, url: str, body: bytes | None = None, token: str | None = TOKEN) -> int:
    """Send one request; its status (0 when the connection failed)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method=method, headers=headers), timeout=120
        ):
            return 200
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def ndjson(*lines: dict) -> bytes:
    return b"\n".join(json.dumps(line).encode() for line in lines)


def inline_file(path: str, content: bytes) -> dict:
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode()}}


HEADER = {"key": "header", "value": {"summary": "attack"}}


class Attacks:
    """One method per attack; each returns the statuses it got."""

    def __init__(self, hub: LocalHub, repo_id: str) -> None:
        self.hub = hub
        self.api = f"{hub.endpoint}/api/models/{repo_id}"
        self.host, self.port = urlsplit(hub.endpoint).hostname or "", urlsplit(hub.endpoint).port or 0

    def redos_gitignore(self) -> list[int]:
        files = [{"path": "a" * 100 + "/" + "a" * 100 + str(i), "size": 1, "sample": ""} for i in range(256)]
        body = json.dumps({"files": files, "gitIgnore": "\n".join(["*a*a*a*a*a*a*a*a*a*a*a*ab"] * 2000)}).encode()
        return [request("POST", f"{self.api}/preupload/main", body)]

    def alias_bomb_card(self) -> list[int]:
        levels = ["l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
        levels += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
        card = ("---\n" + "\n".join(levels) + "\n---\n").encode()
        statuses = [request("POST", f"{self.api}/commit/main", ndjson(HEADER, inline_file("README.md", card)))]
        for _ in range(10):
            statuses.append(request("GET", self.api, token=None))
            statuses.append(request("GET", f"{self.hub.endpoint}/api/models?cardData=1", token=None))
        return statuses

    def digit_run_commit(self) -> list[int]:
        return [request("POST", f"{self.api}/commit/main", ndjson(HEADER) + b"\n" + b"7" * (128 * MiB))]

    def commit_of_many_small_files(self) -> list[int]:
        content = bytes(47 * 1024)  # base64 just under the 64 KiB from which the server spools a string to disk
        lines = [inline_file(f"many/{i:05d}", content + i.to_bytes(4, "big")) for i in range(6000)]
        return [request("POST", f"{self.api}/commit/main", ndjson(HEADER, *lines))]

    def anonymous_json_amplification(self) -> list[int]:
        body = b"[" + b"{}," * (5 * MiB) + b"{}]"
        results: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: results.append(
                    request("POST", f"{self.hub.endpoint}/api/repos/create", body, token=None)
                )
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def deeply_nested_json(self) -> list[int]:
        return [request("POST", f"{self.api}/preupload/main", b"[" * 1_000_000 + b"]" * 1_000_000)]

    def slowloris(self) -> list[int]:
        sockets = []
        for _ in range(1000):
            sock = socket.create_connection((self.host, self.port))
            sock.sendall(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        time.sleep(3)
        for sock in sockets:
            sock.close()
        return []

    def huge_lfs_size(self) -> list[int]:
        objects = [{"oid": "b" * 64, "size": 10**30}]
        body = json.dumps({"operation": "upload", "transfers": ["basic"], "objects": objects}).encode()
        return [
            request("POST", f"{self.hub.endpoint}/{self.api.split('/models/')[1]}.git/info/lfs/objects/batch", body)
        ]


def measure(hub: LocalHub, attack: Callable[[], list[int]] | None, seconds: float = 2.0) -> tuple[float, float, int]:
    """(attack duration, worst whoami latency meanwhile, peak RSS above the level before)."""
    idle = rss(hub.pid)
    latencies: list[float] = []
    peak = idle
    stop = threading.Event()

    def probe() -> None:
        nonlocal peak
        while not stop.is_set():
            started = time.perf_counter()
            request("GET", f"{hub.endpoint}/api/whoami-v2")
            latencies.append(time.perf_counter() - started)
            peak = max(peak, rss(hub.pid))
            stop.wait(0.02)

    thread = threading.Thread(target=probe)
    thread.start()
    started = time.perf_counter()
    statuses = attack() if attack is not None else (time.sleep(seconds) or [])
    duration = time.perf_counter() - started
    stop.set()
    thread.join()
    if any(status >= 500 for status in statuses):
        raise SystemExit(f"{attack.__name__ if attack else 'idle'}: the server answered {sorted(set(statuses))}")
    return duration, max(latencies), peak - idle


def loader_bombs(workdir: Path) -> list[tuple[str, float, str]]:
    """Each bomb zip, the seconds ``load_agent`` took to refuse it, and the error class."""
    from stable_baselines3 import PPO

    from huggingface_sb3 import load_agent

    base = workdir / "base.zip"
    PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, device="cpu").save(base)
    with zipfile.ZipFile(base) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    bombs = {
        "Box(0, 1, (10**8,)) observation space": _with_space(data, "observation_space", "Box", (10**8,)),
        "net_arch [8000, 8000]": {**data, "policy_kwargs": {**data["policy_kwargs"], "net_arch": [8000, 8000]}},
        "n_envs as a string": {**data, "n_envs": "lots"},
    }
    results = []
    for name, bomb in bombs.items():
        path = workdir / f"{name.split()[0].lower()}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, json.dumps(bomb) if member == "data" else content)
        started = time.perf_counter()
        try:
            load_agent(str(path), env_id="CartPole-v1")
            outcome = "LOADED (not refused)"
        except Exception as error:  # the benchmark reports whatever it is
            outcome = f"{type(error).__module__}.{type(error).__name__}"
        results.append((name, time.perf_counter() - started, outcome))
    return results


def _with_space(data: dict, key: str, kind: str, shape: tuple[int, ...]) -> dict:
    """``data`` with ``key`` holding a pickled gymnasium space built from a tiny constructor call."""
    import pickle

    class _Reduce:
        def __reduce__(self) -> tuple:
            import gymnasium.spaces

            return (getattr(gymnasium.spaces, kind), (0.0, 1.0, shape))

    payload = base64.b64encode(pickle.dumps(_Reduce(), protocol=4)).decode()
    return {**data, key: {":type:": "<class 'gymnasium.spaces.box.Box'>", ":serialized:": payload}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per attack; the best round is shown")
    parser.add_argument("--skip-loader", action="store_true", help="only the server attacks")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalHub(Path(tmp) / "hub", user=USER, token=TOKEN, in_subprocess=True) as hub,
    ):
        request("POST", f"{hub.endpoint}/api/repos/create", json.dumps({"name": "target"}).encode())
        attacks = Attacks(hub, f"{USER}/target")
        _, idle_latency, _ = min(measure(hub, None) for _ in range(args.rounds))
        print(
            f"server idle RSS {rss(hub.pid) / MiB:.0f} MiB; whoami worst latency with no attack {idle_latency * 1000:.0f} ms"
        )
        print(f"{'attack':32} {'duration':>9} {'worst latency':>14} {'vs idle':>8} {'peak RSS +':>11}")
        for name in [name for name in vars(Attacks) if not name.startswith("_")]:
            runs = [measure(hub, getattr(attacks, name)) for _ in range(args.rounds)]
            duration, latency, _ = min(runs, key=lambda run: run[1])
            worst_growth = max(run[2] for run in runs)
            print(
                f"{name:32} {duration:8.2f}s {latency * 1000:12.0f}ms {latency / idle_latency:7.1f}x "
                f"{worst_growth / MiB:9.0f}MiB"
            )
    if not args.skip_loader:
        print(f"\n{'loader bomb':40} {'refused in':>10}  error")
        with tempfile.TemporaryDirectory() as tmp:
            for name, seconds, outcome in loader_bombs(Path(tmp)):
                print(f"{name:40} {seconds:9.2f}s  {outcome}")


if __name__ == "__main__":
    main()
