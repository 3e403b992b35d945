"""Upload and download speed of the local Hub, and its memory during a large upload.

Runs the local Hub in a subprocess (so its memory is its own), pushes and pulls a file with the real
``huggingface_hub`` client in ``regular`` and ``lfs`` upload modes, and prints MB/s beside a plain copy of the
same bytes on the same disk, measured in the same run. Then uploads a larger file through LFS while sampling
the server's resident memory.

Two baselines and two downloads are shown, because a download moves every byte through user space on both
ends while ``shutil.copyfile`` lets the kernel copy pages directly:
- "plain file copy": read and write through a 1 MiB buffer (``shutil.copyfileobj``), the work a download
  must at least do; "kernel file copy": ``shutil.copyfile`` (``copy_file_range``/``sendfile``), for reference.
- "download (raw GET)": the server's ``resolve`` streamed by a minimal stdlib client, which measures the
  server; "download (hf_hub_download)": the real client end to end, which also measures httpx2 and the cache.
- "download ceiling": the same stdlib client reading from a bare zero-copy ``sendfile`` server, i.e. what
  loopback TCP and a Python client allow on this machine, whatever the server.

    python benchmarks/hub_transfer.py                 # 50 MB transfers, 200 MB memory run
    python benchmarks/hub_transfer.py --size-mb 10 --memory-mb 50

Targets (issue #2): downloads at least half the speed of the file copy; server memory during the LFS upload
less than 100 MB above its idle size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ["HF_HUB_DISABLE_XET"] = "1"  # lets lfs mode use the LFS batch API; regular mode never involves Xet
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

from huggingface_hub import HfApi, hf_hub_download

from huggingface_sb3 import LocalHub

MB = 1_000_000
CHUNK = 1024 * 1024
REPEATS = 5


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (Linux), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for pid {pid}")


class PeakSampler:
    """Samples a process's resident memory every few milliseconds while active."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def make_file(folder: Path, size: int, name: str) -> Path:
    path = folder / name
    with open(path, "wb") as file:
        for _ in range(size // MB):
            file.write(os.urandom(MB))
    return path


def copy_through_buffer(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK)


def copy_speeds(source: Path, folder: Path) -> tuple[float, float]:
    """MB/s of a buffered copy and of a kernel copy of the same bytes, best of REPEATS each."""
    size = source.stat().st_size
    buffered = min(timed(lambda: copy_through_buffer(source, folder / "copy-buffered")) for _ in range(REPEATS))
    kernel = min(timed(lambda: shutil.copyfile(source, folder / "copy-kernel")) for _ in range(REPEATS))
    return size / MB / buffered, size / MB / kernel


def raw_get(url: str, target: Path) -> None:
    """Stream a URL to a file with the standard library, 1 MiB at a time."""
    with urllib.request.urlopen(url) as response, open(target, "wb") as writer:
        shutil.copyfileobj(response, writer, CHUNK)


def ceiling_speed(source: Path, folder: Path) -> float:
    """MB/s of the stdlib client reading ``source`` from a minimal asyncio server that uses ``sendfile``."""
    size = source.stat().st_size
    ready, ports = threading.Event(), []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        with open(source, "rb") as file:
            await asyncio.get_running_loop().sendfile(writer.transport, file)
        writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        ports.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await server.serve_forever()

    threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
    ready.wait()
    best = min(timed(lambda: raw_get(f"http://127.0.0.1:{ports[0]}/", folder / "ceiling")) for _ in range(REPEATS))
    return size / MB / best


def transfer(mode: str, source: Path, folder: Path) -> tuple[float, float, float]:
    """Upload ``source`` to a fresh local Hub, then download it raw and with hf_hub_download.

    Returns MB/s of the upload and of the best of REPEATS runs of each download.
    """
    size = source.stat().st_size
    with LocalHub(folder / f"hub-{mode}", upload_mode=mode, in_subprocess=True) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        repo_id = f"{hub.user}/bench-{mode}"
        api.create_repo(repo_id)
        upload = timed(lambda: api.upload_file(path_or_fileobj=str(source), path_in_repo="agent.zip", repo_id=repo_id))
        url = f"{hub.endpoint}/{repo_id}/resolve/main/agent.zip"
        raw = min(timed(lambda: raw_get(url, folder / "raw-download")) for _ in range(REPEATS))
        client = []
        for attempt in range(REPEATS):
            cache = folder / f"cache-{mode}-{attempt}"
            client.append(
                timed(
                    lambda cache=cache: hf_hub_download(
                        repo_id, "agent.zip", endpoint=hub.endpoint, token=hub.token, cache_dir=cache
                    )
                )
            )
            shutil.rmtree(cache)
    return size / MB / upload, size / MB / raw, size / MB / min(client)


def upload_memory(mode: str, source: Path, folder: Path) -> tuple[int, int]:
    """(idle RSS, peak RSS) of the server in KiB around one upload of ``source``."""
    with LocalHub(folder / f"hub-mem-{mode}", upload_mode=mode, in_subprocess=True) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        repo_id = f"{hub.user}/memory-{mode}"
        api.create_repo(repo_id)
        api.upload_file(path_or_fileobj=b"warm-up", path_in_repo="warm.txt", repo_id=repo_id)
        idle = rss_kib(hub.pid)
        with PeakSampler(hub.pid) as sampler:
            api.upload_file(path_or_fileobj=str(source), path_in_repo="big.zip", repo_id=repo_id)
        return idle, max(sampler.peak, rss_kib(hub.pid, "VmHWM"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=50, help="size of the transfer file (default: 50)")
    parser.add_argument("--memory-mb", type=int, default=200, help="size of the memory-run file (default: 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        folder = Path(tmp)
        source = make_file(folder, args.size_mb * MB, "agent.zip")
        baseline, kernel = copy_speeds(source, folder)
        print(f"file: {args.size_mb} MB of random bytes; ratios are against the plain file copy")
        ceiling = ceiling_speed(source, folder)
        rows = [
            ("plain file copy", baseline, "baseline"),
            ("kernel file copy", kernel, "reference"),
            ("download ceiling (sendfile server)", ceiling, f"{ceiling / baseline:.2f}x, loopback + stdlib client"),
        ]
        for mode in ("regular", "lfs"):
            up, raw, client = transfer(mode, source, folder)
            rows += [
                (f"{mode} upload", up, f"{up / baseline:.2f}x"),
                (f"{mode} download (raw GET)", raw, f"{raw / baseline:.2f}x, target >= 0.50x"),
                (f"{mode} download (hf_hub_download)", client, f"{client / baseline:.2f}x"),
            ]
        for label, speed, note in rows:
            print(f"{label:<36}{speed:>8.0f} MB/s   ({note})")
        big = make_file(folder, args.memory_mb * MB, "big.zip")
        for mode in ("lfs", "regular"):
            idle, peak = upload_memory(mode, big, folder)
            target = "target < 100 MB" if mode == "lfs" else "no target"
            print(
                f"server RSS, {args.memory_mb} MB {mode} upload: idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, "
                f"+{(peak - idle) / 1024:.0f} MiB ({target})"
            )


if __name__ == "__main__":
    main()
