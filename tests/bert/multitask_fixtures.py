"""Tiny BERT folders and made-up tasks for the multi-task tests and their DDP worker."""

from __future__ import annotations

import numpy as np
import torch

from ptm_fast.bert import BertConfig, BertForSequenceClassification, Task
from ptm_fast.training import TrainingConfig

WORDS = ["good", "great", "fine", "bad", "awful", "poor", "sport", "goal"]
WORDS += ["team", "vote", "party", "law", "cat", "dog", "tree", "sun"]


def tiny_folder(path, seed=0, dropout=0.1):
    """A random tiny BERT classifier (2 labels) with a WordPiece vocabulary, saved to ``path``."""
    torch.manual_seed(seed)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=32,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(path)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return path


def sentiment_rows(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        positive = bool(rng.integers(2))
        words = rng.choice(WORDS[:3] if positive else WORDS[3:6], size=3).tolist()
        texts.append(" ".join(words + rng.choice(WORDS[6:], size=2).tolist()))
        labels.append("pos" if positive else "neg")
    return texts, labels


def topic_rows(n, seed):
    rng = np.random.default_rng(seed)
    topics = {"sport": WORDS[6:9], "politics": WORDS[9:12], "nature": WORDS[12:]}
    names = sorted(topics)
    chosen = [names[i] for i in rng.integers(3, size=n)]
    texts = [" ".join(rng.choice(topics[t], size=4).tolist()) for t in chosen]
    return texts, chosen


def two_tasks():
    return [
        Task("sentiment", "sequence_classification", *sentiment_rows(60, 0)),
        Task("topic", "sequence_classification", *topic_rows(40, 1), metric="macro_f1"),
        Task("score", "regression", [f"good {w}" for w in WORDS], list(range(16)), dropout=0.3),
    ]


def batch_of(texts, folder):
    from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

    arrays = WordPieceTokenizer.from_pretrained(folder).encode_batch_numpy(texts, max_length=16)
    return {k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in arrays.items()}


def tag_task(n=40, seed=2, name="tags"):
    """Words tagged by the group they come from; some are several tokens ("good-good")."""
    rng = np.random.default_rng(seed)
    groups = {"POS": WORDS[:3], "NEG": WORDS[3:6], "O": WORDS[6:]}
    names = sorted(groups)
    texts, labels = [], []
    for _ in range(n):
        tags = [names[i] for i in rng.integers(3, size=int(rng.integers(2, 6)))]
        words = [str(rng.choice(groups[t])) for t in tags]
        # "good-good" is three tokens (good, [UNK], good): only the first carries the label
        words = [f"{w}-{w}" if rng.random() < 0.2 else w for w in words]
        texts.append(words)
        labels.append(tags)
    return Task(name, "token_classification", texts, labels)


def quick_config(**changes):
    values = dict(epochs=2, lr=1e-3, warmup_ratio=0.25, progress=False, seed=5, log_every=1)
    return TrainingConfig(**{**values, **changes})
