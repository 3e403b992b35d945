"""Commits through the real client: upload_folder/upload_file/create_commit, deletions, no-ops, parentCommit."""

import os
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RevisionNotFoundError

MiB = 1024 * 1024


@pytest.fixture
def repo(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    return hub_repo_id


def _read(hub_api, repo_id, path, **kwargs):
    with open(hub_api.hf_hub_download(repo_id, path, **kwargs), "rb") as file:
        return file.read()


def test_upload_folder_keeps_the_tree_and_contents(hub_api, repo, tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "sub" / "b.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "sub" / "deeper" / "c.json").write_text('{"c": 1}')
    commit = hub_api.upload_folder(repo_id=repo, folder_path=tmp_path, commit_message="add files")
    assert sorted(hub_api.list_repo_files(repo)) == [".gitattributes", "a.txt", "sub/b.bin", "sub/deeper/c.json"]
    assert _read(hub_api, repo, "sub/b.bin") == bytes(range(256)) * 10
    assert hub_api.list_repo_commits(repo)[0].commit_id == commit.oid
    assert hub_api.list_repo_commits(repo)[0].title == "add files"


def test_upload_file_from_path_bytes_and_into_a_folder(hub_api, repo, tmp_path):
    source = tmp_path / "model.zip"
    source.write_bytes(os.urandom(5000))
    hub_api.upload_file(path_or_fileobj=str(source), path_in_repo="model.zip", repo_id=repo)
    hub_api.upload_file(path_or_fileobj=b"{}", path_in_repo="nested/dir/config.json", repo_id=repo)
    assert _read(hub_api, repo, "model.zip") == source.read_bytes()
    assert _read(hub_api, repo, "nested/dir/config.json") == b"{}"


def test_reuploading_the_same_folder_makes_no_new_commit(hub_api, repo, tmp_path):
    (tmp_path / "a.txt").write_text("same")
    (tmp_path / "b.bin").write_bytes(os.urandom(3000))
    first = hub_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    second = hub_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    assert second.oid == first.oid
    assert len(hub_api.list_repo_commits(repo)) == 2


def test_create_commit_adds_and_deletes_in_one_commit(hub_api, repo):
    hub_api.create_commit(
        repo,
        operations=[
            CommitOperationAdd("old.txt", b"old"),
            CommitOperationAdd("logs/run1/events", b"1"),
            CommitOperationAdd("logs/run1/more", b"2"),
            CommitOperationAdd("keep.txt", b"keep"),
        ],
        commit_message="first",
    )
    commit = hub_api.create_commit(
        repo,
        operations=[
            CommitOperationDelete("old.txt"),
            CommitOperationDelete("logs/"),
            CommitOperationAdd("new.txt", b"new"),
        ],
        commit_message="replace",
        commit_description="why it changed",
    )
    assert sorted(hub_api.list_repo_files(repo)) == [".gitattributes", "keep.txt", "new.txt"]
    last = hub_api.list_repo_commits(repo)[0]
    assert (last.commit_id, last.title, last.message) == (commit.oid, "replace", "why it changed")


def test_delete_file_and_delete_folder(hub_api, repo):
    hub_api.create_commit(
        repo,
        operations=[CommitOperationAdd("a.txt", b"a"), CommitOperationAdd("dir/b.txt", b"b")],
        commit_message="add",
    )
    hub_api.delete_file("a.txt", repo)
    hub_api.delete_folder("dir", repo)
    assert hub_api.list_repo_files(repo) == [".gitattributes"]


def test_deleting_a_missing_file_raises_entry_not_found_and_commits_nothing(hub_api, repo):
    head = hub_api.model_info(repo).sha
    with pytest.raises(EntryNotFoundError):
        hub_api.create_commit(
            repo,
            operations=[CommitOperationAdd("new.txt", b"n"), CommitOperationDelete("missing.txt")],
            commit_message="half",
        )
    assert hub_api.model_info(repo).sha == head
    assert hub_api.list_repo_files(repo) == [".gitattributes"]


def test_a_stale_parent_commit_is_refused_and_writes_nothing(hub_api, repo):
    stale = hub_api.model_info(repo).sha
    hub_api.upload_file(path_or_fileobj=b"1", path_in_repo="first.txt", repo_id=repo)
    head = hub_api.model_info(repo).sha
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.create_commit(
            repo, operations=[CommitOperationAdd("second.txt", b"2")], commit_message="late", parent_commit=stale
        )
    assert caught.value.response.status_code == 412
    assert "The branch was updated since you opened this page. Please refresh and try again." in str(caught.value)
    assert hub_api.model_info(repo).sha == head
    assert "second.txt" not in hub_api.list_repo_files(repo)


def test_the_current_parent_commit_is_accepted(hub_api, repo):
    head = hub_api.model_info(repo).sha
    commit = hub_api.create_commit(
        repo, operations=[CommitOperationAdd("x.txt", b"x")], commit_message="ok", parent_commit=head
    )
    assert hub_api.list_repo_commits(repo)[1].commit_id == head
    assert hub_api.model_info(repo).sha == commit.oid


def test_commit_to_a_branch_leaves_main_alone(hub_api, repo):
    hub_api.create_branch(repo, branch="dev")
    hub_api.upload_file(path_or_fileobj=b"d", path_in_repo="dev.txt", repo_id=repo, revision="dev")
    assert "dev.txt" in hub_api.list_repo_files(repo, revision="dev")
    assert "dev.txt" not in hub_api.list_repo_files(repo)


def test_commit_to_a_missing_branch_raises_revision_not_found(hub_api, repo):
    with pytest.raises(RevisionNotFoundError):
        hub_api.upload_file(path_or_fileobj=b"d", path_in_repo="d.txt", repo_id=repo, revision="no-branch")


def test_create_pr_commits_to_a_pull_request_ref(hub_api, repo):
    commit = hub_api.upload_file(path_or_fileobj=b"p", path_in_repo="proposal.txt", repo_id=repo, create_pr=True)
    assert commit.pr_revision == "refs/pr/1" and commit.pr_num == 1
    assert "proposal.txt" in hub_api.list_repo_files(repo, revision=commit.pr_revision)
    assert "proposal.txt" not in hub_api.list_repo_files(repo)
    refs = hub_api.list_repo_refs(repo, include_pull_requests=True)
    assert [pr.ref for pr in refs.pull_requests] == ["refs/pr/1"]
    second = hub_api.upload_file(
        path_or_fileobj=b"q", path_in_repo="more.txt", repo_id=repo, revision=commit.pr_revision
    )
    assert hub_api.list_repo_refs(repo, include_pull_requests=True).pull_requests[0].target_commit == second.oid


def test_a_pull_request_opens_against_a_branch_only(hub_api, repo):
    head = hub_api.model_info(repo).sha
    hub_api.create_tag(repo, tag="v1")
    for base in (head, "v1"):
        with pytest.raises(RevisionNotFoundError):
            hub_api.upload_file(path_or_fileobj=b"p", path_in_repo="p.txt", repo_id=repo, revision=base, create_pr=True)
    assert hub_api.list_repo_refs(repo, include_pull_requests=True).pull_requests == []


def test_deleting_a_folder_by_its_name_without_slash_deletes_it(hub_api, repo):
    hub_api.create_commit(
        repo, operations=[CommitOperationAdd("nested/a.txt", b"a"), CommitOperationAdd("nested/b/c.txt", b"c")],
        commit_message="add",
    )  # fmt: skip
    hub_api.create_commit(repo, operations=[CommitOperationDelete("nested")], commit_message="delete the folder")
    assert hub_api.list_repo_files(repo) == [".gitattributes"]


def test_backslashes_are_part_of_a_name_but_a_path_cannot_start_with_dot_dot_backslash(hub_api, repo, tmp_path):
    with pytest.raises(HfHubHTTPError) as caught:
        hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="..\\ddd", repo_id=repo)
    assert caught.value.response.status_code == 422
    assert hub_api.list_repo_files(repo) == [".gitattributes"]
    hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="folder/..\\..\\..\\file", repo_id=repo)  # as on the Hub
    assert hub_api.list_repo_files(repo) == [".gitattributes", "folder/..\\..\\..\\file"]
    with pytest.raises(ValueError):  # and the client refuses to write it outside its folder
        hub_api.hf_hub_download(repo, "folder/..\\..\\..\\file", local_dir=tmp_path)


