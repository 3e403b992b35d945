"""Hostile content sent to the local Hub: patterns, cards, commit bodies, pointer look-alikes, ref and path names.

Each test reproduces an attack found by probing the server (bounded, on 127.0.0.1) and checks what a user of the
Hub would notice: the server goes on answering others within a second, its memory stays bounded, and a refused
request writes nothing.
"""

from __future__ import annotations

import hashlib
import resource
import time
import unicodedata
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download

from huggingface_sb3 import LocalHub
from huggingface_sb3.hub_server import TokenGrant

from ._hostile import MiB, file_line, header_line, ndjson, probing, rss_bytes
from ._http import raw_request

OWNER, OWNER_TOKEN = "alice", "alice-write"
OTHER_TOKEN = "bob-write"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> LocalHub:
    data_dir = tmp_path_factory.mktemp("hostile-hub")
    with LocalHub(
        data_dir, user=OWNER, token=OWNER_TOKEN, grants=[TokenGrant(OTHER_TOKEN, "bob")], in_subprocess=True
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(hub: LocalHub) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=hub.token)


@pytest.fixture
def repo(api: HfApi, request: pytest.FixtureRequest) -> str:
    repo_id = f"{OWNER}/{request.node.name[:60].strip('_-').replace('[', '-').replace(']', '')}"
    api.create_repo(repo_id, exist_ok=True)
    return repo_id


def _lfs_objects(hub: LocalHub) -> set[str]:
    assert hub.data_dir is not None
    return {path.name for path in hub.data_dir.rglob("*") if path.is_file() and len(path.name) == 64}


def _commit(hub: LocalHub, repo_id: str, body: bytes, *, token: str = OWNER_TOKEN, query: str = "") -> dict:
    response = raw_request(
        "POST",
        f"{hub.endpoint}/api/models/{repo_id}/commit/main{query}",
        body=body,
        token=token,
        headers={"Content-Type": "application/x-ndjson"},
    )
    return {"status": response.status, "body": response.json() if response.body else {}}


# -- patterns ------------------------------------------------------------------------------------------------------


def test_backtracking_ignore_patterns_cost_milliseconds_not_seconds(hub, repo):
    """``*a*a*a*a*a*a`` + ``b`` against 100-character names froze the whole server for ~10 s (regex backtracking)."""
    patterns = "\n".join(f"*a*a*a*a*a*a*a*a*a*a*a{'*a' * (i % 5)}b" for i in range(200))
    files = [{"path": f"{'a' * 100}/{'a' * 100}{i}", "size": 1, "sample": ""} for i in range(256)]
    with probing(hub.endpoint, hub.token) as probe:
        started = time.perf_counter()
        response = raw_request(
            "POST",
            f"{hub.endpoint}/api/models/{repo}/preupload/main",
            json_body={"files": files, "gitIgnore": patterns},
            token=hub.token,
        )
        elapsed = time.perf_counter() - started
    assert response.status == 200, response.body
    assert not any(item["shouldIgnore"] for item in response.json()["files"])
    assert elapsed < 5, f"the preupload took {elapsed:.1f} s"
    assert probe.worst_latency < 1.0


def test_ignore_patterns_still_follow_git_rules(hub, repo):
    rules = "*.log\n!keep.log\nbuild/\n/top.txt\ndocs/**/*.tmp\n"
    paths = [
        "a.log",
        "keep.log",
        "x/keep.log",
        "build/out.bin",
        "src/build/x",
        "top.txt",
        "src/top.txt",
        "docs/a/b.tmp",
    ]
    response = raw_request(
        "POST",
        f"{hub.endpoint}/api/models/{repo}/preupload/main",
        json_body={"files": [{"path": path, "size": 1, "sample": ""} for path in paths], "gitIgnore": rules},
        token=hub.token,
    )
    ignored = {item["path"] for item in response.json()["files"] if item["shouldIgnore"]}
    assert ignored == {"a.log", "build/out.bin", "src/build/x", "top.txt", "docs/a/b.tmp"}


def test_too_much_pattern_matching_is_a_clear_400(hub, repo):
    files = [{"path": f"f{i}", "size": 1, "sample": ""} for i in range(2000)]
    response = raw_request(
        "POST",
        f"{hub.endpoint}/api/models/{repo}/preupload/main",
        json_body={"files": files, "gitIgnore": "\n".join(f"p{i}" for i in range(1000))},
        token=hub.token,
    )
    assert response.status == 400 and "smaller batches" in response.json()["error"]


def test_blank_lines_and_comments_in_gitattributes_do_not_break_uploads(api, repo):
    """A blank line in ``.gitattributes`` made every later ``preupload`` of the repo answer 500."""
    attributes = b"\n*.bin filter=lfs diff=lfs merge=lfs -text\n\n   \n# a comment\n*.txt -filter\n"
    api.upload_file(path_or_fileobj=attributes, path_in_repo=".gitattributes", repo_id=repo)
    api.upload_file(path_or_fileobj=b"still works", path_in_repo="after.txt", repo_id=repo)
    assert "after.txt" in api.list_repo_files(repo)


