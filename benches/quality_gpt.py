"""GPT quality on real data: pretraining for a fixed budget, perplexity, a sample, zero-shot.

A small GPT with a byte-level BPE trained on the corpus is pretrained on the
~10 MB real corpus (BBC news, Wikipedia, reviews) for a fixed number of steps;
the report gives validation perplexity against a unigram baseline, a greedy
sample, and zero-shot topic accuracy on BBC news against the 20% chance level.

    python benches/quality_gpt.py [--results benches/RESULTS.md] [--steps 600]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from ptm_fast import ByteLevelBPETokenizer, assets
from ptm_fast.gpt import GPTConfig, TokenBlocks, pack_documents, pretrain_gpt, zero_shot_classify
from ptm_fast.training import TrainingConfig

TOPICS = {"business": "business", "entertainment": "entertainment", "politics": "politics",
          "sports": "sport", "tech": "technology"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", help="append the table to this markdown file")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--zero-shot-articles", type=int, default=300)
    parser.add_argument("--output", help="save the trained model and tokenizer here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    documents = assets.real_corpus_documents()
    bpe = ByteLevelBPETokenizer.train(texts=documents, vocab_size=args.vocab)
    with tempfile.TemporaryDirectory() as tmp:
        tokens = np.array(pack_documents(documents, bpe, Path(tmp) / "corpus.bin"))
    blocks = TokenBlocks(tokens, block_size=args.block, valid_fraction=0.02)
    config = GPTConfig(vocab_size=bpe.vocab_size, n_positions=args.block, n_embd=args.hidden,
                       n_layer=args.layers, n_head=args.hidden // 64, resid_pdrop=0.0,
                       embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    training = TrainingConfig(epochs=1, lr=2e-3, warmup_ratio=0.05, schedule="cosine",
                              min_lr_ratio=0.1, weight_decay=0.1, seed=0)  # fmt: skip
    torch.manual_seed(0)
    result = pretrain_gpt(
        blocks, config, training, batch_size=args.batch, steps_per_epoch=args.steps
    )
    model = result.model
    if args.output:
        from ptm_fast.pretrained import save_together

        save_together(args.output, model, bpe)
    sample = model.generate(
        torch.tensor([bpe.encode("The government said")]), max_new_tokens=40,
        no_repeat_ngram_size=2,
    )  # fmt: skip
    text = bpe.decode(sample[0].tolist())
    articles = assets.bbc_news()
    picked = np.random.default_rng(1).choice(len(articles), args.zero_shot_articles, replace=False)
    start = time.perf_counter()
    forms = {
        "direct, calibrated": ("{text} This article is about {label}.", True),
        "channel": ("{label} news: {text}", False),
    }
    accuracies = {}
    for name, (template, calibrate) in forms.items():
        predictions = zero_shot_classify(
            model, bpe, [articles[i][1] for i in picked], list(TOPICS.values()),
            template=template, calibrate=calibrate,
        )  # fmt: skip
        hits = sum(
            max(p, key=p.get) == TOPICS[articles[i][0]]
            for p, i in zip(predictions, picked, strict=True)
        )
        accuracies[name] = hits / len(picked)
    accuracy = ", ".join(f"{name} {value:.3f}" for name, value in accuracies.items())
    params = sum(p.numel() for p in model.parameters()) / 1e6
    header = (
        f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, {date.today().isoformat()}"
    )
    report = (
        f"\n## GPT quality (CPU, this machine): {header}\n\n"
        f"Model: {args.layers} layers x {args.hidden}, context {args.block}, "
        f"{params:.1f}M parameters; "
        f"BPE trained on the corpus ({bpe.vocab_size} tokens); corpus {len(tokens):,} tokens, "
        f"2% held out.\n\n"
        "| budget | tokens seen | wall time | validation loss | perplexity | unigram perplexity "
        "| zero-shot BBC accuracy (chance 0.20) |\n|---|---|---|---|---|---|---|\n"
        f"| {args.steps} steps x {args.batch} x {args.block} | {result.tokens_seen:,} "
        f"| {result.seconds / 60:.1f} min | {result.before['val_loss']:.3f} -> "
        f"{result.after['val_loss']:.3f} | {result.after['val_perplexity']:.0f} "
        f"| {np.exp(result.unigram_loss):.0f} | {accuracy} ({len(picked)} articles, "
        f"{time.perf_counter() - start:.0f} s) |\n\n"
        f"Greedy sample (no_repeat_ngram_size=2): `{text!r}`\n"
    )
    print(report)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(report)


if __name__ == "__main__":
    main()
