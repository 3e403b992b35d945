"""Repos on the local Hub through the real huggingface_hub client: create, info, exists, visibility, delete."""

from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

from ._http import raw_request


def test_whoami_names_the_token_user(hub_api, local_hub):
    me = hub_api.whoami()
    assert me["name"] == local_hub.user
    assert me["auth"]["accessToken"]["role"] == "write"


def test_create_repo_returns_its_url_and_starts_with_gitattributes(hub_api, hub_repo_id, local_hub):
    url = hub_api.create_repo(hub_repo_id)
    assert url == f"{local_hub.endpoint}/{hub_repo_id}"
    assert url.repo_id == hub_repo_id
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes"]
    assert "*.zip filter=lfs" in Path(hub_api.hf_hub_download(hub_repo_id, ".gitattributes")).read_text()


def test_create_existing_repo_with_exist_ok_returns_the_url(hub_api, hub_repo_id):
    first = hub_api.create_repo(hub_repo_id)
    assert hub_api.create_repo(hub_repo_id, exist_ok=True) == first


def test_create_existing_repo_without_exist_ok_is_a_conflict(hub_api, hub_repo_id):
    from huggingface_hub.errors import HfHubHTTPError

    hub_api.create_repo(hub_repo_id)
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.create_repo(hub_repo_id)
    assert caught.value.response.status_code == 409


def test_create_repo_without_namespace_uses_the_token_user(hub_api, local_hub, new_repo_id):
    name = new_repo_id().split("/")[1]
    url = hub_api.create_repo(name)
    assert url.repo_id == f"{local_hub.user}/{name}"


def test_model_info_reports_sha_siblings_and_card_tags(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    readme = "---\nlibrary_name: stable-baselines3\nlicense: mit\ntags:\n- CartPole-v1\n---\n# Agent\n"
    commit = hub_api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=hub_repo_id)
    info = hub_api.model_info(hub_repo_id, files_metadata=True)
    assert info.sha == commit.oid
    assert info.library_name == "stable-baselines3"
    assert {"CartPole-v1", "stable-baselines3", "license:mit"} <= set(info.tags)
    sizes = {sibling.rfilename: sibling.size for sibling in info.siblings}
    assert sizes["README.md"] == len(readme)
    assert info.card_data["library_name"] == "stable-baselines3"


def test_repo_info_at_an_old_revision_lists_the_old_files(hub_api, hub_repo_id):
    first = hub_api.create_repo(hub_repo_id) and hub_api.list_repo_commits(hub_repo_id)[0].commit_id
    hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="later.txt", repo_id=hub_repo_id)
    old = hub_api.model_info(hub_repo_id, revision=first)
    assert old.sha == first
    assert [s.rfilename for s in old.siblings] == [".gitattributes"]


def test_repo_exists_and_revision_exists(hub_api, hub_repo_id):
    assert not hub_api.repo_exists(hub_repo_id)
    hub_api.create_repo(hub_repo_id)
    assert hub_api.repo_exists(hub_repo_id)
    assert hub_api.revision_exists(hub_repo_id, "main")
    assert not hub_api.revision_exists(hub_repo_id, "no-such-branch")


