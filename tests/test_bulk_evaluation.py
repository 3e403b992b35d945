"""Many agents at once (``bulk_evaluation``): real RL Zoo agents and crafted bad repos pushed to the session's local
Hub, evaluated serially and on a real local Ray. Every bad source gives a record with its error and never stops the
others; the same seed gives the same per-episode returns whatever the backend and the worker count."""

import base64
import json
import os
import pickle
import re
import shutil
import sys
import zipfile

import pytest

from huggingface_sb3._bulk_ray import RAY_INSTALL_HINT, ray_task, stream_ray_results
from huggingface_sb3.bulk_evaluation import SourceEvaluation, evaluate_many, evaluate_source, list_author_sources
from huggingface_sb3.errors import InvalidArgumentError, MissingDependencyError

from ._zoo_agents import zoo_experiment, zoo_reference

EPISODES = 3
GOOD = (("ppo", "CartPole-v1"), ("a2c", "Pendulum-v1"), ("ars", "Acrobot-v1"))


class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _card(algo: str, env_id: str, claim: str) -> str:
    return (
        "---\nlibrary_name: stable-baselines3\ntags:\n- stable-baselines3\n- deep-reinforcement-learning\n"
        f"- {env_id}\nmodel-index:\n- name: {algo.upper()}\n  results:\n  - task:\n      type: reinforcement-learning\n"
        f"    dataset:\n      name: {env_id}\n      type: {env_id}\n    metrics:\n    - type: mean_reward\n"
        f"      value: {claim}\n      name: mean_reward\n---\n# {algo.upper()} on {env_id}\n"
    )


def _zoo_folder(folder, algo: str, env_id: str, *, claim: str | None = None):
    """A repo folder as the RL Zoo pushes one: the zip, its YAML files and statistics, and a card with a claim."""
    experiment = zoo_experiment(algo, env_id)
    folder.mkdir(parents=True)
    shutil.copy(experiment / f"{env_id}.zip", folder / f"{algo}-{env_id}.zip")
    for extra in (experiment / env_id).iterdir():
        shutil.copy(extra, folder / extra.name)
    mean, std = zoo_reference(algo, env_id)
    (folder / "README.md").write_text(_card(algo, env_id, claim or f"{mean:.2f} +/- {std:.2f}"))
    return folder


def _malicious(folder, marker):
    """The Zoo's PPO CartPole agent whose ``data`` pickles ``os.system`` (it would touch ``marker``)."""
    _zoo_folder(folder, "ppo", "CartPole-v1")
    agent = folder / "ppo-CartPole-v1.zip"
    with zipfile.ZipFile(agent) as original:
        members = {name: original.read(name) for name in original.namelist()}
    data = json.loads(members["data"])
    data["ep_info_buffer"] = {
        ":type:": "<class 'collections.deque'>",
        ":serialized:": base64.b64encode(pickle.dumps(Payload(marker))).decode(),
    }
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(agent, "w", zipfile.ZIP_DEFLATED) as crafted:
        for name, content in members.items():
            crafted.writestr(name, content)


