"""The card's score claim has one reader (``card_claim.read_claim``), and ``results.json`` one parser
(``EvaluationResult.from_json``): the grammar, the places that use them, and what they refuse."""

import ast
import csv
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from huggingface_sb3.agent_files import algorithm_from_card, env_id_from_card
from huggingface_sb3.card import generate_metadata, leaderboard_problems
from huggingface_sb3.card_claim import CardClaim, parse_score, read_claim
from huggingface_sb3.card_metadata import read_metadata
from huggingface_sb3.errors import CorruptArtifactError
from huggingface_sb3.evaluation import EvaluationResult, publisher_deterministic

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "rl-trained-agents"
BIN = Path(sys.executable).parent

READ = [
    ("500.00 +/- 0.00", (500.0, 0.0)),  # 3.0, the RL Zoo and this library: "{mean:.2f} +/- {std:.2f}"
    ("-152.37 +/- 30.91", (-152.37, 30.91)),
    ("-0.00 +/- 0.00", (-0.0, 0.0)),
    ("+12.50 +/- 1.25", (12.5, 1.25)),
    ("12.5+/-3", (12.5, 3.0)),
    ("  12.5 +/-   3  ", (12.5, 3.0)),
    ("12 +/- 0", (12.0, 0.0)),
    ("12. +/- .5", (12.0, 0.5)),
    ("1.5e3 +/- 2E1", (1500.0, 20.0)),
    ("-1.5e-2 +/- +0.25", (-0.015, 0.25)),
]
REFUSED = [
    "500.00 ± 0.00",  # the leaderboard splits on "+/-"
    "500.00",
    "500.00 +/-",
    "+/- 0.00",
    "500.00 +/- -1.00",  # a negative spread
    "- 5.00 +/- 1.00",
    "500,00 +/- 0,00",
    "500.00 +/- 0.00 +/- 1.00",
    "nan +/- nan",
    "inf +/- 0.00",
    "about 500 +/- 3",
    "500.00 +- 0.00",
    "0x1F +/- 0",
    "",
    500.0,
    None,
    ["500.00 +/- 0.00"],
]


@pytest.mark.parametrize(("value", "score"), READ)
def test_the_grammar_reads(value, score):
    assert parse_score(value) == pytest.approx(score)


@pytest.mark.parametrize("value", REFUSED)
def test_the_grammar_refuses(value):
    assert parse_score(value) is None


def _reference_scores():
    with (FIXTURES / "benchmark_reference.csv").open(newline="") as file:
        return [
            (row["algo"], row["env_id"], float(row["mean_reward"]), float(row["std_reward"]))
            for row in csv.DictReader(file)
        ]


def test_cards_3_0_writes_for_the_rl_zoo_agents_are_read_back():
    """The scores of the RL Zoo agents in the fixtures, written as 3.0's generate_metadata writes them (through
    huggingface_hub's card tools and YAML), read back to the rounded value."""
    from huggingface_hub import ModelCardData

    scores = _reference_scores()
    assert any(mean < 0 for *_, mean, _ in scores)  # Pendulum and friends: negative returns
    for algo, env_id, mean, std in scores:
        metadata = generate_metadata(algo.upper(), env_id, mean, std)
        card = read_metadata(f"---\n{ModelCardData(**metadata).to_yaml()}\n---\n# {algo}\n")
        claim = read_claim(card)
        assert claim == CardClaim(
            env_id=env_id, mean=round(mean, 2), std=round(std, 2), algo=algo.upper(), value=f"{mean:.2f} +/- {std:.2f}"
        )
        assert str(claim) == f"{mean:.2f} +/- {std:.2f}"
        assert claim.metric == "mean_reward"
        # what agent_files reads from the same model-index agrees with the claim
        assert (env_id_from_card(card), algorithm_from_card(card)) == (claim.env_id, claim.algo)


def _card(value, **changes):
    metadata = generate_metadata("PPO", "CartPole-v1", 0.0, 0.0)
    metadata["model-index"][0]["results"][0]["metrics"][0]["value"] = value
    metadata.update(changes)
    return metadata


