"""load_from_hub: the 3.0 call, with revisions, the cache, and errors that say what to do."""

from pathlib import Path

import pytest

from huggingface_sb3 import load_from_hub
from huggingface_sb3.errors import InvalidRepoIdError, MissingFileError, RepoNotFoundError, RevisionNotFoundError


@pytest.fixture
def repo(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    first = hub_api.upload_file(path_or_fileobj=b"v1", path_in_repo="agent.zip", repo_id=hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"v2", path_in_repo="agent.zip", repo_id=hub_repo_id)
    return hub_repo_id, first.oid


def test_downloads_the_latest_file_and_pins_a_revision(repo, tmp_path):
    repo_id, first = repo
    assert Path(load_from_hub(repo_id, "agent.zip", cache_dir=tmp_path)).read_bytes() == b"v2"
    assert Path(load_from_hub(repo_id, "agent.zip", revision=first, cache_dir=tmp_path)).read_bytes() == b"v1"


def test_a_pinned_revision_is_served_from_the_cache(repo, tmp_path, local_hub):
    repo_id, first = repo
    path = load_from_hub(repo_id, "agent.zip", revision=first, cache_dir=tmp_path)
    before = local_hub.requests_received
    assert load_from_hub(repo_id, "agent.zip", revision=first, cache_dir=tmp_path) == path
    assert load_from_hub(repo_id, "agent.zip", revision=first, cache_dir=tmp_path, local_files_only=True) == path
    assert local_hub.requests_received == before


def test_errors_name_the_cause(repo, tmp_path, hub_repo_id):
    repo_id, _ = repo
    with pytest.raises(MissingFileError, match=r"has no file 'nope\.zip'"):
        load_from_hub(repo_id, "nope.zip", cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError, match="no-branch"):
        load_from_hub(repo_id, "agent.zip", revision="no-branch", cache_dir=tmp_path)
    with pytest.raises(RepoNotFoundError, match="not found"):
        load_from_hub(repo_id + "-missing", "agent.zip", cache_dir=tmp_path)
    with pytest.raises(InvalidRepoIdError):
        load_from_hub("bad id!", "agent.zip")
    with pytest.raises(MissingFileError, match="not in the local cache"):
        load_from_hub(repo_id, "agent.zip", cache_dir=tmp_path / "empty", local_files_only=True)
    assert isinstance(MissingFileError("x"), FileNotFoundError)


def test_hub_errors_are_also_requests_http_errors_as_in_3_0(repo, tmp_path):
    """3.0 raised requests' HTTPError (through huggingface_hub < 1.0); the RL Zoo catches that for optional files."""
    from requests.exceptions import HTTPError

    repo_id, _ = repo
    with pytest.raises(HTTPError) as missing:
        load_from_hub(repo_id, "vec_normalize.pkl", cache_dir=tmp_path)
    assert isinstance(missing.value, MissingFileError) and isinstance(missing.value, FileNotFoundError)
    assert missing.value.response.status_code == 404
    with pytest.raises(HTTPError) as no_repo:
        load_from_hub(repo_id + "-missing", "agent.zip", cache_dir=tmp_path)
    assert isinstance(no_repo.value, RepoNotFoundError) and no_repo.value.response.status_code in (401, 404)
    with pytest.raises(HTTPError):
        load_from_hub(repo_id, "agent.zip", revision="no-branch", cache_dir=tmp_path)


def test_hub_errors_keep_the_request_id_and_the_clients_error(repo, tmp_path):
    """Support asks for the request id; ``--debug`` shows the client's own error (with the server's message)."""
    from huggingface_hub.errors import EntryNotFoundError

    repo_id, _ = repo
    with pytest.raises(MissingFileError) as missing:
        load_from_hub(repo_id, "nope.zip", cache_dir=tmp_path)
    request_id = missing.value.response.headers["x-request-id"]
    assert len(request_id) == 32 and f"(Request ID: {request_id})" in str(missing.value)
    assert isinstance(missing.value.__cause__, EntryNotFoundError)


def test_a_gated_repo_is_reported_as_gated_not_missing():
    """huggingface_hub's GatedRepoError is a RepositoryNotFoundError; users need the other fix (accept the terms)."""
    import httpx2
    from huggingface_hub.utils import hf_raise_for_status

    from huggingface_sb3.errors import HubAccessError
    from huggingface_sb3.hub_access import hub_errors

    request = httpx2.Request("GET", "https://huggingface.co/api/models/org/gated")
    answer = httpx2.Response(
        403, headers={"X-Error-Code": "GatedRepo", "X-Request-Id": "req-123"}, json={"error": "gated"}, request=request
    )
    gated = r"is gated: accept its conditions.*\(Request ID: req-123\)"
    with pytest.raises(HubAccessError, match=gated), hub_errors("org/gated"):
        hf_raise_for_status(answer)