def test_a_card_without_metadata_is_committed_with_the_hubs_warning(hub_api, repo):
    with pytest.warns(UserWarning, match="empty or missing yaml metadata"):
        hub_api.upload_file(path_or_fileobj=b"# no metadata", path_in_repo="README.md", repo_id=repo)
    assert "README.md" in hub_api.list_repo_files(repo)


def test_a_file_cannot_replace_a_folder_or_live_inside_a_file(hub_api, repo):
    hub_api.upload_file(path_or_fileobj=b"a", path_in_repo="dir/a.txt", repo_id=repo)
    from huggingface_hub.errors import BadRequestError

    with pytest.raises(BadRequestError, match="folder with that name"):
        hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="dir", repo_id=repo)
    with pytest.raises(BadRequestError, match="is a file"):
        hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/a.txt/inner", repo_id=repo)


def test_copy_operation_copies_a_file(hub_api, repo):
    hub_api.upload_file(path_or_fileobj=b"copy me", path_in_repo="src.txt", repo_id=repo)
    hub_api.create_commit(repo, operations=[CommitOperationCopy("src.txt", "dst.txt")], commit_message="copy")
    assert _read(hub_api, repo, "dst.txt") == b"copy me"


def test_gitignored_files_are_skipped(hub_api, repo, tmp_path):
    hub_api.upload_file(path_or_fileobj=b"*.log\n", path_in_repo=".gitignore", repo_id=repo)
    (tmp_path / "keep.txt").write_text("k")
    (tmp_path / "debug.log").write_text("noise")
    hub_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    files = hub_api.list_repo_files(repo)
    assert "keep.txt" in files and "debug.log" not in files


