"""A fixed-size memory of past examples, for replay.

Two ways to choose what stays once the memory is full:

- ``reservoir``: every example seen so far has the same chance of being in
  the memory (Vitter's algorithm R over the whole stream of tasks);
- ``class_balanced``: each class (a task's label) keeps an equal share. A
  new example of a class below the largest share takes a slot from one of
  the largest classes; an example of a largest class replaces one of its own
  class's slots with the reservoir's chance, so each share stays a uniform
  sample of its class. A class with fewer examples than its share keeps them
  all.

Examples are whatever the caller stores (texts here); the memory never
looks inside them. Seeded, and its whole state can be saved and restored for
an exact resume.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

POLICIES = ("reservoir", "class_balanced")


class ReplayMemory:
    """At most ``size`` (task, example, label) items, kept by ``policy``."""

    def __init__(self, size: int, policy: str = "reservoir", seed: int = 0) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size: a replay memory needs at least one slot, got {size!r}")
        if policy not in POLICIES:
            raise ValueError(f"policy: expected one of {list(POLICIES)}, got {policy!r}")
        self.size = size
        self.policy = policy
        self.items: list[tuple[str, Any, Hashable]] = []
        self._rng = np.random.default_rng(seed)
        self._seen = 0
        self._seen_per_class: Counter = Counter()

    def __len__(self) -> int:
        return len(self.items)

    def add(self, task: str, examples: Sequence, labels: Sequence[Hashable]) -> None:
        """Offer every example of ``task`` (in order) to the memory."""
        if len(examples) != len(labels):
            raise ValueError(f"task {task!r}: {len(examples)} examples but {len(labels)} labels")
        for example, label in zip(examples, labels, strict=True):
            self._offer((task, example, label))

    def class_counts(self) -> Counter:
        """How many items each (task, label) class holds."""
        return Counter((task, label) for task, _, label in self.items)

    def seen_counts(self) -> Counter:
        """How many examples of each (task, label) class have been offered."""
        return Counter(self._seen_per_class)

    def by_task(self) -> dict[str, tuple[list, list]]:
        """The items grouped by task: ``{task: (examples, labels)}``, in memory order."""
        out: dict[str, tuple[list, list]] = {}
        for task, example, label in self.items:
            examples, labels = out.setdefault(task, ([], []))
            examples.append(example)
            labels.append(label)
        return out

    def sample(self, count: int) -> list[tuple[str, Any, Hashable]]:
        """``count`` items drawn without replacement (all of them if fewer)."""
        if count >= len(self.items):
            return list(self.items)
        picked = self._rng.choice(len(self.items), size=count, replace=False)
        return [self.items[i] for i in sorted(picked.tolist())]

    def state_dict(self) -> dict:
        """Everything needed to continue exactly where this memory is."""
        return {
            "size": self.size,
            "policy": self.policy,
            "items": list(self.items),
            "seen": self._seen,
            "seen_per_class": list(self._seen_per_class.items()),
            "rng": self._rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (of a memory of the same size and policy)."""
        if (state["size"], state["policy"]) != (self.size, self.policy):
            raise ValueError(
                f"memory state is size {state['size']}, policy {state['policy']!r}; "
                f"this memory is size {self.size}, policy {self.policy!r}"
            )
        self.items = [tuple(item) for item in state["items"]]
        self._seen = state["seen"]
        self._seen_per_class = Counter({tuple(k): v for k, v in state["seen_per_class"]})
        self._rng.bit_generator.state = state["rng"]

    def _offer(self, item: tuple[str, Any, Hashable]) -> None:
        key = (item[0], item[2])
        self._seen += 1
        self._seen_per_class[key] += 1
        if len(self.items) < self.size:
            self.items.append(item)
        elif self.policy == "reservoir":
            slot = int(self._rng.integers(self._seen))
            if slot < self.size:
                self.items[slot] = item
        else:
            self._offer_balanced(item, key)

    def _offer_balanced(self, item, key) -> None:
        counts = self.class_counts()
        largest = max(counts.values())
        if counts.get(key, 0) < largest:
            # Take a slot from one of the largest classes, at random.
            donors = sorted((k for k, n in counts.items() if n == largest), key=repr)
            donor = donors[int(self._rng.integers(len(donors)))]
            slots = [i for i, (t, _, label) in enumerate(self.items) if (t, label) == donor]
            self.items[slots[int(self._rng.integers(len(slots)))]] = item
            return
        # A largest class: a reservoir within the class keeps its share uniform.
        own = [i for i, (t, _, label) in enumerate(self.items) if (t, label) == key]
        slot = int(self._rng.integers(self._seen_per_class[key]))
        if slot < len(own):
            self.items[own[slot]] = item
