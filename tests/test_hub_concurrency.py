"""Concurrent commits: serialised per repo, no update lost, stale parents refused."""

from concurrent.futures import ThreadPoolExecutor

from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError


def test_concurrent_commits_lose_no_update(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)

    def commit(index):
        return hub_api.create_commit(
            hub_repo_id,
            operations=[CommitOperationAdd(f"file-{index}.txt", str(index).encode())],
            commit_message=f"commit {index}",
        ).oid

    with ThreadPoolExecutor(max_workers=8) as pool:
        commit_ids = list(pool.map(commit, range(24)))
    assert len(set(commit_ids)) == 24
    files = hub_api.list_repo_files(hub_repo_id)
    assert {f"file-{index}.txt" for index in range(24)} <= set(files)
    history = hub_api.list_repo_commits(hub_repo_id)
    assert len(history) == 25
    assert {commit.commit_id for commit in history} >= set(commit_ids)


def test_concurrent_commits_on_the_same_parent_let_exactly_one_through(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    parent = hub_api.model_info(hub_repo_id).sha

    def commit(index):
        try:
            hub_api.create_commit(
                hub_repo_id,
                operations=[CommitOperationAdd(f"racer-{index}.txt", b"r")],
                commit_message=f"racer {index}",
                parent_commit=parent,
            )
            return "ok"
        except HfHubHTTPError as error:
            return error.response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(commit, range(6)))
    assert outcomes.count("ok") == 1
    assert outcomes.count(412) == 5
    assert len([f for f in hub_api.list_repo_files(hub_repo_id) if f.startswith("racer-")]) == 1


def test_concurrent_branch_creation_creates_it_once(hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)

    def create(_):
        try:
            hub_api.create_branch(hub_repo_id, branch="contested")
            return "ok"
        except HfHubHTTPError as error:
            return error.response.status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(create, range(5)))
    assert outcomes.count("ok") == 1 and outcomes.count(409) == 4
