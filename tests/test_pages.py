"""The local Hub's web pages over HTTP: every URL the library prints opens, private repos stay hidden, cards are
sanitised, and the API keeps answering JSON. (tests/test_pages_browser.py checks the same pages in Chromium.)"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import gymnasium as gym
import pytest
import requests
from huggingface_hub import CommitOperationAdd

from huggingface_sb3 import package_to_hub

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class _Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and the text inside elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def packaged(ppo_cartpole, local_hub, tmp_path_factory):
    """A repo made by package_to_hub, as a user makes one, and what it returned."""
    repo_id = f"{local_hub.user}/pages-ppo-CartPole-v1"
    result = package_to_hub(
        ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", gym.make("CartPole-v1", render_mode="rgb_array"),
        repo_id, "Upload PPO CartPole-v1 agent", n_eval_episodes=3, video_length=30, seed=0, progress=False,
        token=local_hub.token, endpoint=local_hub.endpoint,
    )  # fmt: skip
    return repo_id, result


class Browser(requests.Session):
    """A client that asks for pages as a browser does, at the local Hub, and shows redirects rather than following."""

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.base_url = endpoint
        self.headers.update(BROWSER)

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        return super().request(method, f"{self.base_url}{url}" if url.startswith("/") else url, *args, **kwargs)


@pytest.fixture
def browser(local_hub):
    with Browser(local_hub.endpoint) as client:
        yield client


def _sign_in(client: Browser, token: str, next_path: str = "/") -> requests.Response:
    return client.post("/login", data={"token": token, "next": next_path})


def test_the_repo_url_is_the_model_page_with_score_video_files_and_commit(packaged, browser, hub_api):
    repo_id, result = packaged
    assert result.repo_url.endswith(f"/{repo_id}")
    page = browser.get(f"/{repo_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    results = json.loads(Path(hub_api.hf_hub_download(repo_id, "results.json")).read_text())
    assert f"{results['mean_reward']:.2f} ± {results['std_reward']:.2f}" in html
    tags = elements(html)
    videos = [attrs for tag, attrs in tags if tag == "video"]
    assert len(videos) == 1, "the card's replay, and no second copy beside it"
    assert videos[0]["src"] == f"/{repo_id}/resolve/main/replay.mp4", "the card's link, on this Hub"
    assert {"autoplay", "muted", "loop", "playsinline", "controls"} <= set(videos[0])
    listed = {attrs["data-path"] for tag, attrs in tags if tag == "tr" and attrs.get("class") == "file"}
    assert listed == set(hub_api.list_repo_files(repo_id))
    assert f'href="/{repo_id}/commit/{result.commit_id}"' in html
    assert "library_name:" not in html, "the card's YAML block is not shown raw"
    assert re.search(r'<li class="tag">\s*stable-baselines3\s*</li>', html)


def test_the_video_is_served_with_ranges_so_seeking_works(packaged, browser):
    repo_id, result = packaged
    whole = browser.get(f"/{repo_id}/resolve/{result.commit_id}/replay.mp4")
    part = browser.get(f"/{repo_id}/resolve/{result.commit_id}/replay.mp4", headers={"Range": "bytes=100-199"})
    assert whole.headers["content-type"] == "video/mp4"
    assert part.status_code == 206 and part.content == whole.content[100:200]


def test_the_commit_url_package_to_hub_returns_opens(packaged, browser):
    repo_id, result = packaged
    page = browser.get(result.commit_url)
    assert page.status_code == 200
    assert re.search(r'<h2 id="commit-title">Upload PPO CartPole-v1 agent</h2>', page.text)
    changes = {
        (attrs["data-change"], attrs["data-path"])
        for tag, attrs in elements(page.text)
        if tag == "li" and attrs.get("data-change")
    }
    assert {("added", name) for name in result.files} <= changes
    parent = re.search(rf'href="/{repo_id}/commit/([0-9a-f]{{40}})"', page.text)
    assert parent is not None and browser.get(f"/{repo_id}/commit/{parent.group(1)}").status_code == 200


def test_the_index_lists_the_repo_with_its_score_and_filters_by_env(packaged, browser):
    repo_id, result = packaged
    evaluation = result.evaluation
    page = browser.get("/")
    row = next(attrs for tag, attrs in elements(page.text) if tag == "tr" and attrs.get("data-repo") == repo_id)
    assert row["data-env"] == "CartPole-v1" and float(row["data-score"]) == pytest.approx(
        evaluation.mean_reward, abs=0.01
    )
    assert f"{evaluation.mean_reward:.2f} ± {evaluation.std_reward:.2f}" in page.text
    assert f'data-repo="{repo_id}"' in browser.get("/?env=CartPole-v1&sort=score").text
    assert f'data-repo="{repo_id}"' not in browser.get("/?env=Pendulum-v1").text
    assert browser.get("/?sort=nonsense").status_code == 400


def test_every_page_works_at_a_branch_a_tag_a_commit_and_a_pull_request(packaged, browser, hub_api):
    repo_id, result = packaged
    hub_api.create_tag(repo_id, tag="v1", revision=result.commit_id)
    pr = hub_api.upload_file(
        path_or_fileobj=b"notes\n", path_in_repo="notes/extra.txt", repo_id=repo_id, create_pr=True,
        commit_message="Add notes",
    )  # fmt: skip
    pr_ref = f"refs%2Fpr%2F{pr.pr_num}"
    for revision in ("main", "v1", result.commit_id, pr_ref):
        assert browser.get(f"/{repo_id}/tree/{revision}").status_code == 200, revision
        assert browser.get(f"/{repo_id}/commits/{revision}").status_code == 200, revision
        blob = browser.get(f"/{repo_id}/blob/{revision}/results.json")
        assert blob.status_code == 200 and "mean_reward" in blob.text, revision
    folder = browser.get(f"/{repo_id}/tree/{pr_ref}/notes")
    assert 'data-path="notes/extra.txt"' in folder.text
    assert "notes\n" in browser.get(f"/{repo_id}/blob/{pr_ref}/notes/extra.txt").text
    binary = browser.get(f"/{repo_id}/blob/main/replay.mp4")
    assert 'id="download"' in binary.text and "blob-text" not in binary.text
    assert browser.get(f"/{repo_id}/tree/no-such-branch").status_code == 404
    assert browser.get(f"/{repo_id}/blob/main/no-such-file").status_code == 404


def test_a_private_repo_is_hidden_until_its_owner_signs_in(local_hub, hub_api, browser):
    repo_id = f"{local_hub.user}/pages-private"
    hub_api.create_repo(repo_id, private=True, exist_ok=True)
    hub_api.upload_file(path_or_fileobj=b"# secret\n", path_in_repo="README.md", repo_id=repo_id)
    assert browser.get(f"/{repo_id}").status_code == 404
    assert repo_id not in browser.get("/").text

    signed_in = _sign_in(browser, local_hub.token, f"/{repo_id}")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/{repo_id}"
    cookie = signed_in.headers["set-cookie"]
    assert "hub_session=" in cookie and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert local_hub.token not in cookie
    page = browser.get(f"/{repo_id}")
    assert page.status_code == 200 and "secret" in page.text and local_hub.token not in page.text
    assert repo_id in browser.get("/").text

    browser.post("/logout", data={})
    assert browser.get(f"/{repo_id}").status_code == 404


def test_a_session_cookie_never_authorises_a_write(local_hub, browser):
    _sign_in(browser, local_hub.token)
    response = browser.post("/api/repos/create", json={"name": "pages-cookie-write"})
    assert response.status_code == 401


def test_sign_in_refuses_unknown_tokens_other_sites_and_open_redirects(local_hub, browser):
    refused = _sign_in(browser, "not-a-token")
    assert refused.status_code == 401 and 'id="sign-in-error"' in refused.text and "not-a-token" not in refused.text
    assert "hub_session" not in refused.headers.get("set-cookie", "")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert _sign_in(browser, local_hub.token, target).headers["location"] == "/"
    cross_site = browser.post("/login", data={"token": local_hub.token}, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403 and "hub_session" not in cross_site.headers.get("set-cookie", "")


def test_a_hostile_card_runs_nothing_and_the_policy_forbids_scripts(local_hub, hub_api, browser):
    repo_id = f"{local_hub.user}/pages-hostile"
    hub_api.create_repo(repo_id, exist_ok=True)
    card = (
        "---\ntags: ['<script>alert(1)</script>']\n---\n# Hi\n"
        "<script>alert(2)</script>\n<img src=x onerror=alert(3)>\n[x](javascript:alert(4))\n"
        '<iframe src="https://evil.example"></iframe>\n<svg><script>alert(5)</script></svg>\n'
        '<a href="JaVaScRiPt:alert(6)">y</a>\n<div style="position:fixed">z</div>\n<form action="https://evil.example"><input></form>\n'
    )
    hub_api.create_commit(repo_id, [CommitOperationAdd("README.md", card.encode())], commit_message="hostile")
    page = browser.get(f"/{repo_id}")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    tags = elements(page.text)
    assert not [tag for tag, _ in tags if tag in {"script", "iframe", "svg", "object", "embed"}]
    assert not [attrs for _, attrs in tags if any(name.startswith("on") for name in attrs)]
    assert not [attrs for _, attrs in tags if "javascript:" in (attrs.get("href") or "").lower()]
    assert not [attrs for tag, attrs in tags if tag == "form" and attrs.get("action", "").startswith("http")]
    assert "position:fixed" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, "a hostile tag is shown as text, escaped"


def test_errors_are_pages_for_browsers_and_json_for_clients(local_hub, browser):
    page = browser.get("/nobody/nothing")
    assert page.status_code == 404 and '<h1 id="error-status">404</h1>' in page.text
    api = requests.get(f"{local_hub.endpoint}/nobody/nothing/resolve/main/x.bin")
    assert api.status_code == 404 and api.headers["x-error-code"] == "RepoNotFound"
    unknown_api = requests.get(f"{local_hub.endpoint}/api/no-such-endpoint")
    assert unknown_api.status_code == 404 and unknown_api.headers["content-type"] == "application/json"


def test_the_stylesheet_and_head_requests(browser, packaged):
    repo_id, _ = packaged
    css = browser.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "#evaluation" in css.text
    head = browser.head(f"/{repo_id}")
    assert head.status_code == 200 and head.content == b""


def test_a_card_without_a_video_gets_the_replay_beside_it(local_hub, hub_api, browser, packaged):
    repo_id = f"{local_hub.user}/pages-plain-card"
    hub_api.create_repo(repo_id, exist_ok=True)
    source, _ = packaged
    replay = hub_api.hf_hub_download(source, "replay.mp4")
    commit = hub_api.create_commit(
        repo_id, [CommitOperationAdd("README.md", b"# An agent\n"), CommitOperationAdd("replay.mp4", replay)],
        commit_message="plain card",
    )  # fmt: skip
    tags = elements(browser.get(f"/{repo_id}").text)
    videos = [attrs for tag, attrs in tags if tag == "video"]
    assert len(videos) == 1 and videos[0]["id"] == "replay"
    assert videos[0]["src"] == f"/{repo_id}/resolve/{commit.oid}/replay.mp4"
