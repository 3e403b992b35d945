"""Downloads through the real client: hf_hub_download at branch, tag and commit; snapshots; ranges; caching."""

import hashlib
import os

import pytest
from huggingface_hub import CommitOperationAdd, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

from ._http import raw_request


@pytest.fixture
def versioned_repo(hub_api, hub_repo_id):
    """A repo where model.zip changes: v1 (tagged, on branch 'v1-branch'), then v2 on main."""
    hub_api.create_repo(hub_repo_id)
    v1 = hub_api.upload_file(path_or_fileobj=b"version one", path_in_repo="model.zip", repo_id=hub_repo_id)
    hub_api.create_tag(hub_repo_id, tag="v1")
    hub_api.create_branch(hub_repo_id, branch="v1-branch")
    v2 = hub_api.upload_file(path_or_fileobj=b"version two", path_in_repo="model.zip", repo_id=hub_repo_id)
    return hub_repo_id, v1.oid, v2.oid


def _content(path):
    with open(path, "rb") as file:
        return file.read()


@pytest.mark.parametrize(
    ("revision", "expected"),
    [(None, b"version two"), ("main", b"version two"), ("v1", b"version one"), ("v1-branch", b"version one")],
)
def test_download_at_branch_and_tag(versioned_repo, tmp_path, revision, expected):
    repo_id, _, _ = versioned_repo
    assert _content(hf_hub_download(repo_id, "model.zip", revision=revision, cache_dir=tmp_path)) == expected


def test_download_at_commit_ids(versioned_repo, tmp_path):
    repo_id, v1, v2 = versioned_repo
    assert _content(hf_hub_download(repo_id, "model.zip", revision=v1, cache_dir=tmp_path)) == b"version one"
    assert _content(hf_hub_download(repo_id, "model.zip", revision=v2, cache_dir=tmp_path)) == b"version two"


def test_head_reports_commit_etag_and_size(versioned_repo, local_hub):
    repo_id, _, v2 = versioned_repo
    response = raw_request("HEAD", f"{local_hub.endpoint}/{repo_id}/resolve/main/model.zip")
    assert response.status == 200
    assert response.headers["x-repo-commit"] == v2
    assert response.headers["content-length"] == str(len(b"version two"))
    # model.zip is LFS-tracked (*.zip in .gitattributes): stored as an LFS object, its ETag is its SHA-256, as on the Hub
    assert response.headers["etag"].strip('"') == hashlib.sha256(b"version two").hexdigest()
    assert response.headers["x-linked-etag"] == response.headers["etag"] and response.headers["x-linked-size"] == "11"


def test_an_untracked_file_has_its_git_blob_id_as_etag(hub_api, hub_repo_id, local_hub):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"notes", path_in_repo="notes.txt", repo_id=hub_repo_id)
    response = raw_request("HEAD", f"{local_hub.endpoint}/{hub_repo_id}/resolve/main/notes.txt")
    assert response.headers["etag"].strip('"') == _git_blob_sha1(b"notes") and "x-linked-etag" not in response.headers
    (info,) = hub_api.get_paths_info(hub_repo_id, ["notes.txt"])
    assert info.lfs is None


