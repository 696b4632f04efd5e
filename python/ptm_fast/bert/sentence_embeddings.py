"""Sentence embeddings the sentence-transformers way: ``encode`` and ``semantic_search``.

A sentence-transformers folder (``modules.json``, ``1_Pooling/config.json``,
``sentence_bert_config.json``) says how token states become one vector: the
pooling (mean, [CLS] or max), whether the result is L2-normalised, and how
many tokens are kept. :func:`encode_sentences` reads that, encodes whole
batches with the Rust tokenizer, sorts the sentences by length so batches pad
little, and returns the embeddings in the input order.

>>> model = BertModel.from_pretrained("all-MiniLM-L6-v2/")                 # doctest: +SKIP
>>> emb = model.encode(["A man is eating food.", "Stocks fell."])         # doctest: +SKIP
>>> semantic_search(model.encode(["Who is eating?"]), emb, top_k=1)       # doctest: +SKIP
[[{'corpus_id': 0, 'score': 0.61}]]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ptm_fast import _checks
from ptm_fast._progress import Progress
from ptm_fast.tokenizers.base import row_positions

POOLINGS = ("mean", "cls", "max")
_POOLING_KEYS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls",
                 "pooling_mode_max_tokens": "max"}  # fmt: skip


@dataclass(frozen=True)
class SentenceSettings:
    """How a folder's model turns token states into a sentence vector."""

    pooling: str = "mean"
    normalize: bool = False  # a Normalize module follows the pooling
    max_seq_length: int | None = None  # tokens kept per sentence; None: the model's positions


def read_sentence_settings(folder: str | os.PathLike | None) -> SentenceSettings:
    """The settings of a sentence-transformers folder; the defaults where it has none."""
    if folder is None or not (Path(folder) / "modules.json").is_file():
        return SentenceSettings()
    folder = Path(folder)
    modules = _json(folder / "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise ValueError(f"{folder / 'modules.json'}: expected a list of module descriptions")
    kinds = {str(m.get("type", "")).rsplit(".", 1)[-1]: m for m in modules}
    pooling = "mean"
    if "Pooling" in kinds:
        config = _json(folder / str(kinds["Pooling"].get("path", "")) / "config.json")
        chosen = [mode for key, mode in _POOLING_KEYS.items() if config.get(key)]
        unsupported = [k for k, v in config.items() if k.startswith("pooling_mode") and v
                       and k not in _POOLING_KEYS]  # fmt: skip
        if len(chosen) != 1 or unsupported:
            raise ValueError(
                f"{folder}: pooling {sorted(k for k, v in config.items() if v is True)} is not "
                f"supported: exactly one of {sorted(_POOLING_KEYS)}"
            )
        pooling = chosen[0]
    max_seq_length = None
    if (folder / "sentence_bert_config.json").is_file():
        value = _json(folder / "sentence_bert_config.json").get("max_seq_length")
        max_seq_length = _checks.optional_int("max_seq_length", value, minimum=1)
    return SentenceSettings(pooling, "Normalize" in kinds, max_seq_length)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: missing, but modules.json names it") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per row of ``hidden`` (batch, seq, width) over its real tokens."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    if pooling == "max":
        return hidden.masked_fill(weights == 0, torch.finfo(hidden.dtype).min).max(1).values
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


@torch.no_grad()
def encode_sentences(
    model,
    tokenizer,
    sentences: str | list[str],
    batch_size: int = 32,
    normalize_embeddings: bool = False,
    pooling: str | None = None,
    convert_to: str = "numpy",
    show_progress_bar: bool | None = None,
    max_length: int | None = None,
    settings: SentenceSettings | None = None,
) -> np.ndarray | torch.Tensor:
    """Embeddings of ``sentences`` (a str gives one vector), in their order.

    ``pooling`` and ``max_length`` default to the folder's ``settings``; the
    vectors are L2-normalised when ``normalize_embeddings`` or when the folder
    ends in a Normalize module, as sentence-transformers does. ``convert_to``:
    "numpy" (float32 array) or "torch" (a tensor on the model's device).
    """
    single = isinstance(sentences, str)
    texts = _checks.texts([sentences] if single else sentences, "sentences")
    batch_size = _checks.positive_int("batch_size", batch_size)
    settings = settings or SentenceSettings()
    pooling = settings.pooling if pooling is None else pooling
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if convert_to not in ("numpy", "torch"):
        raise ValueError(f"convert_to must be 'numpy' or 'torch', got {convert_to!r}")
    limit = max_length if max_length is not None else settings.max_seq_length
    limit = min(_checks.optional_int("max_length", limit, minimum=2) or 10**9,
                model.config.max_position_embeddings)  # fmt: skip
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    batches, order = _length_sorted_batches(tokenizer, texts, batch_size, limit)
    show = show_progress_bar if show_progress_bar is not None else len(texts) > 10 * batch_size
    bar = Progress(len(texts), "encoding", unit="sentences") if show else None
    parts = []
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items() if k != "length"}
        hidden = model(**batch).last_hidden_state
        parts.append(pool(hidden, batch["attention_mask"], pooling).float())
        if bar is not None:
            bar.update(len(hidden))
    if bar is not None:
        bar.close()
    model.train(was_training)
    width = model.config.hidden_size
    pooled = torch.cat(parts) if parts else torch.zeros(0, width, device=device)
    if normalize_embeddings or settings.normalize:
        pooled = F.normalize(pooled, dim=-1)
    embeddings = torch.empty_like(pooled)
    embeddings[torch.as_tensor(np.asarray(order), dtype=torch.long, device=device)] = pooled
    if single:
        embeddings = embeddings[0]
    return embeddings.cpu().numpy() if convert_to == "numpy" else embeddings


