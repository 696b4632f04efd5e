"""The replay memory: never over its size, uniform (reservoir) or balanced, seeded, resumable."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptm_fast.continual import ReplayMemory

streams = st.lists(
    st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.integers(0, 3)), min_size=0, max_size=300
)


def fill(memory, stream):
    for i, (task, label) in enumerate(stream):
        memory.add(task, [f"example {i}"], [label])
    return memory


@settings(max_examples=60, deadline=None)
@given(stream=streams, size=st.integers(1, 40), seed=st.integers(0, 5))
def test_reservoir_never_exceeds_its_size_and_keeps_seen_items(stream, size, seed):
    memory = fill(ReplayMemory(size, "reservoir", seed), stream)
    assert len(memory) == min(size, len(stream))
    texts = [example for _, example, _ in memory.items]
    assert len(set(texts)) == len(texts)  # nothing stored twice
    assert set(texts) <= {f"example {i}" for i in range(len(stream))}


@settings(max_examples=80, deadline=None)
@given(stream=streams, size=st.integers(1, 40), seed=st.integers(0, 5))
def test_class_balanced_keeps_every_class_within_one_of_the_largest(stream, size, seed):
    memory = fill(ReplayMemory(size, "class_balanced", seed), stream)
    assert len(memory) == min(size, len(stream))
    counts, seen = memory.class_counts(), memory.seen_counts()
    largest = max(counts.values(), default=0)
    for key, n_seen in seen.items():
        kept = counts.get(key, 0)
        # A class either kept everything it offered, or holds a near-largest share.
        assert kept == n_seen or kept >= largest - 1, (key, kept, n_seen, counts)


def test_class_balanced_shares_are_equal_on_a_skewed_stream():
    memory = ReplayMemory(60, "class_balanced", seed=0)
    memory.add("news", [f"b{i}" for i in range(900)], ["business"] * 900)
    memory.add("news", [f"s{i}" for i in range(90)], ["sport"] * 90)
    memory.add("news", [f"t{i}" for i in range(30)], ["tech"] * 30)
    assert memory.class_counts() == Counter(
        {("news", "business"): 20, ("news", "sport"): 20, ("news", "tech"): 20}
    )
    reservoir = ReplayMemory(60, "reservoir", seed=0)
    reservoir.add("news", [f"b{i}" for i in range(900)], ["business"] * 900)
    reservoir.add("news", [f"t{i}" for i in range(30)], ["tech"] * 30)
    assert reservoir.class_counts()[("news", "business")] > 45  # follows the stream


def test_reservoir_is_uniform_over_the_stream():
    # Each of 200 examples should be kept with probability 20/200 = 0.1.
    kept = Counter()
    for seed in range(2000):
        memory = ReplayMemory(20, "reservoir", seed)
        memory.add("t", list(range(200)), [0] * 200)
        kept.update(example for _, example, _ in memory.items)
    shares = np.array([kept[i] / 2000 for i in range(200)])
    assert abs(shares[:100].mean() - 0.1) < 0.01 and abs(shares[100:].mean() - 0.1) < 0.01


def test_class_balanced_share_is_uniform_within_a_class():
    kept = Counter()
    for seed in range(1000):
        memory = ReplayMemory(10, "class_balanced", seed)
        memory.add("t", [("a", i) for i in range(100)], ["a"] * 100)
        memory.add("t", [("b", i) for i in range(100)], ["b"] * 100)
        kept.update(example for _, example, _ in memory.items)
    first = sum(kept[("a", i)] for i in range(50)) / 1000
    second = sum(kept[("a", i)] for i in range(50, 100)) / 1000
    assert abs(first - 2.5) < 0.25 and abs(second - 2.5) < 0.25  # 5 slots, half each


@pytest.mark.parametrize("policy", ["reservoir", "class_balanced"])
def test_seeded_and_resumable_exactly(policy):
    labels = [i % 3 for i in range(500)]
    whole = ReplayMemory(25, policy, seed=7)
    whole.add("t", list(range(500)), labels)
    again = ReplayMemory(25, policy, seed=7)
    again.add("t", list(range(500)), labels)
    assert whole.items == again.items and whole.sample(5) == again.sample(5)

    first = ReplayMemory(25, policy, seed=7)
    first.add("t", list(range(200)), labels[:200])
    resumed = ReplayMemory(25, policy, seed=0)
    resumed.load_state_dict(first.state_dict())
    resumed.add("t", list(range(200, 500)), labels[200:])
    straight = ReplayMemory(25, policy, seed=7)
    straight.add("t", list(range(500)), labels)
    assert resumed.items == straight.items


def test_by_task_and_sample():
    memory = ReplayMemory(10)
    memory.add("a", ["x", "y"], [0, 1])
    memory.add("b", ["z"], ["pos"])
    assert memory.by_task() == {"a": (["x", "y"], [0, 1]), "b": (["z"], ["pos"])}
    assert len(memory.sample(2)) == 2 and len(memory.sample(50)) == 3


@pytest.mark.parametrize(
    "size,policy,message",
    [
        (0, "reservoir", "at least one slot, got 0"),
        (-3, "reservoir", "at least one slot"),
        (2.5, "reservoir", "at least one slot"),
        (True, "reservoir", "at least one slot"),
        (10, "fifo", "policy: expected one of"),
    ],
)
def test_bad_settings_are_named(size, policy, message):
    with pytest.raises(ValueError, match=message):
        ReplayMemory(size, policy)


def test_examples_and_labels_must_pair_up():
    with pytest.raises(ValueError, match="task 'a': 2 examples but 1 labels"):
        ReplayMemory(4).add("a", ["x", "y"], [0])


def test_state_of_another_memory_is_refused():
    with pytest.raises(ValueError, match="size 4"):
        ReplayMemory(5).load_state_dict(ReplayMemory(4).state_dict())
