"""Who is calling, and what they may do: tokens belong to users and are either read or write tokens."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._errors import HubError, repo_not_found
from ._storage import RepoMeta

Role = Literal["read", "write"]
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


@dataclass(frozen=True)
class TokenGrant:
    """A token the local Hub accepts: the user it belongs to and whether it may write."""

    token: str
    user: str
    role: Role = "write"

    def __post_init__(self) -> None:
        if not self.token or not self.user:
            raise ValueError("a token grant needs a non-empty token and user")
        if self.role not in ("read", "write"):
            raise ValueError(f"role must be 'read' or 'write', not {self.role!r}")

    def __repr__(self) -> str:
        return f"TokenGrant(token='***', user={self.user!r}, role={self.role!r})"


class Authenticator:
    """Maps ``Authorization: Bearer`` headers to grants and decides read and write access."""

    def __init__(self, grants: Iterable[TokenGrant]) -> None:
        self._grants = {grant.token: grant for grant in grants}

    def identify(self, authorization: str | None) -> TokenGrant | None:
        """The grant of the bearer token, None when anonymous; an unknown token is a 401, as on the Hub."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise HubError(401, f"{INVALID_CREDENTIALS}: expected 'Bearer <token>'.")
        grant = self.grant_of(token)
        if grant is not None:
            return grant
        raise HubError(
            401,
            f"{INVALID_CREDENTIALS}: this token is not known to the local Hub. "
            "Use the token printed when the server started (or set HF_TOKEN to it).",
            headers={"X-Error-Message": INVALID_CREDENTIALS},
        )

    def grant_of(self, token: str) -> TokenGrant | None:
        """The grant of a token, None when the local Hub does not know it (compared in constant time)."""
        found = None
        for known, grant in self._grants.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = grant
        return found

    @staticmethod
    def check_read(grant: TokenGrant | None, meta: RepoMeta) -> None:
        """A private repo is invisible (404 RepoNotFound) to everyone but its owner."""
        if meta.private and (grant is None or grant.user != meta.owner):
            raise repo_not_found()

    @staticmethod
    def require_write_token(grant: TokenGrant | None) -> TokenGrant:
        """The caller must hold a write token (of any user)."""
        if grant is None:
            raise HubError(401, "You must be authenticated to write: pass a write token (e.g. set HF_TOKEN).")
        if grant.role != "write":
            raise HubError(403, f"The token of {grant.user} is a read token: writing needs a write token.")
        return grant

    @classmethod
    def require_committer(cls, grant: TokenGrant | None, namespace: str, *, pull_request: bool) -> TokenGrant:
        """Who may commit: to a pull request, anyone with a write token; anywhere else, the namespace's owner."""
        return cls.require_write_token(grant) if pull_request else cls.require_writer(grant, namespace)

    @staticmethod
    def require_writer(grant: TokenGrant | None, namespace: str) -> TokenGrant:
        """The caller must hold a write token of the user who owns ``namespace`` (spelt in any case, as on the
        Hub)."""
        grant = Authenticator.require_write_token(grant)
        if grant.user.casefold() != namespace.casefold():
            raise HubError(
                403,
                f"You don't have the rights to write to the namespace {namespace!r}: "
                f"your token belongs to {grant.user!r}.",
            )
        return grant