@pytest.fixture(scope="module")
def repos(tmp_path_factory, local_hub, hub_api):
    """Good and bad repos on the local Hub, by role; deleted afterwards."""
    root = tmp_path_factory.mktemp("bulk")
    marker = root / "pwned"
    folders = {f"{algo}-{env_id}": _zoo_folder(root / f"{algo}-{env_id}", algo, env_id) for algo, env_id in GOOD}
    corrupt = _zoo_folder(root / "corrupt", "ppo", "CartPole-v1")
    agent = corrupt / "ppo-CartPole-v1.zip"
    agent.write_bytes(agent.read_bytes()[: agent.stat().st_size // 2])
    folders["corrupt"] = corrupt
    unknown_env = _zoo_folder(root / "unknown-env", "ppo", "CartPole-v1")
    (unknown_env / "README.md").write_text(_card("ppo", "NoSuchEnvironment-v7", "500.00 +/- 0.00"))
    (unknown_env / "args.yml").unlink()
    folders["unknown-env"] = unknown_env
    _malicious(root / "malicious", marker)
    folders["malicious"] = root / "malicious"
    plain = root / "not-sb3"
    plain.mkdir()
    (plain / "README.md").write_text("---\nlibrary_name: transformers\n---\n# Not an agent\n")
    folders["not-sb3"] = plain
    ids = {}
    for role, folder in folders.items():
        repo_id = f"{local_hub.user}/bulk-{role}"
        hub_api.create_repo(repo_id, exist_ok=True)
        hub_api.upload_folder(folder_path=folder, repo_id=repo_id)
        ids[role] = repo_id
    ids["missing"] = f"{local_hub.user}/bulk-no-such-repo"
    ids["marker"] = str(marker)
    yield ids
    for role, repo_id in ids.items():
        if role not in ("missing", "marker"):
            hub_api.delete_repo(repo_id, missing_ok=True)


@pytest.fixture(scope="module")
def sources(repos):
    """Good sources (repos and a local RL Zoo folder) interleaved with bad ones."""
    return [
        repos["ppo-CartPole-v1"],
        repos["corrupt"],
        repos["a2c-Pendulum-v1"],
        repos["missing"],
        str(zoo_experiment("dqn", "CartPole-v1")),
        repos["unknown-env"],
        repos["malicious"],
        repos["ars-Acrobot-v1"],
    ]


@pytest.fixture(scope="module")
def serial_records(sources):
    return list(evaluate_many(sources, n_eval_episodes=EPISODES, seed=7))


def test_serial_gives_one_record_per_source_in_order_and_bad_ones_do_not_stop_the_others(
    serial_records, sources, repos, hub_api
):
    assert [record.source for record in serial_records] == sources
    by_source = {record.source: record for record in serial_records}
    for algo, env_id in GOOD:
        record = by_source[repos[f"{algo}-{env_id}"]]
        assert record.error is None, record.error
        assert record.revision == hub_api.model_info(record.source).sha
        assert (record.algo, record.env_id) == (algo.upper(), env_id)
        assert len(record.episode_returns) == record.n_eval_episodes == EPISODES
        assert record.seed == 7 and record.deterministic is True
        assert record.claimed == pytest.approx(zoo_reference(algo, env_id), abs=0.005)
        assert record.claim_holds is True
        assert record.sha256 and len(record.sha256) == 64
        assert set(record.seconds) == {"download", "load", "evaluate"}
        assert record.seconds["download"] > 0 and record.seconds["evaluate"] > 0
    local = by_source[str(zoo_experiment("dqn", "CartPole-v1"))]
    assert local.error is None and local.revision is None and local.seconds["download"] == 0
    assert local.episode_returns == (500.0,) * EPISODES


def test_a_repo_costs_one_api_request_and_only_the_files_the_loader_reads(repos, monkeypatch, tmp_path):
    import httpx2

    requests = []
    send = httpx2.Client.send

    def counted(client, request, *args, **kwargs):
        requests.append(request.url.path)
        return send(client, request, *args, **kwargs)

    monkeypatch.setattr(httpx2.Client, "send", counted)
    source = repos["ppo-CartPole-v1"]
    record = evaluate_source(source, n_eval_episodes=1, cache_dir=tmp_path)
    assert record.error is None, record.error
    assert [path for path in requests if path.startswith("/api/")] == [f"/api/models/{source}/revision/main"]
    assert not any(path.endswith((".mp4", ".json")) and "results.json" not in path for path in requests)
    requests.clear()
    again = evaluate_source(source, n_eval_episodes=1, cache_dir=tmp_path)
    assert again.episode_returns == record.episode_returns
    assert requests == [f"/api/models/{source}/revision/main"]  # the files come from the cache


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("corrupt", r"^CorruptArtifactError: "),
        ("missing", r"^RepoNotFoundError: Repository .*bulk-no-such-repo.* not found"),
        ("unknown-env", r"^EnvironmentUnavailableError: .*NoSuchEnvironment-v7"),
        ("malicious", r"^UnsafeArtifactError: .*posix\.system|^UnsafeArtifactError: .*os\.system"),
    ],
)
def test_a_bad_source_is_a_record_with_its_error(serial_records, repos, role, expected):
    record = next(record for record in serial_records if record.source == repos[role])
    assert record.error is not None and "\n" not in record.error
    assert re.search(expected, record.error), record.error
    assert record.mean_reward is None and record.episode_returns == ()
    assert not os.path.exists(repos["marker"]), "the malicious payload ran"
    if role != "missing":
        assert record.revision is not None  # the commit was resolved before loading failed
    if role == "unknown-env":
        assert record.algo == "PPO" and record.sha256 is not None  # the agent itself loaded


def test_records_round_trip_through_json(serial_records):
    for record in serial_records:
        line = json.dumps(record.to_json())
        again = SourceEvaluation.from_json(json.loads(line))
        assert again.to_json() == record.to_json()
        assert again.episode_returns == record.episode_returns and again.claimed == record.claimed
    fields = set(serial_records[0].to_json())
    assert {"source", "revision", "algo", "env_id", "mean_reward", "std_reward", "episode_returns"} <= fields
    assert {"n_eval_episodes", "deterministic", "seed", "claimed", "claim_holds", "sha256", "placeholders"} <= fields
    assert {"error", "seconds"} <= fields
    with pytest.raises(InvalidArgumentError, match="seed"):
        SourceEvaluation.from_json({**serial_records[0].to_json(), "seed": "7"})
    with pytest.raises(InvalidArgumentError, match="JSON object"):
        SourceEvaluation.from_json([1, 2])