# -- cards ---------------------------------------------------------------------------------------------------------

_ALIAS_BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "library_name: stable-baselines3\n"
    "---\n"
    "# card\n"
)


def test_a_yaml_alias_bomb_in_a_card_is_not_expanded(hub, api, repo):
    """A 373-byte README made every anonymous repo info expand it: 196 MiB response, 9 s, 820 MiB RSS."""
    with pytest.raises(ValueError, match="aliases expand it to more than"):
        api.upload_file(path_or_fileobj=_ALIAS_BOMB.encode(), path_in_repo="README.md", repo_id=repo)
    assert _commit(hub, repo, ndjson(header_line(), file_line("README.md", _ALIAS_BOMB.encode())))["status"] == 200
    idle = rss_bytes(hub.pid)
    with probing(hub.endpoint, hub.token, pid=hub.pid) as probe:
        for _ in range(5):
            info = raw_request("GET", f"{hub.endpoint}/api/models/{repo}")
            listing = raw_request("GET", f"{hub.endpoint}/api/models?author={OWNER}&cardData=true")
            assert info.status == 200 and listing.status == 200
            assert len(info.body) < 64 * 1024 and len(listing.body) < 256 * 1024
    assert "cardData" not in info.json()
    assert probe.worst_latency < 1.0
    assert probe.peak_rss_growth(idle) < 150 * MiB


def test_a_run_of_newlines_in_a_card_is_read_in_linear_time(hub, api, repo):
    """huggingface_hub's card regex is cubic in a run of newlines after ``---``: 4,000 newlines took 30 s."""
    card = "---\n" + "\n" * 200_000 + "library_name: x\n"
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo)
    with probing(hub.endpoint, hub.token) as probe:
        started = time.perf_counter()
        assert raw_request("GET", f"{hub.endpoint}/api/models/{repo}").status == 200
        elapsed = time.perf_counter() - started
    assert elapsed < 2 and probe.worst_latency < 1.0


def test_an_oversized_card_is_refused_by_validate_yaml(hub):
    card = "---\n" + "".join(f"key{i}: {'v' * 60}\n" for i in range(2000)) + "---\n"
    response = raw_request("POST", f"{hub.endpoint}/api/validate-yaml", json_body={"content": card}, token=hub.token)
    assert response.status == 400 and "larger than 65536 bytes" in response.json()["errors"][0]["message"]


def test_listings_carry_card_data_only_when_asked(api, repo):
    api.upload_file(path_or_fileobj=b"---\nlicense: mit\n---\n", path_in_repo="README.md", repo_id=repo)
    plain = next(model for model in api.list_models(author=OWNER) if model.id == repo)
    asked = next(model for model in api.list_models(author=OWNER, cardData=True) if model.id == repo)
    assert plain.card_data is None and asked.card_data["license"] == "mit"


# -- commit bodies -------------------------------------------------------------------------------------------------


def test_a_huge_number_in_a_commit_is_refused_at_once(hub, api, repo):
    """One long digit run was parsed in quadratic time: 64 MiB took 8 s, 128 MiB 30 s and 577 MiB RSS."""
    head = api.model_info(repo).sha
    body = ndjson(header_line()) + b"\n" + b"7" * (64 * MiB)
    idle = rss_bytes(hub.pid)
    with probing(hub.endpoint, hub.token, pid=hub.pid) as probe:
        started = time.perf_counter()
        answer = _commit(hub, repo, body)
        elapsed = time.perf_counter() - started
    assert answer["status"] == 400 and "number longer than 256 characters" in answer["body"]["error"]
    assert elapsed < 10 and probe.worst_latency < 1.0
    assert probe.peak_rss_growth(idle) < 150 * MiB
    assert api.model_info(repo).sha == head


def test_a_commit_of_many_small_files_keeps_memory_flat(hub, api, repo):
    """Parsed lines used to be kept in a list: a 367 MiB commit of small files grew the server by 380 MiB."""
    content = bytes(47 * 1024)  # its base64 is just under the 64 KiB from which strings are spooled to disk
    lines = [header_line()] + [file_line(f"chunks/{i:05d}.bin", content + i.to_bytes(4, "big")) for i in range(4000)]
    body = ndjson(*lines)
    assert len(body) > 240 * MiB
    idle = rss_bytes(hub.pid)
    with probing(hub.endpoint, hub.token, pid=hub.pid, interval=0.02) as probe:
        answer = _commit(hub, repo, body)
    assert answer["status"] == 200, answer
    assert probe.peak_rss_growth(idle) < 150 * MiB
    assert probe.worst_latency < 1.0
    assert len([f for f in api.list_repo_files(repo) if f.startswith("chunks/")]) == 4000


