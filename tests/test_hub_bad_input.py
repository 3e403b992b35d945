"""Bad input gets a 4xx with a message, never a crash, and never a half-written repo."""

import base64
import json

import pytest

from huggingface_sb3 import LocalHub

from ._http import raw_request


@pytest.fixture
def repo(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"keep", path_in_repo="keep.txt", repo_id=hub_repo_id)
    return hub_repo_id


def _commit(hub, repo_id, lines, raw=None):
    body = raw if raw is not None else "\n".join(json.dumps(line) for line in lines).encode()
    return raw_request(
        "POST",
        f"{hub.endpoint}/api/models/{repo_id}/commit/main",
        body=body,
        token=hub.token,
        headers={"Content-Type": "application/x-ndjson"},
    )


HEADER = {"key": "header", "value": {"summary": "bad"}}


def _file(path, content=b"x"):
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"}}


@pytest.mark.parametrize(
    "path",
    ["../escape.txt", "a/../../b", "/absolute.txt", ".git/config", "sub/.git/HEAD", "a//b", "./a", "..\\b", "a\x00b"],
)
def test_unsafe_paths_are_refused_and_nothing_is_written(hub_api, local_hub, repo, path):
    head = hub_api.model_info(repo).sha
    response = _commit(local_hub, repo, [HEADER, _file("fine.txt"), _file(path)])
    expected = 422 if path.startswith("..\\") else 400  # the Hub answers 422 to a path starting with ..\\
    assert response.status == expected and "Invalid path" in response.json()["error"]
    assert hub_api.model_info(repo).sha == head
    assert hub_api.list_repo_files(repo) == [".gitattributes", "keep.txt"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"key": "header", "value": {"summary": "x"}}\n{"key": "file", "value": {', "Malformed NDJSON"),
        (b'{"key": "header", "value": {"summary": "x"}} trailing', "Malformed NDJSON"),
        (b"not json at all", "Malformed NDJSON"),
        (b"", "first line of a commit"),
        (b'{"key": "file", "value": {"path": "a", "content": "eA=="}}', "first line of a commit"),
        (b'{"key": "header", "value": {}}', "summary"),
        (
            b'{"key": "header", "value": {"summary": "x"}}\n{"key": "rename", "value": {"path": "a"}}',
            "unknown commit operation",
        ),
        (b'{"key": "header", "value": {"summary": "x"}}\n["not", "an", "object"]', "Each commit line"),
        (
            b'{"key": "header", "value": {"summary": "x"}}\n{"key": "file", "value": {"path": "a", "content": "!!!!"}}',
            "not valid base64",
        ),
        (
            b'{"key": "header", "value": {"summary": "x"}}\n{"key": "file", "value": {"path": "a", "content": "eA="}}',
            "not valid base64",
        ),
        (
            b'{"key": "header", "value": {"summary": "x"}}\n{"key": "file", "value": {"path": "a", "content": "eA==eA=="}}',
            "not valid base64",
        ),
        (
            b'{"key": "header", "value": {"summary": "x"}}\n{"key": "lfsFile", "value": {"path": "a", "oid": "zz", "size": 1}}',
            "64-hex oid",
        ),
        (b'{"key": "header", "value": {"summary": "x"}}\n{"key": "deletedFile", "value": {"path": 5}}', "Invalid path"),
    ],
)
def test_malformed_commits_are_400_and_write_nothing(hub_api, local_hub, repo, raw, message):
    head = hub_api.model_info(repo).sha
    response = _commit(local_hub, repo, None, raw=raw)
    assert response.status == 400, response.body
    assert message in response.json()["error"]
    assert hub_api.model_info(repo).sha == head


def test_malformed_json_bodies_are_400(local_hub, repo):
    for body in (b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe"):
        response = raw_request(
            "POST",
            f"{local_hub.endpoint}/api/repos/create",
            body=body,
            token=local_hub.token,
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400, body
    response = raw_request(
        "POST",
        f"{local_hub.endpoint}/api/models/{repo}/preupload/main",
        json_body={"files": "nope"},
        token=local_hub.token,
    )
    assert response.status == 400


def test_oversized_bodies_are_413(repo, hub_repo_id):
    with LocalHub(max_commit_bytes=1000) as small:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=small.endpoint, token=small.token)
        api.create_repo(hub_repo_id)
        response = _commit(small, hub_repo_id, [HEADER, _file("big.bin", b"x" * 2000)])
        assert response.status == 413
        assert api.list_repo_files(hub_repo_id) == [".gitattributes"]
        huge_json = b'{"name": "' + b"x" * (17 * 1024 * 1024) + b'"}'
        response = raw_request(
            "POST",
            f"{small.endpoint}/api/repos/create",
            body=huge_json,
            token=small.token,
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 413


def test_unknown_endpoints_and_methods(local_hub, repo):
    assert raw_request("GET", f"{local_hub.endpoint}/api/unknown/thing/here/x/y/z").status == 404
    assert raw_request("DELETE", f"{local_hub.endpoint}/api/whoami-v2", token=local_hub.token).status == 405
    assert raw_request("GET", f"{local_hub.endpoint}/api/gadgets/{repo}").status == 404
    assert raw_request("GET", f"{local_hub.endpoint}/{repo}/resolve/main/%ff%fe").status == 400


def test_bad_paths_in_reads_are_400(local_hub, repo):
    assert raw_request("GET", f"{local_hub.endpoint}/{repo}/resolve/main/..%2Fkeep.txt").status == 400
    response = raw_request(
        "POST",
        f"{local_hub.endpoint}/api/models/{repo}/paths-info/main",
        body=b"paths=..%2Fx",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400


def test_the_server_keeps_serving_after_bad_input(hub_api, local_hub, repo):
    _commit(local_hub, repo, None, raw=b"\x00\x01garbage")
    raw_request("POST", f"{local_hub.endpoint}/api/repos/create", body=b"{", token=local_hub.token)
    assert hub_api.list_repo_files(repo) == [".gitattributes", "keep.txt"]


@pytest.mark.parametrize(
    "url_path",
    [
        "api/models/..%2F..%2Ftmp/x",
        "api/models/local-user/..",
        "api/models/%2E%2E/%2E%2E/revision/main",
        "..%2F..%2Fetc/passwd/resolve/main/x",
        "api/models/local-user/x%2F..%2F..%2Fy/tree/main",
    ],
)
def test_repo_names_in_urls_cannot_escape_the_data_dir(local_hub, url_path):
    response = raw_request("GET", f"{local_hub.endpoint}/{url_path}", token=local_hub.token)
    assert 400 <= response.status < 500


@pytest.mark.parametrize("revision", ["..%2F..%2Fconfig", "refs%2Fheads%2F..%2F..%2FHEAD", "a%20b", "%2Fabs"])
def test_implausible_revisions_are_not_found(hub_api, local_hub, repo, revision):
    response = raw_request("GET", f"{local_hub.endpoint}/api/models/{repo}/revision/{revision}")
    assert response.status == 404 and response.headers["x-error-code"] == "RevisionNotFound"
