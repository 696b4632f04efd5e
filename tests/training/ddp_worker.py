"""Trains a tiny BERT classifier for a few steps and saves its parameters.

Run directly (one process) or under torchrun (several); tests/training/test_trainer.py
compares the two. Usage: python ddp_worker.py OUT.pt
"""

import sys

import torch

from ptm_fast.bert import BertConfig, BertForSequenceClassification
from ptm_fast.training import EpochBatches, Trainer, TrainingConfig


def tiny_batches(epoch: int, steps: int = 4, batch: int = 8, seq: int = 12):
    """The same 32 examples every epoch, in an order that depends on the epoch."""
    g = torch.Generator().manual_seed(100)
    ids = torch.randint(5, 60, (steps * batch, seq), generator=g)
    mask = torch.ones_like(ids)
    mask[::2, seq // 2 :] = 0
    labels = ids[:, 0] % 2
    order = torch.randperm(steps * batch, generator=torch.Generator().manual_seed(epoch))
    for step in range(steps):
        rows = order[step * batch : (step + 1) * batch]
        yield {"input_ids": ids[rows], "attention_mask": mask[rows], "labels": labels[rows]}


def tiny_model(seed: int = 0) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=32,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    return BertForSequenceClassification(config)


def main(out: str) -> None:
    model = tiny_model()
    config = TrainingConfig(epochs=2, lr=1e-3, warmup_ratio=0.25, progress=False)
    Trainer(model, config, EpochBatches(tiny_batches, 4), device="cpu").train()
    if int(torch.distributed.get_rank() if torch.distributed.is_initialized() else 0) == 0:
        torch.save(model.state_dict(), out)


if __name__ == "__main__":
    main(sys.argv[1])