def test_a_readme_with_broken_metadata_is_refused(hub_api, repo):
    with pytest.raises(ValueError, match="Invalid metadata"):
        hub_api.upload_file(path_or_fileobj=b"---\nmodel-index: 3\n---\n# hi\n", path_in_repo="README.md", repo_id=repo)
    assert "README.md" not in hub_api.list_repo_files(repo)


def test_a_large_inline_file_is_stored_as_lfs_and_downloads_intact(hub_api, repo, tmp_path):
    payload = os.urandom(11 * MiB)
    (tmp_path / "big.bin").write_bytes(payload)
    hub_api.upload_file(path_or_fileobj=str(tmp_path / "big.bin"), path_in_repo="big.bin", repo_id=repo)
    sibling = next(s for s in hub_api.model_info(repo, files_metadata=True).siblings if s.rfilename == "big.bin")
    assert sibling.size == len(payload)
    assert sibling.lfs is not None and sibling.lfs.size == len(payload)
    assert _read(hub_api, repo, "big.bin") == payload
    again = hub_api.upload_file(path_or_fileobj=str(tmp_path / "big.bin"), path_in_repo="big.bin", repo_id=repo)
    assert again.oid == hub_api.list_repo_commits(repo)[0].commit_id
    assert len(hub_api.list_repo_commits(repo)) == 2


def test_empty_file_round_trips(hub_api, repo):
    hub_api.upload_file(path_or_fileobj=b"", path_in_repo="empty.txt", repo_id=repo)
    assert _read(hub_api, repo, "empty.txt") == b""


def test_unicode_paths_round_trip(hub_api, repo):
    hub_api.upload_file(path_or_fileobj=b"u", path_in_repo="d\u00e9j\u00e0 vu/\u6587\u4ef6.txt", repo_id=repo)
    assert "d\u00e9j\u00e0 vu/\u6587\u4ef6.txt" in hub_api.list_repo_files(repo)
    assert _read(hub_api, repo, "d\u00e9j\u00e0 vu/\u6587\u4ef6.txt") == b"u"


def test_a_failed_pull_request_commit_leaves_no_pull_request(hub_api, repo):
    with pytest.raises(EntryNotFoundError):
        hub_api.create_commit(
            repo, operations=[CommitOperationDelete("missing.txt")], commit_message="bad pr", create_pr=True
        )
    assert hub_api.list_repo_refs(repo, include_pull_requests=True).pull_requests == []
    ok = hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, create_pr=True)
    assert ok.pr_num == 1


def test_dataset_repos_work_like_model_repos(hub_api, hub_repo_id, tmp_path):
    from huggingface_hub import hf_hub_download

    url = hub_api.create_repo(hub_repo_id, repo_type="dataset")
    assert "/datasets/" in url
    hub_api.upload_file(
        path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data.csv", repo_id=hub_repo_id, repo_type="dataset"
    )
    assert "data.csv" in hub_api.list_repo_files(hub_repo_id, repo_type="dataset")
    path = hf_hub_download(hub_repo_id, "data.csv", repo_type="dataset", cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"a,b\n1,2\n"
    assert not hub_api.repo_exists(hub_repo_id)
    hub_api.delete_repo(hub_repo_id, repo_type="dataset")
