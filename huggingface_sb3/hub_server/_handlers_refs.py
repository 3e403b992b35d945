"""Branches, tags, pull requests and history: refs, commits, create/delete branch and tag, discussions."""

from __future__ import annotations

import html
from typing import Any

from starlette.responses import JSONResponse, Response

from ._call import Call
from ._errors import HubError, bad_request, revision_not_found
from ._gitrepo import DEFAULT_BRANCH
from ._names import validate_ref_name
from ._pagination import paginated
from ._routing import route
from ._storage import PullRequest, RepoHandle, git_identity
from ._timestamps import hub_timestamp


def list_refs(call: Call) -> Response:
    """``GET /api/{type}s/{id}/refs``: branches, tags and (with ``include_prs``) pull requests."""
    with call.open_readable() as handle:
        refs: dict[str, Any] = {
            kind: [
                {"name": name, "ref": f"refs/{folder}/{name}", "targetCommit": target}
                for name, target in handle.git.refs(f"refs/{folder}/").items()
            ]
            for kind, folder in (("branches", "heads"), ("tags", "tags"))
        }
        refs["converts"] = []
        if call.flag("include_prs"):
            refs["pullRequests"] = [
                {"name": name, "ref": f"refs/pr/{name}", "targetCommit": target}
                for name, target in handle.git.refs("refs/pr/").items()
            ]
        return JSONResponse(refs)


def list_commits(call: Call) -> Response:
    """``GET /api/{type}s/{id}/commits/{rev}``: the history of a revision, newest first, paginated."""
    formatted = "formatted" in call.request.query_params.getlist("expand[]")
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        commits = [
            {
                "id": record.commit_id,
                "title": record.title,
                "message": record.message,
                "date": hub_timestamp(record.date),
                "authors": [{"user": record.author}],
                **(
                    {"formatted": {"title": html.escape(record.title), "message": html.escape(record.message)}}
                    if formatted
                    else {}
                ),
            }
            for record in handle.git.history(commit_id)
        ]
    return paginated(call, commits)


def create_branch(call: Call) -> Response:
    """``POST /api/{type}s/{id}/branch/{branch}``: a branch at ``startingPoint`` (default: ``main``)."""
    branch = validate_ref_name(call.params["branch"], "branch")
    starting_point = call.json_field("startingPoint", str, required=False) or DEFAULT_BRANCH
    handle, _ = call.open_writable()
    with handle, call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
        commit_id, _ = call.resolve(handle, starting_point)
        if not handle.git.set_ref(f"refs/heads/{branch}", commit_id, must_not_exist=True):
            raise HubError(409, f"Reference refs/heads/{branch} already exists")  # the Hub's words
    return JSONResponse({})


def delete_branch(call: Call) -> Response:
    """``DELETE /api/{type}s/{id}/branch/{branch}``; the default branch cannot be deleted."""
    branch = call.params["branch"]
    if branch == DEFAULT_BRANCH:
        raise HubError(403, f"Cannot delete refs/heads/{DEFAULT_BRANCH}: it is the default branch.")
    handle, _ = call.open_writable()
    with handle, call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
        if not handle.git.delete_ref(f"refs/heads/{branch}"):
            raise revision_not_found(branch, handle.meta.repo_id)
    return JSONResponse({})


def create_tag(call: Call) -> Response:
    """``POST /api/{type}s/{id}/tag/{rev}``: tag a revision, annotated when ``message`` is given."""
    tag_name = call.json_field("tag", str)
    message = call.json_field("message", str, required=False)
    handle, grant = call.open_writable()
    with handle, call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
        commit_id, _ = call.resolve(handle, call.params["rev"])  # a missing revision first, as the Hub answers
        tag = validate_ref_name(tag_name, "tag")
        ref = f"refs/tags/{tag}"
        created = (
            handle.git.create_annotated_tag(ref, commit_id, message=message, tagger=git_identity(grant.user))
            if message
            else handle.git.set_ref(ref, commit_id, must_not_exist=True)
        )
        if not created:
            raise HubError(409, f"Reference refs/tags/{tag} already exists")
    return JSONResponse({})


def delete_tag(call: Call) -> Response:
    """``DELETE /api/{type}s/{id}/tag/{tag}``."""
    tag = call.params["tag"]
    handle, _ = call.open_writable()
    with handle, call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
        if not handle.git.delete_ref(f"refs/tags/{tag}"):
            raise revision_not_found(tag, handle.meta.repo_id)
    return JSONResponse({})


