"""The local Hub's HTML pages in a real browser (issue 11): what package_to_hub pushed is seen offline, the replay
plays, private repos stay hidden until one signs in, and a hostile model card runs nothing.

The DOM these tests read is the pages' contract (ids and classes such as ``#evaluation .score``, ``#files tr.file``,
``tr.repo[data-repo=...]``). They need Chromium and Playwright, and skip saying how to install them otherwise (see
tests/_browser.py). Set HF_SB3_SCREENSHOTS to a folder to keep the screenshots of the model page and of ``/``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from huggingface_hub import HfApi
from huggingface_hub.hf_api import RepoFile

from huggingface_sb3 import package_to_hub
from huggingface_sb3.package import PackageResult

COMMIT_MESSAGE = "Upload PPO CartPole-v1 agent"
PLAYBACK_TIMEOUT_MS = 15_000

HOSTILE_CARD = """---
library_name: stable-baselines3
tags:
- hostile
---
# A hostile card

<script>window.pwned=1</script>

<img src=x onerror="window.pwned=2">

[x](javascript:window.pwned=3)

<iframe srcdoc="<script>parent.pwned=4</script>"></iframe>

<svg><script>window.pwned=5</script></svg>

<a href="javascript:window.pwned=6" id="clickme">click</a>

<form action="https://evil.example"><button id="go">go</button></form>

[a harmless link](#card)
"""

PRIVATE_CARD = """---
library_name: stable-baselines3
tags:
- private-test
---
# Only for its owner
"""


@dataclass(frozen=True)
class Pushed:
    """The repo package_to_hub made for this module."""

    repo_id: str
    result: PackageResult
    results: dict[str, Any]  # results.json

    @property
    def score(self) -> str:
        return f"{self.results['mean_reward']:.2f} ± {self.results['std_reward']:.2f}"


@pytest.fixture(scope="module")
def pushed(ppo_cartpole, local_hub, hub_api: HfApi) -> Iterator[Pushed]:
    """One real package_to_hub of the session's PPO CartPole agent (evaluation, replay video, card)."""
    repo_id = f"{local_hub.user}/pages-browser-{uuid.uuid4().hex[:8]}"
    result = package_to_hub(
        ppo_cartpole,
        model_name="ppo-CartPole-v1",
        model_architecture="PPO",
        env_id="CartPole-v1",
        eval_env=gym.make("CartPole-v1", render_mode="rgb_array"),
        repo_id=repo_id,
        commit_message=COMMIT_MESSAGE,
        n_eval_episodes=3,
        video_length=60,
        seed=0,
        endpoint=local_hub.endpoint,
        token=local_hub.token,
        progress=False,
    )
    results = json.loads(Path(hub_api.hf_hub_download(repo_id, "results.json")).read_text())
    yield Pushed(repo_id, result, results)
    hub_api.delete_repo(repo_id, missing_ok=True)


def _open(page, url: str, status: int = 200):
    response = page.goto(url)
    assert response is not None, f"no response for {url}"
    assert response.status == status, f"{url} answered {response.status}, expected {status}"
    return response


def _texts(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def test_model_page_shows_the_evaluation_score(page, local_hub, pushed, screenshot):
    _open(page, f"{local_hub.endpoint}/{pushed.repo_id}")

    assert page.locator("#repo-title").inner_text().strip() == pushed.repo_id
    assert _texts(page, "#evaluation .result .score") == [pushed.score]
    assert _texts(page, "#evaluation .result .metric") == ["mean_reward"]
    assert _texts(page, "#evaluation .result .env") == ["CartPole-v1"]
    screenshot(page, "model-page")


def test_replay_video_plays(page, local_hub, pushed):
    _open(page, f"{local_hub.endpoint}/{pushed.repo_id}")

    video = page.locator("video")  # the card's replay (package_to_hub's card embeds it), and no second copy
    assert video.count() == 1
    src = video.get_attribute("src")
    assert src == f"/{pushed.repo_id}/resolve/main/replay.mp4"
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v !== null && v.readyState >= 3 && v.currentTime > 0.2; }",
        timeout=PLAYBACK_TIMEOUT_MS,
    )
    state = page.evaluate(
        "() => { const v = document.querySelector('video');"
        " return {width: v.videoWidth, height: v.videoHeight, muted: v.muted, error: v.error && v.error.code}; }"
    )
    assert state["width"] > 0 and state["height"] > 0, state
    assert state["muted"] is True and state["error"] is None, state


