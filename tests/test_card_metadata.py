"""Reading a card's metadata from strangers: the same block huggingface_hub finds, at a bounded cost."""

from __future__ import annotations

import time

import pytest
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from hypothesis import given, settings
from hypothesis import strategies as st

from huggingface_sb3.card_metadata import MetadataError, MetadataLimits, read_metadata, split_readme

PIECES = ["---", "\n", "\r", "\r\n", "a: 1", " ", "-", "\n---\n", "---x", "\t", "--- \t"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10).map("".join))
def test_the_block_is_the_one_huggingface_hub_finds(readme: str) -> None:
    match = REGEX_YAML_BLOCK.search(readme)
    expected = (match.group(2), readme[match.end() :]) if match else (None, readme)
    assert split_readme(readme) == expected


@pytest.mark.parametrize(
    "readme",
    ["---\n" + "\n" * 1_000_000, "---\n" + "\n\r" * 500_000 + "---x", " " * 1_000_000 + "x", "---\n" + "a\n" * 500_000],
)
def test_finding_the_block_takes_linear_time(readme: str) -> None:
    """The 0.x regex this module used was cubic in a run of newlines after ``---``: 4,000 newlines took 30 s."""
    started = time.process_time()
    split_readme(readme)
    assert time.process_time() - started < 0.5


def _nested_aliases(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "---\n" + "\n".join(lines) + "\n---\n"


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    started = time.process_time()
    with pytest.raises(MetadataError, match="aliases expand it to more than 131072 characters"):
        read_metadata(_nested_aliases(9))
    assert time.process_time() - started < 0.5


def test_the_alias_count_and_the_block_size_are_bounded() -> None:
    many_aliases = "---\nbase: &b x\nlist: [" + ",".join(["*b"] * 101) + "]\n---\n"
    with pytest.raises(MetadataError, match="more than 100 aliases"):
        read_metadata(many_aliases)
    assert read_metadata(many_aliases, MetadataLimits(max_aliases=200))["list"][0] == "x"
    with pytest.raises(MetadataError, match="larger than 1024 bytes"):
        read_metadata("---\nkey: " + "v" * 1100 + "\n---\n", MetadataLimits(max_bytes=1024))


def test_deep_nesting_is_a_metadata_error() -> None:
    with pytest.raises(MetadataError, match="nested too deeply"):
        read_metadata("---\nk: " + "[" * 20_000 + "]" * 20_000 + "\n---\n")


def test_values_json_cannot_carry_stay_plain() -> None:
    metadata = read_metadata(
        "---\ndate: 2024-05-01\nwhen: 2024-05-01 10:00:00\ns: !!set {a, b}\nb: !!binary aGk=\n---\n"
    )
    assert metadata == {"date": "2024-05-01", "when": "2024-05-01 10:00:00", "s": ["a", "b"], "b": "aGk="}


def test_a_real_card_reads_as_before() -> None:
    card = (
        "---\nlibrary_name: stable-baselines3\ntags:\n- CartPole-v1\n- reinforcement-learning\nmodel-index:\n"
        "- name: PPO\n  results:\n  - task: {type: reinforcement-learning, name: reinforcement-learning}\n"
        "    dataset: {name: CartPole-v1, type: CartPole-v1}\n    metrics:\n"
        "    - {type: mean_reward, value: 500.00 +/- 0.00, name: mean_reward, verified: false}\n---\n# PPO\n"
    )
    metadata = read_metadata(card)
    assert metadata["tags"] == ["CartPole-v1", "reinforcement-learning"]
    assert metadata["model-index"][0]["results"][0]["metrics"][0]["value"] == "500.00 +/- 0.00"
    assert split_readme(card)[1] == "# PPO\n"