def test_files_gitattributes_tracks_are_stored_as_lfs_though_uploaded_inline(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"*.png filter=lfs diff=lfs merge=lfs -text\n", path_in_repo=".gitattributes",
                        repo_id=hub_repo_id)  # fmt: skip
    hub_api.upload_file(path_or_fileobj=b"image data", path_in_repo="image.png", repo_id=hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.bin", repo_id=hub_repo_id)  # no longer tracked
    (png,) = [s for s in hub_api.model_info(hub_repo_id, files_metadata=True).siblings if s.rfilename == "image.png"]
    assert png.lfs is not None and png.lfs.sha256 == hashlib.sha256(b"image data").hexdigest() and png.lfs.size == 10
    assert hub_api.get_paths_info(hub_repo_id, ["model.bin"])[0].lfs is None
    hub_api.upload_file(path_or_fileobj=b"", path_in_repo="empty.png", repo_id=hub_repo_id)
    assert hub_api.get_paths_info(hub_repo_id, ["empty.png"])[0].lfs is None  # empty files stay regular, as on the Hub
    assert _content(hub_api.hf_hub_download(hub_repo_id, "image.png")) == b"image data"


def _git_blob_sha1(data):
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_range_requests_return_partial_content(versioned_repo, local_hub):
    repo_id, _, _ = versioned_repo
    url = f"{local_hub.endpoint}/{repo_id}/resolve/main/model.zip"
    tail = raw_request("GET", url, headers={"Range": "bytes=8-"})
    assert (tail.status, tail.body) == (206, b"two")
    assert tail.headers["content-range"] == "bytes 8-10/11"
    middle = raw_request("GET", url, headers={"Range": "bytes=0-6"})
    assert (middle.status, middle.body) == (206, b"version")
    assert raw_request("GET", url, headers={"Range": "bytes=50-"}).status == 416


def test_snapshot_download_pins_the_resolved_commit(versioned_repo, tmp_path):
    repo_id, v1, _ = versioned_repo
    folder = snapshot_download(repo_id, revision="v1", cache_dir=tmp_path)
    assert os.path.basename(folder) == v1
    assert _content(os.path.join(folder, "model.zip")) == b"version one"
    assert sorted(os.listdir(folder)) == [".gitattributes", "model.zip"]


def test_snapshot_download_to_a_local_dir(versioned_repo, tmp_path):
    repo_id, _, _ = versioned_repo
    snapshot_download(repo_id, local_dir=tmp_path / "copy")
    assert (tmp_path / "copy" / "model.zip").read_bytes() == b"version two"


def test_missing_file_revision_and_repo_raise_the_client_errors(versioned_repo, tmp_path, hub_repo_id):
    repo_id, _, _ = versioned_repo
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.zip", cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "model.zip", revision="no-such-rev", cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(hub_repo_id + "-absent", "model.zip", cache_dir=tmp_path)


def test_a_folder_is_not_a_downloadable_file(hub_api, hub_repo_id, tmp_path):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/x.txt", repo_id=hub_repo_id)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(hub_repo_id, "dir", cache_dir=tmp_path)


def test_file_exists(versioned_repo, hub_api):
    repo_id, _, _ = versioned_repo
    assert hub_api.file_exists(repo_id, "model.zip")
    assert not hub_api.file_exists(repo_id, "nope.zip")
    assert not hub_api.file_exists(repo_id, "model.zip", revision="no-such-rev")


def test_second_download_of_a_pinned_commit_uses_the_cache(versioned_repo, tmp_path, local_hub):
    repo_id, v1, _ = versioned_repo
    first = hf_hub_download(repo_id, "model.zip", revision=v1, cache_dir=tmp_path)
    blob = os.path.realpath(first)
    mtime = os.stat(blob).st_mtime_ns
    second = hf_hub_download(repo_id, "model.zip", revision=v1, cache_dir=tmp_path)
    assert second == first and os.stat(blob).st_mtime_ns == mtime


def test_tree_listing_recursive_subpath_and_paths_info(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_folder(repo_id=hub_repo_id, folder_path=_make_tree(hub_api))
    top = {entry.path for entry in hub_api.list_repo_tree(hub_repo_id)}
    assert top == {".gitattributes", "a.txt", "logs"}
    everything = {entry.path for entry in hub_api.list_repo_tree(hub_repo_id, recursive=True)}
    assert everything == {".gitattributes", "a.txt", "logs", "logs/run", "logs/run/events.1", "logs/top.txt"}
    under = {entry.path for entry in hub_api.list_repo_tree(hub_repo_id, path_in_repo="logs/run")}
    assert under == {"logs/run/events.1"}
    info = hub_api.get_paths_info(hub_repo_id, ["a.txt", "logs", "missing"])
    assert {type(entry).__name__: entry.path for entry in info} == {"RepoFile": "a.txt", "RepoFolder": "logs"}
    with pytest.raises(EntryNotFoundError):
        list(hub_api.list_repo_tree(hub_repo_id, path_in_repo="nope"))


def _make_tree(hub_api):
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp())
    (root / "logs" / "run").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "logs" / "top.txt").write_text("t")
    (root / "logs" / "run" / "events.1").write_text("e")
    return root


def test_long_listings_are_paginated(hub_repo_id, tmp_path):
    from huggingface_hub import HfApi

    from huggingface_sb3 import LocalHub

    with LocalHub(page_size=3) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        api.create_repo(hub_repo_id)
        for index in range(7):
            (tmp_path / f"f{index}.txt").write_text(str(index))
        api.upload_folder(repo_id=hub_repo_id, folder_path=tmp_path)
        for index in range(4):
            api.upload_file(path_or_fileobj=b"x%d" % index, path_in_repo="f0.txt", repo_id=hub_repo_id)
        assert len(api.list_repo_files(hub_repo_id)) == 8
        assert len(api.list_repo_commits(hub_repo_id)) == 6
        page = raw_request("GET", f"{hub.endpoint}/api/models/{hub_repo_id}/tree/main?recursive=true")
        assert len(page.json()) == 3 and 'rel="next"' in page.headers["link"]


def test_expand_gives_each_entry_the_last_commit_that_changed_it(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    first = hub_api.create_commit(
        hub_repo_id, operations=[CommitOperationAdd("a.txt", b"a"), CommitOperationAdd("dir/b.txt", b"b")],
        commit_message="first",
    )  # fmt: skip
    second = hub_api.create_commit(
        hub_repo_id, operations=[CommitOperationAdd("dir/c.txt", b"c")], commit_message="second"
    )
    info = {item.path: item.last_commit for item in hub_api.get_paths_info(hub_repo_id, ["a.txt", "dir"], expand=True)}
    assert (info["a.txt"].oid, info["a.txt"].title) == (first.oid, "first")
    assert (info["dir"].oid, info["dir"].title) == (second.oid, "second")  # a folder changes with what it holds
    assert hub_api.get_paths_info(hub_repo_id, ["a.txt"])[0].last_commit is None  # only when asked
    tree = {item.path: item.last_commit for item in hub_api.list_repo_tree(hub_repo_id, recursive=True, expand=True)}
    assert tree["dir/b.txt"].oid == first.oid and tree["dir/c.txt"].oid == second.oid
    assert tree["dir/c.txt"].date is not None
