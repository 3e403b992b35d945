"""The LFS path, as clients use it with HF_HUB_DISABLE_XET=1: preupload says lfs, batch, PUT, verify, commit."""

import hashlib
import json
import os

import pytest
from huggingface_hub import HfApi, constants

from huggingface_sb3 import LocalHub

from ._http import raw_request


@pytest.fixture(scope="module")
def lfs_hub():
    with LocalHub(upload_mode="lfs") as hub:
        yield hub


@pytest.fixture
def lfs_api(lfs_hub, monkeypatch):
    """The client with Xet disabled, exactly what HF_HUB_DISABLE_XET=1 sets at import."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    return HfApi(endpoint=lfs_hub.endpoint, token=lfs_hub.token)


@pytest.fixture
def repo(lfs_api, hub_repo_id):
    lfs_api.create_repo(hub_repo_id)
    yield hub_repo_id
    lfs_api.delete_repo(hub_repo_id)


def test_binary_files_go_through_lfs_and_download_intact(lfs_api, repo, tmp_path):
    payload = os.urandom(300_000)
    (tmp_path / "model.zip").write_bytes(payload)
    (tmp_path / "config.json").write_text('{"gamma": 0.99}')
    lfs_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    siblings = {s.rfilename: s for s in lfs_api.model_info(repo, files_metadata=True).siblings}
    assert siblings["model.zip"].lfs.sha256 == hashlib.sha256(payload).hexdigest()
    assert siblings["model.zip"].size == len(payload)
    assert siblings["config.json"].lfs is None
    with open(lfs_api.hf_hub_download(repo, "model.zip", cache_dir=tmp_path / "cache"), "rb") as file:
        assert file.read() == payload


def test_reuploading_lfs_files_makes_no_commit(lfs_api, repo, tmp_path):
    (tmp_path / "model.zip").write_bytes(os.urandom(50_000))
    first = lfs_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    second = lfs_api.upload_folder(repo_id=repo, folder_path=tmp_path)
    assert first.oid == second.oid


def test_lfs_download_headers_carry_sha256_and_size(lfs_api, repo, lfs_hub):
    payload = os.urandom(70_000)
    lfs_api.upload_file(path_or_fileobj=payload, path_in_repo="agent.zip", repo_id=repo)
    head = raw_request("HEAD", f"{lfs_hub.endpoint}/{repo}/resolve/main/agent.zip")
    assert head.headers["x-linked-etag"].strip('"') == hashlib.sha256(payload).hexdigest()
    assert head.headers["x-linked-size"] == str(len(payload))
    assert not any(name.startswith("x-xet") for name in head.headers)


def _batch(hub, repo, oid, size):
    return raw_request(
        "POST",
        f"{hub.endpoint}/{repo}.git/info/lfs/objects/batch",
        json_body={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]},
        token=hub.token,
    )


def test_batch_never_advertises_xet_and_upload_urls_need_no_token(lfs_api, repo, lfs_hub):
    payload = b"lfs object"
    oid = hashlib.sha256(payload).hexdigest()
    answer = _batch(lfs_hub, repo, oid, len(payload)).json()
    assert answer["transfer"] == "basic"
    put = raw_request("PUT", answer["objects"][0]["actions"]["upload"]["href"], body=payload)
    assert put.status == 200
    assert "actions" not in _batch(lfs_hub, repo, oid, len(payload)).json()["objects"][0]


def test_a_tampered_upload_is_refused_and_nothing_is_stored(lfs_api, repo, lfs_hub):
    announced = b"the real content"
    oid = hashlib.sha256(announced).hexdigest()
    href = _batch(lfs_hub, repo, oid, len(announced)).json()["objects"][0]["actions"]["upload"]["href"]
    tampered = raw_request("PUT", href, body=b"the evil content")
    assert tampered.status == 400 and "does not match" in tampered.json()["error"]
    too_long = raw_request("PUT", href, body=announced + b"!")
    assert too_long.status == 400
    assert "actions" in _batch(lfs_hub, repo, oid, len(announced)).json()["objects"][0]
    verify = raw_request(
        "POST",
        f"{lfs_hub.endpoint}/{repo}.git/info/lfs/objects/verify",
        json_body={"oid": oid, "size": len(announced)},
        token=lfs_hub.token,
    )
    assert verify.status == 404


def test_a_forged_upload_url_is_refused(lfs_api, repo, lfs_hub):
    payload = b"x" * 10
    oid = hashlib.sha256(payload).hexdigest()
    href = _batch(lfs_hub, repo, oid, len(payload)).json()["objects"][0]["actions"]["upload"]["href"]
    assert raw_request("PUT", href.replace("signature=", "signature=0"), body=payload).status == 403
    expired = href.split("?")[0] + "?expires=1&signature=" + href.split("signature=")[1]
    assert raw_request("PUT", expired, body=payload).status == 403


def test_committing_an_lfs_file_that_was_never_uploaded_is_refused(lfs_api, repo, lfs_hub):
    body = "\n".join(
        json.dumps(line)
        for line in (
            {"key": "header", "value": {"summary": "ghost"}},
            {"key": "lfsFile", "value": {"path": "ghost.bin", "algo": "sha256", "oid": "a" * 64, "size": 3}},
        )
    ).encode()
    response = raw_request(
        "POST",
        f"{lfs_hub.endpoint}/api/models/{repo}/commit/main",
        body=body,
        token=lfs_hub.token,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status == 400 and "was not uploaded" in response.json()["error"]
    assert lfs_api.list_repo_files(repo) == [".gitattributes"]


def test_batch_needs_a_write_token(lfs_api, repo, lfs_hub):
    response = raw_request(
        "POST",
        f"{lfs_hub.endpoint}/{repo}.git/info/lfs/objects/batch",
        json_body={"operation": "upload", "objects": [{"oid": "b" * 64, "size": 1}]},
    )
    assert response.status == 401


def test_invalid_batch_objects_are_refused(lfs_api, repo, lfs_hub):
    for objects in ([{"oid": "short", "size": 1}], [{"oid": "c" * 64, "size": -1}], "nope"):
        response = raw_request(
            "POST",
            f"{lfs_hub.endpoint}/{repo}.git/info/lfs/objects/batch",
            json_body={"operation": "upload", "objects": objects},
            token=lfs_hub.token,
        )
        assert response.status == 400


def test_text_files_stay_regular_in_lfs_mode(lfs_api, repo):
    lfs_api.upload_file(path_or_fileobj=b"# card\n", path_in_repo="README.md", repo_id=repo)
    sibling = next(s for s in lfs_api.model_info(repo, files_metadata=True).siblings if s.rfilename == "README.md")
    assert sibling.lfs is None


def test_refused_large_uploads_still_get_their_error_response(lfs_api, repo, lfs_hub):
    """The client sends the whole body before reading the answer: it must see the error, not a reset."""
    payload = os.urandom(8 * 1024 * 1024)
    oid = hashlib.sha256(payload).hexdigest()
    href = _batch(lfs_hub, repo, oid, len(payload)).json()["objects"][0]["actions"]["upload"]["href"]
    assert raw_request("PUT", href.replace("signature=", "signature=0"), body=payload).status == 403
    assert raw_request("PUT", href, body=payload + b"surplus").status == 400
    wrong_token = raw_request(
        "POST", f"{lfs_hub.endpoint}/api/models/{repo}/commit/main", body=payload, token="not-a-token"
    )
    assert wrong_token.status == 401
