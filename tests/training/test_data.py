"""EpochBatches checks its count; seeded shuffles; batches trimmed to their longest row."""

import numpy as np
import pytest
import torch

from ptm_fast.training import EpochBatches, seeded_split, trim_to_longest


def test_a_batch_is_cut_to_its_longest_row():
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]])
    ids = torch.arange(10).reshape(2, 5)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([0, 1])}
    trimmed = trim_to_longest(batch)
    assert torch.equal(trimmed["input_ids"], ids[:, :3])
    assert torch.equal(trimmed["attention_mask"], mask[:, :3])
    assert torch.equal(trimmed["labels"], batch["labels"])  # one per row: untouched


def test_trimming_keeps_one_column_of_an_all_padding_batch_and_reads_numpy():
    batch = {"ids": np.zeros((2, 4), dtype=np.int64), "mask": np.zeros((2, 4), dtype=np.int64)}
    trimmed = trim_to_longest(batch, mask_key="mask")
    assert trimmed["ids"].shape == (2, 1) and trimmed["mask"].shape == (2, 1)


def test_trimming_without_the_mask_names_it():
    with pytest.raises(KeyError, match="attention_mask"):
        trim_to_longest({"input_ids": torch.zeros(2, 3)})


def test_the_declared_count_is_checked_both_ways():
    too_many = EpochBatches(lambda epoch: [{"x": 1}] * 3, 2)
    with pytest.raises(ValueError, match="more than the 2"):
        list(too_many(0))
    too_few = EpochBatches(lambda epoch: [{"x": 1}], 2)
    with pytest.raises(ValueError, match="yielded 1 batches, not the 2"):
        list(too_few(0))


def test_shuffled_batches_repeat_per_epoch_and_drop_the_partial_batch():
    data = EpochBatches.shuffled(10, 3, seed=5, take=lambda rows: {"rows": rows})
    assert len(data) == 3
    first = [b["rows"] for b in data(0)]
    assert all(np.array_equal(a, b["rows"]) for a, b in zip(first, data(0), strict=True))
    assert not all(np.array_equal(a, b["rows"]) for a, b in zip(first, data(1), strict=True))
    assert len(set(np.concatenate(first).tolist())) == 9


def test_seeded_split_is_a_partition():
    train, valid = seeded_split(100, 0.2, seed=1)
    assert len(valid) == 20 and sorted([*train, *valid]) == list(range(100))
    with pytest.raises(ValueError, match="valid_fraction"):
        seeded_split(100, 1.0, seed=1)