@pytest.mark.parametrize("value", [value for value, _ in READ] + [value for value in REFUSED if isinstance(value, str)])
def test_the_leaderboard_check_uses_the_same_grammar(value):
    from huggingface_hub import ModelCardData

    readme = f"---\n{ModelCardData(**_card(value)).to_yaml()}\n---\n"
    score_problems = [problem for problem in leaderboard_problems(readme) if "mean_reward value" in problem]
    assert bool(score_problems) == (parse_score(value) is None)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {},
        "model-index",
        {"model-index": "PPO"},
        {"model-index": ["PPO"]},
        {"model-index": [{"name": "PPO", "results": "none"}]},
        {"model-index": [{"name": "PPO", "results": [{"metrics": {"type": "mean_reward"}}]}]},
        {"model-index": [{"name": "PPO", "results": [{"metrics": [{"type": "accuracy", "value": "1 +/- 0"}]}]}]},
        {"model-index": [{"name": "PPO", "results": [{"metrics": [{"type": "mean_reward"}]}]}]},
        _card("500.00 ± 0.00"),
        _card("n/a"),
    ],
)
def test_no_claim_is_read_from_cards_without_a_readable_one(metadata):
    assert read_claim(metadata) is None


def test_the_first_mean_reward_metric_is_the_claim_and_missing_names_are_none():
    metadata = {
        "model-index": [
            {"results": [{"metrics": [{"type": "accuracy", "value": "0.9"}]}]},
            {
                "name": 3,
                "results": [
                    {"metrics": [{"type": "episode_length", "value": "200 +/- 0"}]},
                    {
                        "metrics": [
                            {"type": "mean_reward", "value": "-3.5 +/- 1"},
                            {"type": "mean_reward", "value": "9 +/- 9"},
                        ]
                    },
                ],
            },
        ]
    }
    assert read_claim(metadata) == CardClaim(env_id=None, mean=-3.5, std=1.0, algo=None, value="-3.5 +/- 1")


def test_the_score_grammar_has_one_home():
    """No other module, example or command parses "+/-" scores on its own."""
    sources = [*(ROOT / "huggingface_sb3").rglob("*.py"), *(ROOT / "examples").glob("*.py")]
    parsers = [path.relative_to(ROOT).as_posix() for path in sources if re.search(r"\\\+/-", path.read_text())]
    assert parsers == ["huggingface_sb3/card_claim.py"]