def test_commits_beyond_the_file_limit_are_refused(tmp_path):
    with LocalHub(tmp_path, max_files_per_commit=3) as small:
        api = HfApi(endpoint=small.endpoint, token=small.token)
        repo_id = f"{small.user}/limited"
        api.create_repo(repo_id)
        body = ndjson(header_line(), *(file_line(f"f{i}", b"x") for i in range(4)))
        response = raw_request(
            "POST", f"{small.endpoint}/api/models/{repo_id}/commit/main", body=body, token=small.token
        )
        assert response.status == 400 and "at most 3" in response.json()["error"]
        assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_a_refused_commit_stores_no_large_file(hub, api, repo):
    """Inline files of 10 MiB and more were moved to the LFS store while parsing, and stayed after a 412 or 404."""
    big = bytes(range(256)) * (11 * 4096)
    oid = hashlib.sha256(big).hexdigest()
    stale = api.model_info(repo).sha
    api.upload_file(path_or_fileobj=b"moves main", path_in_repo="new.txt", repo_id=repo)
    stale_parent = _commit(hub, repo, ndjson(header_line(parentCommit=stale), file_line("big.bin", big)))
    missing_delete = _commit(
        hub, repo, ndjson(header_line(), file_line("big.bin", big), {"key": "deletedFile", "value": {"path": "nope"}})
    )
    assert stale_parent["status"] == 412 and missing_delete["status"] == 404
    assert oid not in _lfs_objects(hub)
    assert "big.bin" not in api.list_repo_files(repo)


def test_many_large_strings_in_one_commit_do_not_exhaust_file_descriptors(hub, api, repo):
    """Spooled strings stayed open until the commit ended: ~1,000 files over 64 KiB answered 500 (EMFILE)."""
    soft, hard = resource.prlimit(hub.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(hub.pid, resource.RLIMIT_NOFILE, (200, hard))
    try:
        content = bytes(70 * 1024)
        body = ndjson(header_line(), *(file_line(f"big/{i:04d}.bin", content + bytes([i % 256])) for i in range(400)))
        answer = _commit(hub, repo, body)
    finally:
        resource.prlimit(hub.pid, resource.RLIMIT_NOFILE, (soft, hard))
    assert answer["status"] == 200, answer
    assert len([f for f in api.list_repo_files(repo) if f.startswith("big/")]) == 400


# -- what a file is ------------------------------------------------------------------------------------------------


def test_nobody_can_later_supply_the_bytes_of_a_pointer_looking_text_file(hub, api, repo, tmp_path):
    """A text file that looks like an LFS pointer used to turn into that object once anyone uploaded it (e.g.
    another user through a pull request), changing what the owner's commit serves."""
    payload = b"swapped in by someone else " * 400_000
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(payload).hexdigest()}\nsize {len(payload)}\n"
    api.upload_file(path_or_fileobj=pointer.encode(), path_in_repo="notes.txt", repo_id=repo)
    other = HfApi(endpoint=hub.endpoint, token=OTHER_TOKEN)
    other.upload_file(path_or_fileobj=payload, path_in_repo="payload.bin", repo_id=repo, create_pr=True)
    served = hf_hub_download(repo, "notes.txt", endpoint=hub.endpoint, token=hub.token, cache_dir=tmp_path)
    assert Path(served).read_text() == pointer
    info = api.get_paths_info(repo, ["notes.txt"])[0]
    assert info.size == len(pointer)


def test_branches_and_tags_cannot_nest_under_existing_refs(api, repo):
    """Creating branch ``a/b`` while ``a`` exists (or the reverse) answered 500."""
    from huggingface_hub.errors import HfHubHTTPError

    api.create_branch(repo, branch="release")
    with pytest.raises(HfHubHTTPError) as nested:
        api.create_branch(repo, branch="release/v1")
    assert nested.value.response.status_code == 409 and "conflicts with the existing" in str(nested.value)
    api.create_tag(repo, tag="v1/final")
    with pytest.raises(HfHubHTTPError) as folder:
        api.create_tag(repo, tag="v1")
    assert folder.value.response.status_code == 409
    assert {ref.name for ref in api.list_repo_refs(repo).branches} == {"main", "release"}


def test_a_branch_named_head_is_refused(api, repo):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as refused:
        api.create_branch(repo, branch="HEAD")
    assert refused.value.response.status_code == 400 and "not 'HEAD'" in str(refused.value)


def test_composed_and_decomposed_spellings_of_a_name_are_one_file(api, repo, hub, tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "café.txt"), unicodedata.normalize("NFD", "café.txt")
    assert composed != decomposed
    api.upload_file(path_or_fileobj=b"first", path_in_repo=composed, repo_id=repo)
    api.upload_file(path_or_fileobj=b"second", path_in_repo=decomposed, repo_id=repo)
    assert [name for name in api.list_repo_files(repo) if name.startswith("caf")] == [composed]
    served = hf_hub_download(repo, decomposed, endpoint=hub.endpoint, token=hub.token, cache_dir=tmp_path)
    assert Path(served).read_bytes() == b"second"
