"""The RL Zoo's schedule classes, rebuilt without importing ``rl_zoo3``.

Agents trained by rl_zoo3 >= 2.0 store their linear schedules (``lin_3e-4`` in its hyperparameter files) as
``rl_zoo3.utils.SimpleLinearSchedule`` objects: the initial value and nothing else. :mod:`.safe_pickle` reads them as
:class:`SimpleLinearSchedule` below, an SB3 ``LinearSchedule`` from that value down to 0 over the whole training, so the
agent loads without rl_zoo3 and its schedule keeps working; saving the model again stores SB3's own class.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.utils import LinearSchedule

__all__ = ["SimpleLinearSchedule"]


class SimpleLinearSchedule(LinearSchedule):
    """``rl_zoo3.utils.SimpleLinearSchedule(initial_value)``: ``progress_remaining * initial_value``."""

    def __init__(self, initial_value: float) -> None:
        super().__init__(start=float(initial_value), end=0.0, end_fraction=1.0)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """The pickled state of rl_zoo3's class: ``{"initial_value": float}``."""
        if not isinstance(state, dict) or not isinstance(state.get("initial_value"), (int, float)):
            raise TypeError("an rl_zoo3 SimpleLinearSchedule holds one number, 'initial_value'")
        SimpleLinearSchedule.__init__(self, state["initial_value"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (LinearSchedule, (self.start, self.end, self.end_fraction))
