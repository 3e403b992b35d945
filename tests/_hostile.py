"""Measuring a local Hub under attack (another client's latency meanwhile, the server's memory), and building the
NDJSON commit bodies the attacks send."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ._http import raw_request

MiB = 1024 * 1024


def ndjson(*lines: dict) -> bytes:
    """A commit body: one JSON object a line."""
    return b"\n".join(json.dumps(line).encode() for line in lines)


def header_line(**extra: str) -> dict:
    """The first line of a commit."""
    return {"key": "header", "value": {"summary": "hostile", **extra}}


def file_line(path: str, content: bytes) -> dict:
    """A commit line adding ``content`` inline (base64)."""
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"}}


def rss_bytes(pid: int) -> int:
    """The resident memory of a process, from ``/proc``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass
class Probe:
    """What a well-behaved client saw while the attack ran, and the server's resident memory."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    rss_samples: list[int] = field(default_factory=list)

    @property
    def worst_latency(self) -> float:
        return max(self.latencies)

    def peak_rss_growth(self, idle: int) -> int:
        return max(self.rss_samples, default=idle) - idle


@contextmanager
def probing(endpoint: str, token: str, *, pid: int | None = None, interval: float = 0.05) -> Iterator[Probe]:
    """Ask ``whoami`` over and over (and sample the server's RSS when ``pid`` is given) until the block ends."""
    probe = Probe()
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            response = raw_request("GET", f"{endpoint}/api/whoami-v2", token=token)
            probe.latencies.append(time.perf_counter() - started)
            probe.statuses.append(response.status)
            if pid is not None:
                probe.rss_samples.append(rss_bytes(pid))
            stop.wait(interval)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join(timeout=60)
    assert probe.latencies, "the probe never got an answer"
