"""The score a model card claims: the one reader of the ``mean_reward`` result in a card's ``model-index``.

3.0, the RL Zoo (through 3.0's ``generate_metadata``) and this library write the claim as one ``model-index``
result whose metric has ``type: mean_reward`` and a string value ``"{mean:.2f} +/- {std:.2f}"``, e.g.
``"500.00 +/- 0.00"`` or ``"-152.37 +/- 30.91"``. The score grammar, used to read claims and to validate cards:

- the mean: an optional sign (``-`` or ``+``), digits with an optional decimal part (``12``, ``12.``, ``12.50``,
  ``.5``), an optional exponent (``1.5e3``);
- then ``+/-``, with any spaces (or none) on either side;
- then the standard deviation: the same, but never negative;
- leading and trailing spaces are ignored.

``±`` is not accepted: the Deep RL leaderboard splits the value on ``+/-``, so a card written with ``±`` is one the
leaderboard cannot read, and no publisher this library knows writes it. Neither are ``nan`` or ``inf``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SCORE_METRIC", "CardClaim", "parse_score", "read_claim"]

SCORE_METRIC = "mean_reward"
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
SCORE_RE = re.compile(rf"^\s*([-+]?{_NUMBER})\s*\+/-\s*(\+?{_NUMBER})\s*$")


@dataclass(frozen=True)
class CardClaim:
    """The score a card claims for its agent.

    Attributes:
        env_id: the env id of the claim's result (its ``dataset``), None when the card names none.
        mean: the claimed mean episode return.
        std: the claimed standard deviation of the episode returns.
        metric: the metric's type (always ``"mean_reward"``).
        algo: the ``model-index`` model's name (the algorithm, e.g. ``"PPO"``), None when the card names none.
        value: the value as the card writes it, e.g. ``"500.00 +/- 0.00"``.
    """

    env_id: str | None
    mean: float
    std: float
    metric: str = SCORE_METRIC
    algo: str | None = None
    value: str = ""

    def __str__(self) -> str:
        return f"{self.mean:.2f} +/- {self.std:.2f}"

    def holds_for(self, mean: float, std: float) -> bool:
        """Whether a measured ``mean`` (with spread ``std``) supports the claim: it is not lower than the claimed
        mean by more than twice the larger spread (or 1 % of the claim)."""
        slack = 2 * max(self.std, std) + 0.01 * abs(self.mean)
        return mean >= self.mean - slack


def parse_score(value: Any) -> tuple[float, float] | None:
    """The ``(mean, std)`` of a ``"mean +/- std"`` value (see the module's grammar), None when it does not read so."""
    if not isinstance(value, str):
        return None
    match = SCORE_RE.match(value)
    return (float(match.group(1)), float(match.group(2))) if match else None


def read_claim(metadata: Mapping[str, Any] | None) -> CardClaim | None:
    """The first ``mean_reward`` claim of a card's metadata (its ``model-index``), None when it makes no readable one.

    The models of ``model-index``, their results and the results' metrics are searched in order for a metric of
    type ``mean_reward``; the first one found is the claim, and it counts only if its value reads
    ``"mean +/- std"``. Malformed metadata (wrong types anywhere) is no claim rather than an error.
    """
    index = metadata.get("model-index") if isinstance(metadata, Mapping) else None
    for model in index if isinstance(index, list) else []:
        results = model.get("results") if isinstance(model, Mapping) else None
        for result in results if isinstance(results, list) else []:
            metrics = result.get("metrics") if isinstance(result, Mapping) else None
            for metric in metrics if isinstance(metrics, list) else []:
                if isinstance(metric, Mapping) and metric.get("type") == SCORE_METRIC:
                    return _claim(model, result, metric)
    return None


def _claim(model: Mapping[str, Any], result: Mapping[str, Any], metric: Mapping[str, Any]) -> CardClaim | None:
    score = parse_score(metric.get("value"))
    if score is None:
        return None
    dataset = result.get("dataset")
    env_id = dataset.get("name") if isinstance(dataset, Mapping) else None
    algo = model.get("name")
    return CardClaim(
        env_id=env_id if isinstance(env_id, str) and env_id else None,
        mean=score[0],
        std=score[1],
        metric=SCORE_METRIC,
        algo=algo if isinstance(algo, str) and algo else None,
        value=metric["value"],
    )