def test_evaluate_source_never_raises_for_the_source():
    record = evaluate_source("not a valid repo id!", n_eval_episodes=1)
    assert record.error is not None and record.error.startswith("InvalidRepoIdError: ")
    with pytest.raises(InvalidArgumentError):
        evaluate_many([], backend="dask")  # type: ignore[arg-type]


def test_list_author_sources_lists_only_the_authors_sb3_model_repos(repos, local_hub):
    listed = list_author_sources(local_hub.user)
    for role in ("ppo-CartPole-v1", "a2c-Pendulum-v1", "ars-Acrobot-v1", "corrupt", "malicious", "unknown-env"):
        assert repos[role] in listed
    assert repos["not-sb3"] not in listed
    assert all(repo_id.startswith(f"{local_hub.user}/") for repo_id in listed)
    assert listed == sorted(listed)
    assert list_author_sources("nobody-here") == []


def test_a_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(MissingDependencyError) as raised:
        evaluate_many(["sb3/ppo-CartPole-v1"], backend="ray", workers=2)
    assert RAY_INSTALL_HINT in str(raised.value) == str(raised.value)
    assert 'pip install "huggingface-sb3[ray]"' in str(raised.value)


def _comparable(records):
    return {record.source: (record.error is None, record.revision, record.episode_returns) for record in records}


@pytest.mark.parametrize("workers", [2, 1])
def test_ray_gives_the_serial_returns_whatever_the_worker_count(serial_records, sources, repos, workers):
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    records = list(evaluate_many(sources, backend="ray", workers=workers, n_eval_episodes=EPISODES, seed=7))
    assert not ray.is_initialized(), "the Ray started by evaluate_many was not shut down"
    assert sorted(record.source for record in records) == sorted(sources)
    assert _comparable(records) == _comparable(serial_records)
    errors = {record.source: record.error for record in records}
    assert {source: error.split(":")[0] for source, error in errors.items() if error} == {
        source: error.split(":")[0] for source, error in ((r.source, r.error) for r in serial_records) if error
    }
    assert not os.path.exists(repos["marker"]), "the malicious payload ran in a worker"


def test_closing_the_iteration_early_shuts_down_the_ray_it_started():
    ray = pytest.importorskip("ray")
    local = str(zoo_experiment("dqn", "CartPole-v1"))
    records = evaluate_many([local] * 3, backend="ray", workers=1, n_eval_episodes=1)
    assert not ray.is_initialized()  # nothing starts before the iteration does
    assert next(records).error is None
    assert ray.is_initialized()
    records.close()
    assert not ray.is_initialized()


def test_a_task_is_retried_once_then_its_worker_death_is_a_record(tmp_path):
    ray = pytest.importorskip("ray")
    task = ray_task(ray, forward_environment=True)
    assert task._default_options["max_retries"] == 1 and task._default_options["num_cpus"] == 1
    assert task._default_options["runtime_env"]["env_vars"]["OMP_NUM_THREADS"] == "1"
    assert "runtime_env" not in ray_task(ray, forward_environment=False)._default_options
    attempts = tmp_path / "attempts"

    @ray.remote(num_cpus=1, max_retries=1)
    def dies_on_some(source):
        from huggingface_sb3.bulk_evaluation import failed_record

        if source.startswith("die"):
            with open(attempts, "a") as file:
                file.write(f"{source} {os.getpid()}\n")
            os._exit(1)  # the worker process dies, as on a segfault or the OOM killer
        return failed_record(source, seed=0, n_eval_episodes=1, error=None)

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        records = list(
            stream_ray_results(ray, ["ok-1", "die-1", "ok-2"], dies_on_some.remote, window=2, seed=0, n_eval_episodes=1)
        )
    finally:
        ray.shutdown()
    by_source = {record.source: record for record in records}
    assert sorted(by_source) == ["die-1", "ok-1", "ok-2"]
    assert by_source["ok-1"].error is None and by_source["ok-2"].error is None
    assert by_source["die-1"].error.startswith("WorkerCrashedError: the Ray worker evaluating this source died")
    lines = attempts.read_text().splitlines()
    assert len(lines) == 2 and len({line.split()[1] for line in lines}) == 2  # retried once, in a new worker