def _length_sorted_batches(tokenizer, texts: list[str], batch_size: int, limit: int):
    """The batches to encode, longest first, and the order of ``texts`` they follow.

    ptm_fast's tokenizers encode every text at once into flat arrays, so the
    texts are sorted by their token counts and a batch pads only to its
    longest member; any other tokenizer is called per batch of texts sorted
    by characters, as sentence-transformers does.
    """
    if not hasattr(tokenizer, "encode_batch_flat"):
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        chunks = (order[s : s + batch_size] for s in range(0, len(texts), batch_size))
        call = {"padding": True, "truncation": True, "max_length": limit, "return_tensors": "pt"}
        batches = (tokenizer([texts[i] for i in chunk], **call) for chunk in chunks)
        return batches, order
    ids, offsets = tokenizer.encode_batch_flat(texts, max_length=limit)
    lengths = np.diff(offsets)
    order = np.argsort(-lengths, kind="stable")
    return _padded_batches(
        ids, offsets, lengths, order, batch_size, tokenizer.pad_token_id or 0
    ), order


def _padded_batches(ids, offsets, lengths, order, batch_size: int, pad_id: int):
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        row_lengths = lengths[rows]
        mask = np.arange(int(row_lengths.max()))[None, :] < row_lengths[:, None]
        input_ids = np.full(mask.shape, pad_id, dtype=np.int64)
        input_ids[mask] = ids[row_positions(offsets, rows, row_lengths)]
        yield {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}


def semantic_search(
    query_embeddings, corpus_embeddings, top_k: int = 10, query_chunk_size: int = 100
) -> list[list[dict[str, float | int]]]:
    """For each query, the ``top_k`` corpus entries by cosine similarity, best first.

    Takes numpy arrays or tensors (one vector or a matrix each); returns, as
    sentence-transformers' ``util.semantic_search`` does, one list per query
    of ``{"corpus_id": index, "score": cosine}``.
    """
    queries, corpus = (_as_matrix(name, v) for name, v in
                       (("query_embeddings", query_embeddings),
                        ("corpus_embeddings", corpus_embeddings)))  # fmt: skip
    if queries.shape[1] != corpus.shape[1]:
        raise ValueError(
            f"query embeddings have width {queries.shape[1]}, the corpus's {corpus.shape[1]}"
        )
    top_k = min(_checks.positive_int("top_k", top_k), corpus.shape[0])
    chunk = _checks.positive_int("query_chunk_size", query_chunk_size)
    corpus = F.normalize(corpus, dim=-1)
    results = []
    for start in range(0, queries.shape[0], chunk):
        scores = F.normalize(queries[start : start + chunk], dim=-1) @ corpus.T
        values, indices = scores.topk(top_k, dim=1)
        for row_values, row_indices in zip(values.tolist(), indices.tolist(), strict=True):
            results.append(
                [{"corpus_id": i, "score": v} for i, v in zip(row_indices, row_values, strict=True)]
            )
    return results


def _as_matrix(name: str, value) -> torch.Tensor:
    tensor = torch.as_tensor(value).float()
    if tensor.dim() == 1:
        tensor = tensor[None]
    if tensor.dim() != 2 or tensor.shape[0] == 0:
        raise ValueError(
            f"{name} must be one vector or a non-empty matrix, got {tuple(tensor.shape)}"
        )
    return tensor


__all__ = [
    "SentenceSettings",
    "encode_sentences",
    "pool",
    "read_sentence_settings",
    "semantic_search",
]
