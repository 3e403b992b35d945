"""Tokens: users, read and write tokens, namespaces, wrong tokens, private repos."""

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from huggingface_sb3 import LocalHub
from huggingface_sb3.hub_server import TokenGrant

from ._http import raw_request


@pytest.fixture(scope="module")
def hub():
    grants = [TokenGrant("alice-read", "alice", "read"), TokenGrant("bob-write", "bob", "write")]
    with LocalHub(user="alice", token="alice-write", grants=grants) as running:
        yield running


def api(hub, token):
    return HfApi(endpoint=hub.endpoint, token=token)


@pytest.fixture
def alice_repo(hub):
    owner = api(hub, "alice-write")
    repo_id = "alice/agent"
    owner.create_repo(repo_id, exist_ok=True)
    yield repo_id
    owner.delete_repo(repo_id)


def test_whoami_per_token(hub):
    assert api(hub, "alice-write").whoami()["auth"]["accessToken"]["role"] == "write"
    assert api(hub, "alice-read").whoami()["auth"]["accessToken"]["role"] == "read"
    assert api(hub, "bob-write").whoami()["name"] == "bob"


def test_wrong_token_is_refused_even_for_public_reads(hub, alice_repo):
    with pytest.raises(HfHubHTTPError) as caught:
        api(hub, "not-a-token").whoami()
    assert caught.value.response.status_code == 401
    response = raw_request("GET", f"{hub.endpoint}/api/models/{alice_repo}", token="not-a-token")
    assert response.status == 401 and "Invalid credentials" in response.json()["error"]


def test_a_read_token_cannot_write_and_nothing_changes(hub, alice_repo):
    reader = api(hub, "alice-read")
    head = reader.model_info(alice_repo).sha
    with pytest.raises(HfHubHTTPError) as caught:
        reader.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=alice_repo)
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError):
        reader.create_repo("alice/other")
    with pytest.raises(HfHubHTTPError):
        reader.create_branch(alice_repo, branch="dev")
    with pytest.raises(HfHubHTTPError):
        reader.delete_repo(alice_repo)
    assert reader.model_info(alice_repo).sha == head
    assert not reader.repo_exists("alice/other")


def test_anonymous_writes_are_refused_with_401(hub, alice_repo):
    response = raw_request("POST", f"{hub.endpoint}/api/repos/create", json_body={"name": "x", "organization": "alice"})
    assert response.status == 401
    with pytest.raises(HfHubHTTPError) as caught:
        api(hub, False).upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=alice_repo)
    assert caught.value.response.status_code == 401


def test_a_user_cannot_write_to_another_namespace(hub, alice_repo):
    bob = api(hub, "bob-write")
    with pytest.raises(HfHubHTTPError) as caught:
        bob.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=alice_repo)
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError):
        bob.create_repo("alice/bobs-repo")
    with pytest.raises(HfHubHTTPError):
        bob.delete_repo(alice_repo)
    assert api(hub, "alice-read").repo_exists(alice_repo)
    assert not api(hub, "alice-read").repo_exists("alice/bobs-repo")


def test_another_user_may_open_a_pull_request_on_a_public_repo(hub, alice_repo):
    commit = api(hub, "bob-write").upload_file(
        path_or_fileobj=b"fix", path_in_repo="fix.txt", repo_id=alice_repo, create_pr=True
    )
    assert commit.pr_revision == "refs/pr/1"
    assert "fix.txt" not in api(hub, "alice-read").list_repo_files(alice_repo)


def test_private_repo_is_not_found_for_other_users_and_anonymous(hub):
    owner = api(hub, "alice-write")
    owner.create_repo("alice/secret", private=True)
    try:
        owner.upload_file(path_or_fileobj=b"s", path_in_repo="s.txt", repo_id="alice/secret")
        assert api(hub, "alice-read").repo_exists("alice/secret")
        for stranger in (api(hub, "bob-write"), api(hub, False)):
            assert not stranger.repo_exists("alice/secret")
            with pytest.raises(RepositoryNotFoundError):
                stranger.hf_hub_download("alice/secret", "s.txt")
            with pytest.raises(RepositoryNotFoundError):
                stranger.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/secret", create_pr=True)
        head = raw_request("HEAD", f"{hub.endpoint}/alice/secret/resolve/main/s.txt")
        assert head.status == 404 and head.headers["x-error-code"] == "RepoNotFound"
    finally:
        owner.delete_repo("alice/secret")


def test_tokens_are_not_shown_in_reprs():
    assert "secret-value" not in repr(TokenGrant("secret-value", "alice"))


def test_another_user_may_upload_lfs_files_to_a_pull_request(hub, monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with LocalHub(
        tmp_path, user="alice", token="alice-write", grants=[TokenGrant("bob-write", "bob")], upload_mode="lfs"
    ) as lfs_hub:
        api(lfs_hub, "alice-write").create_repo("alice/lfs-agent")
        bob = api(lfs_hub, "bob-write")
        commit = bob.upload_file(
            path_or_fileobj=bytes(range(256)) * 100, path_in_repo="model.zip", repo_id="alice/lfs-agent", create_pr=True
        )
        files = bob.model_info("alice/lfs-agent", revision=commit.pr_revision, files_metadata=True).siblings
        assert next(s for s in files if s.rfilename == "model.zip").lfs is not None
        with pytest.raises(HfHubHTTPError) as caught:
            bob.upload_file(path_or_fileobj=bytes(range(255)) * 100, path_in_repo="m.zip", repo_id="alice/lfs-agent")
        assert caught.value.response.status_code == 403