def test_a_repo_id_without_namespace_is_a_missing_repo_as_on_the_hub(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    assert not hub_api.repo_exists("repo-that-does-not-exist")
    assert not hub_api.repo_exists("repo-that-does-not-exist", repo_type="dataset")
    assert not hub_api.revision_exists("repo-that-does-not-exist", "main")
    assert not hub_api.file_exists("repo-that-does-not-exist", "file.txt")
    with pytest.raises(RepositoryNotFoundError):
        hub_api.list_repo_commits("repo-that-does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        hub_api.hf_hub_download("repo-that-does-not-exist", "file.txt", repo_type="dataset")
    response = raw_request("GET", f"{hub_api.endpoint}/api/models/{hub_repo_id}/no-such-endpoint")
    assert response.status == 404 and "x-error-code" not in response.headers  # still not an endpoint


def test_repo_ids_are_case_insensitive_as_on_the_hub(hub_api, local_hub, new_repo_id):
    namespace, name = new_repo_id().split("/")
    repo_id = f"{namespace}/{name.title()}"  # e.g. Test-Repo-Ids-Are-Case-Insensitive-...
    hub_api.create_repo(repo_id)
    lower = repo_id.lower()
    commit = hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=lower)
    assert hub_api.model_info(repo_id).sha == commit.oid == hub_api.model_info(repo_id.upper()).sha
    assert hub_api.model_info(lower).id == repo_id  # the id as it was created
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.create_repo(repo_id.upper())
    assert caught.value.response.status_code == 409
    assert [model.id for model in hub_api.list_models(author=local_hub.user) if model.id.lower() == lower] == [repo_id]
    hub_api.delete_repo(lower)
    assert not hub_api.repo_exists(repo_id)


def test_missing_repo_and_revision_raise_the_client_errors(hub_api, hub_repo_id):
    with pytest.raises(RepositoryNotFoundError):
        hub_api.model_info(hub_repo_id)
    hub_api.create_repo(hub_repo_id)
    with pytest.raises(RevisionNotFoundError):
        hub_api.model_info(hub_repo_id, revision="nope")


def test_delete_repo_removes_it_and_missing_ok_is_quiet(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.delete_repo(hub_repo_id)
    assert not hub_api.repo_exists(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError):
        hub_api.delete_repo(hub_repo_id)
    hub_api.delete_repo(hub_repo_id, missing_ok=True)


def test_a_deleted_repo_can_be_created_again_empty(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"old", path_in_repo="old.txt", repo_id=hub_repo_id)
    hub_api.delete_repo(hub_repo_id)
    hub_api.create_repo(hub_repo_id)
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes"]


def test_private_repo_is_invisible_without_the_owner_token(hub_api, hub_repo_id, local_hub):
    hub_api.create_repo(hub_repo_id, private=True)
    hub_api.upload_file(path_or_fileobj=b"secret", path_in_repo="secret.txt", repo_id=hub_repo_id)
    assert hub_api.model_info(hub_repo_id).private is True
    anonymous = HfApi(endpoint=local_hub.endpoint, token=False)
    assert not anonymous.repo_exists(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.hf_hub_download(hub_repo_id, "secret.txt")
    with pytest.raises(RepositoryNotFoundError):
        anonymous.list_repo_files(hub_repo_id)
    assert hub_repo_id not in [model.id for model in anonymous.list_models(author=local_hub.user)]
    assert hub_repo_id in [model.id for model in hub_api.list_models(author=local_hub.user)]


def test_visibility_can_be_changed(hub_api, hub_repo_id, local_hub):
    hub_api.create_repo(hub_repo_id, private=True)
    hub_api.update_repo_settings(hub_repo_id, private=False)
    assert HfApi(endpoint=local_hub.endpoint, token=False).repo_exists(hub_repo_id)


def test_public_repos_are_readable_anonymously(hub_api, hub_repo_id, local_hub):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id=hub_repo_id)
    anonymous = HfApi(endpoint=local_hub.endpoint, token=False)
    assert Path(anonymous.hf_hub_download(hub_repo_id, "a.txt")).read_bytes() == b"hello"


def test_list_models_filters_by_tag_like_the_leaderboard(hub_api, new_repo_id, local_hub):
    tagged, other = new_repo_id(), new_repo_id()
    for repo_id, env_id in ((tagged, "LunarLander-v3"), (other, "CartPole-v1")):
        hub_api.create_repo(repo_id)
        card = f"---\nlibrary_name: stable-baselines3\ntags: [{env_id}, reinforcement-learning]\n---\n"
        hub_api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id)
    found = [model.id for model in hub_api.list_models(filter="LunarLander-v3", author=local_hub.user)]
    assert tagged in found and other not in found


@pytest.mark.parametrize(
    "name",
    ["a--b", "a..b", "-ab", "ab-", ".ab", "ab.", "a b", "ab.git", "x" * 97, "caf\u00e9", "a/b"],
)
def test_invalid_repo_names_are_refused_with_400(local_hub, name):
    response = raw_request(
        "POST", f"{local_hub.endpoint}/api/repos/create", json_body={"name": name}, token=local_hub.token
    )
    assert response.status == 400
    assert "Invalid repo name" in response.json()["error"]


def test_valid_edge_names_are_accepted(hub_api, local_hub):
    for name in ["a", "A_b-c.d", "9" * 96, "_x"]:
        url = hub_api.create_repo(f"{local_hub.user}/{name}")
        assert url.repo_id == f"{local_hub.user}/{name}"
        hub_api.delete_repo(f"{local_hub.user}/{name}")
