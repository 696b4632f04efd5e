"""Which task each step of a multi-task epoch trains on.

A :class:`TaskSampler` turns the tasks' sizes (training examples, or
batches) into the sequence of task indices of one epoch. Every draw is
seeded by ``(seed, epoch)``, so an epoch gives the same sequence every time
it is made: resuming from a checkpoint in the middle of an epoch is exact.

The samplers, with ``n_i`` the size of task ``i``:

- ``proportional``: ``p_i = n_i / sum(n)``.
- ``uniform``: ``p_i = 1 / k`` for ``k`` tasks.
- ``temperature``: ``p_i ∝ min(n_i, cap) ** (1 / T)``; ``T = 1`` without a cap
  is proportional, a large ``T`` tends to uniform.
- ``annealed`` (Stickland and Murray, 2019): ``p_i ∝ n_i ** alpha_e`` with
  ``alpha_e = 1 - (1 - 1 / T_final) * e / (E - 1)`` in epoch ``e`` (counted
  from 0) of ``E``: proportional in the first epoch, ``T_final`` in the last.
  The paper's ``alpha = 1 - 0.8 (e - 1) / (E - 1)`` (epochs from 1) is
  ``T_final = 5``, the default. A run of one epoch stays proportional.
- ``round_robin``: tasks in turn, 0, 1, ..., k - 1, 0, ...; no randomness.

>>> sampler = temperature(2.0)
>>> sampler.probabilities([900, 100]).round(3)
array([0.75, 0.25])
>>> sampler.draw([900, 100], steps=5, seed=0, epoch=0)
array([0, 0, 0, 1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ptm_fast import _checks

SAMPLER_KINDS = ("proportional", "uniform", "temperature", "annealed", "round_robin")


@dataclass(frozen=True)
class TaskSampler:
    """How to choose the task of every step; build one with the functions of this module."""

    kind: str = "proportional"  # one of SAMPLER_KINDS
    temperature: float = 1.0  # "temperature": T; "annealed": T of the last epoch
    cap: int | None = None  # "temperature": sizes above cap count as cap

    def __post_init__(self) -> None:
        """Refuse an unknown kind, a temperature of 0 or below and a cap below 1."""
        if self.kind not in SAMPLER_KINDS:
            raise ValueError(
                f"sampler kind must be one of {list(SAMPLER_KINDS)}, got {self.kind!r}"
            )
        temperature = _checks.number("temperature", self.temperature)
        if not temperature > 0 or not np.isfinite(temperature):
            raise ValueError(f"the sampler temperature must be above 0, got {self.temperature}")
        if self.cap is not None:
            _checks.integer("cap", self.cap, minimum=1)

    def probabilities(self, sizes: Sequence[int], epoch: int = 0, epochs: int = 1) -> np.ndarray:
        """Each task's chance of being drawn at a step of ``epoch`` (of ``epochs``).

        ``round_robin`` gives each task its share of the cycle, ``1 / k``.
        """
        n = _sizes(sizes)
        if self.kind in ("uniform", "round_robin"):
            weights = np.ones_like(n)
        elif self.kind == "proportional":
            weights = n
        elif self.kind == "temperature":
            capped = n if self.cap is None else np.minimum(n, self.cap)
            weights = capped ** (1.0 / self.temperature)
        else:
            weights = n ** self.annealed_exponent(epoch, epochs)
        return weights / weights.sum()

    def annealed_exponent(self, epoch: int, epochs: int) -> float:
        """``alpha_e = 1 - (1 - 1 / T_final) * e / (E - 1)``; 1 when there is one epoch."""
        epoch = _checks.integer("epoch", epoch, minimum=0)
        epochs = _checks.integer("epochs", epochs, minimum=1)
        if epochs == 1:
            return 1.0
        progress = min(epoch, epochs - 1) / (epochs - 1)
        return 1.0 - (1.0 - 1.0 / self.temperature) * progress

    def draw(
        self, sizes: Sequence[int], steps: int, seed: int, epoch: int = 0, epochs: int = 1
    ) -> np.ndarray:
        """The task index (int64) of each of ``steps`` steps of ``epoch``: the same every call."""
        steps = _checks.integer("steps", steps, minimum=0)
        n = _sizes(sizes)
        if self.kind == "round_robin":
            return np.arange(steps, dtype=np.int64) % len(n)
        rng = np.random.default_rng([_checks.any_int("seed", seed), epoch, len(n)])
        p = self.probabilities(n, epoch, epochs)
        return rng.choice(len(n), size=steps, p=p).astype(np.int64)


def _sizes(sizes: Sequence[int]) -> np.ndarray:
    n = np.asarray(sizes, dtype=np.float64)
    if n.ndim != 1 or n.size == 0:
        raise ValueError(f"need the size of at least one task, got {sizes!r}")
    if not np.all(n > 0):
        raise ValueError(f"every task needs at least one example, got sizes {list(sizes)}")
    return n


def proportional() -> TaskSampler:
    """Tasks drawn in proportion to their sizes (every example equally often)."""
    return TaskSampler("proportional")


def uniform() -> TaskSampler:
    """Every task equally often, whatever its size."""
    return TaskSampler("uniform")


def temperature(t: float, cap: int | None = None) -> TaskSampler:
    """``p_i ∝ min(n_i, cap) ** (1 / t)``: ``t = 1`` proportional, large ``t`` near uniform."""
    return TaskSampler("temperature", temperature=t, cap=cap)


def annealed(final_temperature: float = 5.0) -> TaskSampler:
    """Proportional in the first epoch, falling to ``final_temperature`` in the last."""
    return TaskSampler("annealed", temperature=final_temperature)


def round_robin() -> TaskSampler:
    """Tasks in turn, one step each."""
    return TaskSampler("round_robin")
