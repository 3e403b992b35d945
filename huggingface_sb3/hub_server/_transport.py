"""The local Hub's HTTP transport: uvicorn's h11 protocol with the limits a server needs against clients that
hold connections open without finishing their requests (uvicorn itself has no header or body-idle timeout).

- A connection must send a complete request head within ``header_timeout`` seconds of connecting, or of the
  first byte of its next request; otherwise it is answered 408 (or, if it sent nothing, just closed).
- While a request body is being read, ``body_timeout`` seconds without a byte are answered 408 and the
  connection closed; time during which the server itself stopped reading (flow control) does not count.
- A connection beyond ``max_connections`` is answered 503 and closed at once, and the open-file limit is
  raised to fit them all (:func:`fit_open_file_limit`), so accepting never fails with "too many open files".
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("huggingface_sb3.hub_server")

FD_RESERVE = 256
"""File descriptors kept free for the data directory, spooled uploads and the server itself, beyond one per
connection."""


@dataclass(frozen=True)
class TransportLimits:
    """The per-connection limits :class:`GuardedH11Protocol` enforces (see the module docstring)."""

    header_timeout: float
    body_timeout: float
    max_connections: int


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout, a body-idle timeout and a connection limit.

    uvicorn creates the protocol itself, so the limits are a class attribute: use :func:`guarded_protocol`.
    """

    limits: ClassVar[TransportLimits]
    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _last_byte_at = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                503,
                f"The local Hub already has {self.limits.max_connections} open connections, its limit: "
                "close idle connections, or start the Hub with a larger --max-connections.",
            )
        else:
            self._watch()

    def data_received(self, data: bytes) -> None:
        self._last_byte_at = self.loop.time()
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(head=True, body=True)
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the timer of what the connection waits for (a request head, body bytes) and disarm the other.

        An idle connection between requests is left to uvicorn's keep-alive timeout, which runs until the
        first byte of the next request arrives.
        """
        if self.transport.is_closing():
            self._cancel(head=True, body=True)
            return
        state = self.conn.their_state
        awaiting_head = state is h11.IDLE and self.timeout_keep_alive_task is None
        awaiting_body = state is h11.SEND_BODY
        self._cancel(head=not awaiting_head, body=not awaiting_body)
        if awaiting_head and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
        if awaiting_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)

    def _cancel(self, *, head: bool, body: bool) -> None:
        if head and self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if body and self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        partial_head, _ = self.conn.trailing_data
        if not partial_head:  # nothing sent: close quietly, as an idle keep-alive connection is
            self.transport.close()
            return
        self._refuse(
            408,
            f"The request head was not complete within {self.limits.header_timeout:g} s: send the request line "
            "and headers without pausing (the limit is the Hub's --header-timeout).",
        )

    def _check_body(self) -> None:
        self._body_timer = None
        now = self.loop.time()
        if self.flow.read_paused:  # the server, not the client, is holding the body back
            self._last_byte_at = now
        idle = now - self._last_byte_at
        if idle < self.limits.body_timeout:
            self._body_timer = self.loop.call_later(self.limits.body_timeout - idle, self._check_body)
            return
        self._refuse(
            408,
            f"No byte of the request body arrived for {self.limits.body_timeout:g} s: send the body without "
            "pausing (the limit is the Hub's --body-timeout).",
        )

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a Hub-style JSON error if no response has started, and close the connection.

        A request the app is handling is abandoned: its ``receive`` reports a disconnect and whatever it sends
        is dropped, as when the client goes away.
        """
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = json.dumps({"error": message}).encode()
            headers = [
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
                ("connection", "close"),
                ("x-error-message", message),
            ]
            reason = HTTPStatus(status).phrase.encode()
            self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason)))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


def guarded_protocol(limits: TransportLimits) -> type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` class bound to ``limits``, for ``uvicorn.Config(http=...)``."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


def fit_open_file_limit(max_connections: int) -> int:
    """Raise this process's soft open-file limit (toward the hard one) to fit ``max_connections`` sockets plus
    ``FD_RESERVE``; return how many connections fit. Fewer than asked is logged with the cause and the fix."""
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE, sockets are not counted against such a limit
        return max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):  # e.g. macOS refuses more than its per-process maximum
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return max_connections
    fitting = max(1, soft - FD_RESERVE)
    logger.warning(
        "The open-file limit is %d, so the local Hub serves at most %d connections instead of %d: raise the limit "
        "(ulimit -n; the hard limit with ulimit -Hn as root) or start the Hub with a smaller --max-connections.",
        soft,
        fitting,
        max_connections,
    )
    return fitting