def _check_files_table(page, api: HfApi, endpoint: str, repo_id: str) -> set[str]:
    """The model page's files table lists the repo's files, sizes and LFS marks as the server's API gives them;
    returns the paths the server stores in LFS."""
    files = sorted(api.list_repo_files(repo_id))
    assert ".gitattributes" in files
    infos = {info.path: info for info in api.get_paths_info(repo_id, files)}
    assert all(isinstance(info, RepoFile) for info in infos.values())

    _open(page, f"{endpoint}/{repo_id}")

    rows = page.locator("#files tr.file")
    assert sorted(rows.evaluate_all("rows => rows.map(row => row.dataset.path)")) == files
    for path in files:
        row = page.locator(f'#files tr.file[data-path="{path}"]')
        lfs_cell = row.locator("td.lfs").inner_text().strip()
        expected = "LFS" if infos[path].lfs is not None else ""
        assert lfs_cell == expected, f"{path}: LFS cell {lfs_cell!r}, the server says {infos[path].lfs}"
        assert row.locator("td.size").get_attribute("data-bytes") == str(infos[path].size), path
        href = row.locator("td.path a").get_attribute("href") or ""
        assert href.startswith(f"/{repo_id}/blob/") and href.endswith(f"/{path}"), (path, href)
    return {path for path, info in infos.items() if info.lfs is not None}


def test_files_table_lists_every_file_with_its_lfs_mark(page, local_hub, hub_api, pushed):
    lfs_paths = _check_files_table(page, hub_api, local_hub.endpoint, pushed.repo_id)
    # what package_to_hub stores in LFS on the real Hub: the zip and the mp4 (the session's hub stores none)
    assert lfs_paths <= {"ppo-CartPole-v1.zip", "replay.mp4"}, lfs_paths


def test_files_table_marks_what_an_lfs_hub_stores_in_lfs(page, local_hub, hub_api, pushed, monkeypatch, tmp_path):
    """The same files on a hub that stores binaries in LFS: the table marks exactly what the server says."""
    from huggingface_hub import constants

    from huggingface_sb3 import LocalHub

    folder = hub_api.snapshot_download(pushed.repo_id, local_dir=tmp_path / "files")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the LFS protocol, which the local Hub speaks
    with LocalHub(upload_mode="lfs") as lfs_hub:
        lfs_api = HfApi(endpoint=lfs_hub.endpoint, token=lfs_hub.token)
        lfs_api.create_repo(pushed.repo_id)
        card = Path(folder) / "README.md"  # its replay is a URL on the hub it was pushed to: move it here
        card.write_text(card.read_text().replace(local_hub.endpoint, lfs_hub.endpoint))
        lfs_api.upload_folder(repo_id=pushed.repo_id, folder_path=folder, ignore_patterns=[".cache/**"])
        lfs_paths = _check_files_table(page, lfs_api, lfs_hub.endpoint, pushed.repo_id)
    assert "ppo-CartPole-v1.zip" in lfs_paths, lfs_paths
    assert lfs_paths <= {"ppo-CartPole-v1.zip", "replay.mp4"}, lfs_paths


def test_commit_url_opens_the_commit_page(page, hub_api, pushed):
    commit_url = pushed.result.commit_url
    assert commit_url is not None
    _open(page, commit_url)

    assert page.locator("#commit-title").inner_text().strip() == COMMIT_MESSAGE
    added = page.locator("#changes li.change[data-change=added]").evaluate_all(
        "items => items.map(item => item.dataset.path)"
    )
    assert set(pushed.result.files) <= set(added), added
    changed = page.locator("#changes li.change").evaluate_all("items => items.map(item => item.dataset.path)")
    assert set(changed) <= set(hub_api.list_repo_files(pushed.repo_id)), changed
    parent = page.locator("#parent a")
    assert parent.count() == 1  # the repo's "initial commit" comes first
    assert "/commit/" in (parent.get_attribute("href") or "")


def test_index_lists_the_repo_and_filters_by_env(page, local_hub, pushed, screenshot):
    row_selector = f'#repos tr.repo[data-repo="{pushed.repo_id}"]'
    _open(page, f"{local_hub.endpoint}/")
    row = page.locator(row_selector)
    assert row.count() == 1
    assert row.get_attribute("data-env") == "CartPole-v1"
    assert row.locator("td.score").inner_text().strip() == pushed.score
    assert row.locator("td.algo").inner_text().strip() == "PPO"
    assert row.locator("td.name a").get_attribute("href") == f"/{pushed.repo_id}"
    screenshot(page, "index")

    _open(page, f"{local_hub.endpoint}/?env=CartPole-v1")
    assert page.locator(row_selector).count() == 1
    assert set(page.locator("#repos tr.repo").evaluate_all("rows => rows.map(row => row.dataset.env)")) == {
        "CartPole-v1"
    }
    _open(page, f"{local_hub.endpoint}/?env=Pendulum-v1")
    assert page.locator(row_selector).count() == 0

    # the same filter through the form
    _open(page, f"{local_hub.endpoint}/")
    page.locator('#filter select[name="env"]').select_option("CartPole-v1")
    with page.expect_navigation():
        page.locator("#filter button, #filter input[type=submit]").first.click()
    assert "env=CartPole-v1" in page.url
    assert page.locator(row_selector).count() == 1