def open_pull_request(
    call: Call, handle: RepoHandle, *, title: str, author: str, base: str = DEFAULT_BRANCH
) -> PullRequest:
    """Create ``refs/pr/N`` at the head of the ``base`` branch and record the pull request; call under the
    repo's lock."""
    base_commit, base_ref = call.resolve(handle, base)
    if base_ref is None or not base_ref.startswith("refs/heads/"):  # the Hub: no such branch to open it against
        raise revision_not_found(base, handle.meta.repo_id)
    number = max((pr.num for pr in handle.meta.pull_requests), default=0) + 1
    pull_request = PullRequest(
        num=number,
        title=title,
        author=author,
        created_at=hub_timestamp(),
        base_ref=base_ref,
    )
    handle.git.set_ref(f"refs/pr/{number}", base_commit)
    call.hub.storage.update_meta(handle, pull_requests=(*handle.meta.pull_requests, pull_request))
    return pull_request


def discard_pull_request(call: Call, handle: RepoHandle, pull_request: PullRequest) -> None:
    """Undo :func:`open_pull_request` (its commit failed); call under the repo's lock."""
    handle.git.delete_ref(f"refs/pr/{pull_request.num}")
    kept = tuple(pr for pr in handle.meta.pull_requests if pr.num != pull_request.num)
    call.hub.storage.update_meta(handle, pull_requests=kept)


def create_discussion(call: Call) -> Response:
    """``POST /api/{type}s/{id}/discussions``: open a pull request (only pull requests are supported)."""
    title = call.json_field("title", str)
    if call.json.get("pullRequest") is not True:
        raise bad_request("The local Hub supports pull requests only: send pullRequest: true.")
    with call.open_readable() as handle:
        author = call.hub.auth.require_write_token(call.grant).user
        with call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
            pull_request = open_pull_request(call, handle, title=title, author=author)
    return JSONResponse({"num": pull_request.num, "url": f"{call.repo_url()}/discussions/{pull_request.num}"})


def discussion_details(call: Call) -> Response:
    """``GET /api/{type}s/{id}/discussions/{num}``: a pull request and the ref its changes go to."""
    with call.open_readable() as handle:
        number = call.params["num"]
        pull_request = next((pr for pr in handle.meta.pull_requests if str(pr.num) == number), None)
        if pull_request is None:
            raise HubError(404, f"Discussion #{number} does not exist in {handle.meta.repo_id}.")
        return JSONResponse(_discussion_json(call, handle, pull_request))


def list_discussions(call: Call) -> Response:
    """``GET /api/{type}s/{id}/discussions``: every pull request, newest first."""
    with call.open_readable() as handle:
        discussions = [_discussion_json(call, handle, pr) for pr in reversed(handle.meta.pull_requests)]
    return JSONResponse({"discussions": discussions, "count": len(discussions), "start": 0, "numClosedDiscussions": 0})


def _discussion_json(call: Call, handle: RepoHandle, pull_request: PullRequest) -> dict[str, Any]:
    return {
        "num": pull_request.num,
        "title": pull_request.title,
        "author": {"name": pull_request.author},
        "createdAt": pull_request.created_at,
        "status": "open",
        "isPullRequest": True,
        "repo": {"name": handle.meta.repo_id, "type": handle.meta.repo_type},
        "events": [],
        "changes": {"base": pull_request.base_ref},
        "filesWithConflicts": [],
        "pinned": False,
        "numComments": 0,
        "topReactions": [],
    }


ROUTES = (
    route("GET", "api/{t}/{ns}/{name}/refs", list_refs),
    route("GET", "api/{t}/{ns}/{name}/commits/{rev}", list_commits),
    route("POST", "api/{t}/{ns}/{name}/branch/{branch}", create_branch, body="json"),
    route("DELETE", "api/{t}/{ns}/{name}/branch/{branch}", delete_branch),
    route("POST", "api/{t}/{ns}/{name}/tag/{rev}", create_tag, body="json"),
    route("DELETE", "api/{t}/{ns}/{name}/tag/{tag}", delete_tag),
    route("GET", "api/{t}/{ns}/{name}/discussions", list_discussions),
    route("POST", "api/{t}/{ns}/{name}/discussions", create_discussion, body="json"),
    route("GET", "api/{t}/{ns}/{name}/discussions/{num}", discussion_details),
)
