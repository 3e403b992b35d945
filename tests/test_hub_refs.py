"""Branches, tags, refs and history through the real client."""

from pathlib import Path

import pytest
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError


@pytest.fixture
def repo(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=hub_repo_id, commit_message="one")
    return hub_repo_id


def test_list_repo_refs_reports_branches_and_tags(hub_api, repo):
    head = hub_api.model_info(repo).sha
    hub_api.create_branch(repo, branch="feature/x")
    hub_api.create_tag(repo, tag="v1.0", tag_message="first release")
    hub_api.create_tag(repo, tag="light")
    refs = hub_api.list_repo_refs(repo)
    assert {(b.name, b.ref, b.target_commit) for b in refs.branches} == {
        ("main", "refs/heads/main", head),
        ("feature/x", "refs/heads/feature/x", head),
    }
    assert {(t.name, t.target_commit) for t in refs.tags} == {("v1.0", head), ("light", head)}
    assert refs.converts == []


def test_branch_from_a_starting_point_and_its_history(hub_api, repo):
    first = hub_api.list_repo_commits(repo)[0].commit_id
    hub_api.upload_file(path_or_fileobj=b"2", path_in_repo="two.txt", repo_id=repo, commit_message="two")
    hub_api.create_branch(repo, branch="old", revision=first)
    assert hub_api.list_repo_files(repo, revision="old") == [".gitattributes", "one.txt"]
    titles = [commit.title for commit in hub_api.list_repo_commits(repo)]
    assert titles == ["two", "one", "initial commit"]
    assert [commit.title for commit in hub_api.list_repo_commits(repo, revision="old")] == ["one", "initial commit"]


def test_duplicate_branch_and_tag_conflict_unless_exist_ok(hub_api, repo):
    hub_api.create_branch(repo, branch="dev")
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.create_branch(repo, branch="dev")
    assert caught.value.response.status_code == 409
    hub_api.create_branch(repo, branch="dev", exist_ok=True)
    hub_api.create_tag(repo, tag="t")
    with pytest.raises(HfHubHTTPError):
        hub_api.create_tag(repo, tag="t")
    hub_api.create_tag(repo, tag="t", exist_ok=True)


def test_delete_branch_and_tag(hub_api, repo):
    hub_api.create_branch(repo, branch="dev")
    hub_api.create_tag(repo, tag="t")
    hub_api.delete_branch(repo, branch="dev")
    hub_api.delete_tag(repo, tag="t")
    refs = hub_api.list_repo_refs(repo)
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []
    with pytest.raises(RevisionNotFoundError):
        hub_api.delete_branch(repo, branch="dev")
    with pytest.raises(RevisionNotFoundError):
        hub_api.delete_tag(repo, tag="t")


def test_main_cannot_be_deleted(hub_api, repo):
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.delete_branch(repo, branch="main")
    assert caught.value.response.status_code == 403


def test_tag_of_a_missing_revision_raises_revision_not_found(hub_api, repo):
    with pytest.raises(RevisionNotFoundError):
        hub_api.create_tag(repo, tag="t", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hub_api.create_branch(repo, branch="b", revision="0" * 40)


def test_ref_errors_use_the_hubs_words(hub_api, repo):
    hub_api.create_branch(repo, branch="cool-branch")
    with pytest.raises(HfHubHTTPError, match="Reference refs/heads/cool-branch already exists"):
        hub_api.create_branch(repo, branch="cool-branch")
    with pytest.raises(HfHubHTTPError, match="Cannot delete refs/heads/main"):
        hub_api.delete_branch(repo, branch="main")


def test_commits_formatted_as_html_on_request(hub_api, repo):
    hub_api.upload_file(path_or_fileobj=b"2", path_in_repo="two.txt", repo_id=repo, commit_message="<b>two</b> & more")
    plain, *_ = hub_api.list_repo_commits(repo)
    assert plain.formatted_title is None
    latest, *_ = hub_api.list_repo_commits(repo, formatted=True)
    assert latest.formatted_title == "&lt;b&gt;two&lt;/b&gt; &amp; more" and latest.title == "<b>two</b> & more"


def test_an_invalid_tag_on_a_missing_revision_is_a_missing_revision_as_on_the_hub(hub_api, repo):
    with pytest.raises(RevisionNotFoundError):
        hub_api.create_tag(repo, tag="invalid tag", revision="foobar")


def test_abbreviated_commit_ids_resolve_when_unambiguous(hub_api, repo):
    head = hub_api.model_info(repo).sha
    for length in (7, 12, 39):
        hub_api.create_tag(repo, tag=f"short-{length}", revision=head[:length])
        assert hub_api.model_info(repo, revision=f"short-{length}").sha == head
    assert hub_api.model_info(repo, revision=head[:7]).sha == head
    path = hub_api.hf_hub_download(repo, "one.txt", revision=head[:10])
    assert Path(path).read_text() == "1"
    with pytest.raises(RevisionNotFoundError):
        hub_api.model_info(repo, revision=head[:6])  # too short to be a commit id
    with pytest.raises(RevisionNotFoundError):
        hub_api.model_info(repo, revision="0" * 7 if not head.startswith("0" * 7) else "f" * 7)


@pytest.mark.parametrize("name", ["bad name", "a..b", "x~1", "end.lock", "-dash", "refs/heads/x", "a:b", ".hidden"])
def test_invalid_branch_names_are_refused(hub_api, repo, name):
    from huggingface_hub.errors import BadRequestError

    with pytest.raises(BadRequestError, match="Invalid branch name"):
        hub_api.create_branch(repo, branch=name)


def test_a_tag_is_not_a_commit_target(hub_api, repo):
    from huggingface_hub.errors import BadRequestError

    hub_api.create_tag(repo, tag="frozen")
    with pytest.raises(BadRequestError, match="commits go to a branch"):
        hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, revision="frozen")


def test_commits_survive_as_revisions_after_the_branch_moves(hub_api, repo):
    old = hub_api.model_info(repo).sha
    hub_api.delete_file("one.txt", repo)
    assert "one.txt" in hub_api.list_repo_files(repo, revision=old)
    assert "one.txt" not in hub_api.list_repo_files(repo)