def test_private_repo_is_hidden_until_signed_in(page, console_errors, local_hub, hub_api, new_repo_id):
    repo_id = new_repo_id()
    hub_api.create_repo(repo_id, private=True)
    hub_api.upload_file(path_or_fileobj=PRIVATE_CARD.encode(), path_in_repo="README.md", repo_id=repo_id)
    model_url = f"{local_hub.endpoint}/{repo_id}"
    row_selector = f'#repos tr.repo[data-repo="{repo_id}"]'
    console_errors.ignore(re.escape(f"status of 404 (Not Found) (at {model_url})") + "$")  # the browser logs it

    _open(page, model_url, status=404)
    assert page.locator("#error-status").inner_text().strip() == "404"
    _open(page, f"{local_hub.endpoint}/")
    assert page.locator(row_selector).count() == 0
    assert page.locator("#sign-in").count() == 1

    _open(page, f"{local_hub.endpoint}/login?next=/{repo_id}")
    form = page.locator("#sign-in-form")
    form.locator('input[type="password"][name="token"]').fill(local_hub.token)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert page.url == model_url, page.url
    pages = [page.content()]
    assert page.locator("#repo-title").inner_text().strip() == repo_id
    assert page.locator(".private").count() >= 1
    assert page.locator("#signed-in-as").inner_text().strip() == local_hub.user

    _open(page, model_url)
    pages.append(page.content())
    _open(page, f"{local_hub.endpoint}/")
    pages.append(page.content())
    assert page.locator(row_selector).count() == 1

    assert not any(local_hub.token in html for html in pages)
    document_cookie = page.evaluate("document.cookie")
    assert "hub_session" not in document_cookie and local_hub.token not in document_cookie
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert "hub_session" in cookies, cookies.keys()
    session = cookies["hub_session"]
    assert session["httpOnly"] is True
    assert session["value"] != local_hub.token and local_hub.token not in session["value"]
    assert session["sameSite"] == "Strict" and session["path"] == "/"


def _directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_hostile_card_runs_nothing(page, console_errors, local_hub, hub_api, new_repo_id):
    # the browser reports what the policy blocks, and the card's own <img src=x> is a 404: both are expected here
    console_errors.ignore("Content Security Policy")
    console_errors.ignore(r"Failed to load resource: .* 404 .*\(at .*/x\)$")
    repo_id = new_repo_id()
    hub_api.create_repo(repo_id)
    hub_api.upload_file(path_or_fileobj=HOSTILE_CARD.encode(), path_in_repo="README.md", repo_id=repo_id)
    model_url = f"{local_hub.endpoint}/{repo_id}"

    response = _open(page, model_url)
    policy = _directives(response.headers.get("content-security-policy", ""))
    assert policy.get("default-src") == ["'none'"], policy
    for name in ("script-src", "script-src-elem", "script-src-attr", "child-src", "frame-src"):
        assert policy.get(name, ["'none'"]) == ["'none'"], (name, policy)
    assert policy.get("form-action") == ["'self'"], policy

    card = page.locator("#card")
    assert card.count() == 1
    assert card.locator("script, iframe, svg, object, embed").count() == 0, card.inner_html()
    assert card.locator("[onerror], [onclick], [srcdoc]").count() == 0, card.inner_html()
    for link in card.locator("a[href]").all():
        assert not (link.get_attribute("href") or "").strip().lower().startswith("javascript:"), card.inner_html()

    clickable = card.locator("a, button").count()
    for index in range(clickable):
        target = page.locator("#card").locator("a, button").nth(index)
        if target.is_visible():
            target.click(no_wait_after=True)
            page.wait_for_timeout(100)
        assert page.evaluate("typeof window.pwned") == "undefined", f"clicking #{index} ran the card's script"
        if page.url.split("#")[0] != model_url:
            _open(page, model_url)
    page.wait_for_timeout(300)  # give an image's onerror or a frame a moment to run
    assert page.evaluate("typeof window.pwned") == "undefined"