def test_the_cli_reads_the_claim_with_read_claim():
    tree = ast.parse((ROOT / "huggingface_sb3" / "cli" / "evaluate.py").read_text())
    imported = {
        (node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert ("card_claim", "read_claim") in imported


def test_a_claim_holds_unless_the_measure_falls_short_by_more_than_twice_the_spread():
    claim = CardClaim(env_id="CartPole-v1", mean=200.0, std=10.0)
    assert claim.holds_for(200.0, 0.0) and claim.holds_for(178.0, 5.0)
    assert not claim.holds_for(177.0, 5.0), "200 - 2 * 10 - 1 % of 200 = 178"
    assert claim.holds_for(150.0, 25.0), "a noisier measure widens the slack"


def test_the_example_reads_the_claim_and_the_publishers_settings_from_the_package():
    tree = ast.parse((ROOT / "examples" / "load_and_evaluate.py").read_text())
    imported = {
        (node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert ("huggingface_sb3.card_claim", "read_claim") in imported
    assert ("huggingface_sb3.evaluation", "publisher_deterministic") in imported
    assert "is_deterministic" not in ast.unparse(tree)  # results.json is read by the package, not here


@pytest.fixture(scope="module")
def odd_card_folder(tmp_path_factory, ppo_cartpole):
    """A local repo folder whose card claims "+12.50 +/-3" in its second metric: only the one grammar reads it."""
    from huggingface_hub import ModelCardData

    folder = tmp_path_factory.mktemp("odd-card")
    ppo_cartpole.save(folder / "ppo-CartPole-v1.zip")
    metadata = generate_metadata("PPO", "CartPole-v1", 0.0, 0.0)
    metadata["model-index"][0]["results"][0]["metrics"] = [
        {"type": "episode_length", "value": "500"},
        {"type": "mean_reward", "value": "+12.50 +/-3", "name": "mean_reward"},
    ]
    (folder / "README.md").write_text(f"---\n{ModelCardData(**metadata).to_yaml()}\n---\n# PPO\n")
    return folder


def test_cli_evaluate_and_the_example_report_the_same_claim(odd_card_folder, tmp_path):
    evaluated = subprocess.run(
        [str(BIN / "huggingface-sb3"), "evaluate", str(odd_card_folder), "--n-eval-episodes", "1", "--seed", "0", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["claimed"] == [12.5, 3.0]
    example = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "load_and_evaluate.py"), str(odd_card_folder),
         "--n-eval-episodes", "1", "--video-length", "5", "--quiet", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )  # fmt: skip
    assert example.returncode == 0, example.stderr
    assert "The model card claims: 12.50 +/- 3.00" in example.stdout


# results.json: EvaluationResult.from_json is to_json's inverse, and how the publisher evaluated has one home


def _result(**changes):
    fields = {
        "episode_returns": (10.0, 12.5, -3.0),
        "episode_lengths": (10, 13, 4),
        "deterministic": False,
        "seed": 7,
        "eval_datetime": datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc),
        "duration_seconds": 1.5,
    }
    return EvaluationResult(**{**fields, **changes})


def test_from_json_reads_back_what_to_json_writes():
    result = _result()
    data = json.loads(json.dumps({**result.to_json(), "env_id": "CartPole-v1", "library_versions": {}}))
    assert EvaluationResult.from_json(data) == result
    naive = {**result.to_json(), "eval_datetime": "2026-11-30T12:00:00"}
    assert EvaluationResult.from_json(naive).eval_datetime == result.eval_datetime


RESULTS_3_0 = {"mean_reward": 500.0, "std_reward": 0.0, "is_deterministic": True, "n_eval_episodes": 10,
               "eval_datetime": "2022-05-10T12:00:00"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (None, "holds NoneType"),
        ([1, 2], "holds list"),
        (RESULTS_3_0, "lacks episode_returns, episode_lengths, seed"),
        ({"episode_returns": []}, "non-empty list of numbers"),
        ({"episode_returns": [1.0, "2", 3.0]}, "non-empty list of numbers"),
        ({"episode_returns": [1.0, True, 3.0]}, "non-empty list of numbers"),
        ({"episode_returns": [1.0, float("nan"), 3.0]}, "non-empty list of numbers"),
        ({"episode_returns": "10, 12"}, "non-empty list of numbers"),
        ({"episode_lengths": [10, 13.5, 4]}, "non-negative integers"),
        ({"episode_lengths": [10, 13]}, "3 episode_returns but 2 episode_lengths"),
        ({"n_eval_episodes": 10}, "n_eval_episodes is 10"),
        ({"is_deterministic": "false"}, "is_deterministic must be true or false"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"seed": None}, "seed must be an integer"),
        ({"eval_duration_seconds": "fast"}, "eval_duration_seconds"),
        ({"eval_datetime": "yesterday"}, "ISO 8601"),
        ({"eval_datetime": 1700000000}, "ISO 8601"),
    ],
)
def test_from_json_refuses_what_is_not_an_evaluation(change, message):
    data = {**_result().to_json(), **change} if isinstance(change, dict) and change is not RESULTS_3_0 else change
    with pytest.raises(CorruptArtifactError, match=re.escape(message)):
        EvaluationResult.from_json(data, source="repo/results.json")


@pytest.mark.parametrize(
    ("results", "env_id", "deterministic"),
    [
        ({"is_deterministic": False}, "CartPole-v1", False),
        ({"is_deterministic": True}, "BreakoutNoFrameskip-v4", True),
        ({"is_deterministic": "false"}, "CartPole-v1", True),  # not a recorded choice: the default
        (None, "CartPole-v1", True),
        ({}, "BreakoutNoFrameskip-v4", False),  # Atari agents are scored with stochastic actions
        ([], None, True),
    ],
)
def test_the_publishers_determinism(results, env_id, deterministic):
    assert publisher_deterministic(results, env_id) is deterministic
