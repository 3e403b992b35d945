"""Browser sign-in for the web pages: a random session id in an HttpOnly cookie stands for a token.

The cookie never holds the token itself, and only the pages (GET requests) read it: the API keeps taking
``Authorization`` headers only, so a page on another site cannot use a signed-in browser to write.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from ._auth import TokenGrant

SESSION_COOKIE = "hub_session"
MAX_SESSIONS = 1024
"""Sessions kept at once; signing in beyond that ends the least recently used one."""


class SessionStore:
    """Signed-in browsers: session id → grant, in memory (a restart signs everyone out)."""

    def __init__(self, capacity: int = MAX_SESSIONS) -> None:
        self._capacity = capacity
        self._sessions: OrderedDict[str, TokenGrant] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, grant: TokenGrant) -> str:
        """A new session id for ``grant``."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = grant
            if len(self._sessions) > self._capacity:
                self._sessions.popitem(last=False)
        return session_id

    def grant(self, session_id: str | None) -> TokenGrant | None:
        """The grant a session id stands for; None for a missing, unknown or ended session."""
        if not session_id:
            return None
        with self._lock:
            grant = self._sessions.get(session_id)
            if grant is not None:
                self._sessions.move_to_end(session_id)
            return grant

    def close(self, session_id: str | None) -> None:
        """End a session (nothing happens for an unknown one)."""
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)
