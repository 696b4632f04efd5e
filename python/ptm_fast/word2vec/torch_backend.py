"""Word2Vec's torch backend: an ``nn.Module`` trained on batches from the Rust pipeline.

The Rust core makes the examples (subsampling, shrunk windows, negatives)
exactly as for the native trainer and hands them over as numpy arrays without
copies; this module moves them to the device and takes one SGD step per
batch, the learning rate falling linearly from ``alpha`` to ``min_alpha``.
Use it on a GPU with large batches; on a CPU the Rust backend is faster.

A batch applies the updates of all its examples at once, from the same
starting weights, where the Rust trainer applies them one by one: a word
repeated many times in a batch (a small vocabulary, or a batch far larger
than the vocabulary) takes one large step, which can diverge. Keep
``batch_size`` well below the vocabulary size (the default 4096 suits
vocabularies of 10k words and up).

On a CPU that other processes share, ``torch.set_num_threads(1)`` can be
several times faster than torch's default (its threads wait for each other).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast import _core
from ptm_fast._arrays import to_numpy

__all__ = ["NegativeSamplingWord2Vec", "train_torch"]


class NegativeSamplingWord2Vec(nn.Module):
    """Input and output embedding tables with the negative-sampling objective.

    ``forward`` takes the input side (skip-gram: one word per example; CBOW:
    a padded row of context words averaged over ``lengths``), the target
    words and the noise words, and returns the summed loss
    ``-(log sigmoid(h . out[target]) + sum_k log sigmoid(-h . out[noise_k]))``.
    Row ``vocab_size`` of the input table is the CBOW padding (always zero).
    """

    def __init__(self, vocab_size: int, vector_size: int):
        """Zero tables; copy starting vectors in with :meth:`load_vectors`."""
        super().__init__()
        self.vocab_size = vocab_size
        self.input = nn.Embedding(vocab_size + 1, vector_size, padding_idx=vocab_size, sparse=True)
        self.output = nn.Embedding(vocab_size, vector_size, sparse=True)
        with torch.no_grad():
            self.input.weight.zero_()
            self.output.weight.zero_()

    @torch.no_grad()
    def load_vectors(self, input_vectors: np.ndarray, output_vectors: np.ndarray) -> None:
        """Copy ``(vocab_size, vector_size)`` input and output vectors into the tables."""
        self.input.weight[: self.vocab_size].copy_(torch.from_numpy(input_vectors))
        self.output.weight.copy_(torch.from_numpy(output_vectors))

    def forward(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        negatives: torch.Tensor,
        lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Summed loss of a batch; ``lengths`` given means CBOW (``inputs``: ``[n, 2*window]``)."""
        if lengths is None:
            hidden = self.input(inputs)
        else:
            # The mean of the context vectors, with the gradient of their sum: each
            # context word receives the whole error, as in the original CBOW update.
            total = self.input(inputs).sum(1)
            mean = total / lengths.unsqueeze(1).to(total.dtype)
            hidden = mean.detach() + (total - total.detach())
        positive = (hidden * self.output(targets)).sum(-1)
        noise = torch.bmm(self.output(negatives), hidden.unsqueeze(2)).squeeze(2)
        return -(F.logsigmoid(positive).sum() + F.logsigmoid(-noise).sum())


def _device(name: str | None) -> torch.device:
    if name is not None:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_torch(model, corpus, *, epochs, alpha, min_alpha, compute_loss, bar=None) -> dict:
    """Train ``model`` (a :class:`ptm_fast.Word2Vec`) on ``corpus`` with the torch module.

    Weights start from the model's current vectors and are copied back at
    the end. Returns the same report as the Rust trainer.
    """
    device = _device(model.device)
    torch.manual_seed(model.seed)
    vocab_size = len(model.wv)
    module = NegativeSamplingWord2Vec(vocab_size, model.vector_size)
    module.load_vectors(model.wv.vectors, model.syn1neg)
    module.to(device)
    optimizer = torch.optim.SGD(module.parameters(), lr=alpha)
    batcher = _core.Word2VecBatcher(
        corpus,
        model._counts,
        sg=bool(model.sg),
        window=model.window,
        negative=model.negative,
        sample=model.sample,
        ns_exponent=model.ns_exponent,
        seed=model.seed,
        epochs=epochs,
    )
    words_per_pass = corpus.words if corpus.words is not None else int(sum(model._counts))
    total_words = words_per_pass * epochs
    started = time.perf_counter()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    examples = 0
    last_draw = 0.0
    for epoch in range(epochs):
        batcher.start_epoch(epoch)
        while True:
            batch = batcher.next_batch(model.batch_size)
            if batch is None:
                break
            *arrays, progress = batch
            tensors = [torch.from_numpy(to_numpy(a)).to(device, non_blocking=True) for a in arrays]
            if model.sg:
                inputs, targets, negatives = tensors
                lengths = None
            else:
                inputs, lengths, targets, negatives = tensors
            lr = max(min_alpha, alpha - (alpha - min_alpha) * progress)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            loss = module(inputs, targets, negatives, lengths)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                module.input.weight[vocab_size].zero_()
            examples += len(targets)
            if compute_loss:
                loss_sum += loss.detach().double()
            if examples // len(targets) % 256 == 1 and not torch.isfinite(loss).item():
                raise FloatingPointError(
                    "the torch backend diverged (the loss is not finite): a batch repeats "
                    "frequent words too often for this learning rate; lower batch_size or alpha"
                )
            now = time.perf_counter()
            if bar is not None and now - last_draw > 0.5:
                last_draw = now
                bar.set(int(progress * total_words), total_words, lr=lr)
    with torch.no_grad():
        model.wv.vectors[...] = module.input.weight[:vocab_size].float().cpu().numpy()
        model.syn1neg[...] = module.output.weight.float().cpu().numpy()
    seconds = time.perf_counter() - started
    if bar is not None:
        bar.set(total_words, total_words, lr=min_alpha)
    return {
        "words": total_words,
        "effective_words": None,
        "examples": examples,
        "loss": float(loss_sum.item()) if compute_loss else 0.0,
        "seconds": seconds,
        "stopped": False,
    }
