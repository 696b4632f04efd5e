"""BERT quality on real data: fine-tuning MiniLM (Rotten Tomatoes, BBC news) and pretraining.

- Fine-tuning the real all-MiniLM-L6-v2 weights: Rotten Tomatoes fresh vs
  rotten (80/20 seeded split) and the 5-class BBC news (80/20), reporting
  held-out accuracy, macro-F1 and wall time.
- Pretraining a small BERT (4 layers, hidden 256) from scratch on the BBC and
  Wikipedia text for a fixed number of steps: held-out masked-word accuracy
  against a unigram baseline, and next-sentence accuracy, before and after.

    python benches/quality_bert.py [--results benches/RESULTS.md] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import re
import time
import warnings
from datetime import date

import torch

from ptm_fast import WordPieceTokenizer, assets
from ptm_fast.bert import BertConfig, finetune_classifier, pretrain_bert
from ptm_fast.training import TrainingConfig

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def finetune_rows(args) -> list[str]:
    rows = []
    reviews = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    news = [(label, text) for label, text in assets.bbc_news()]
    tasks = [
        ("Rotten Tomatoes fresh/rotten", reviews, 64, args.rt_epochs, 32),
        ("BBC news, 5 topics", news, 128, args.bbc_epochs, 16),
    ]
    for title, examples, max_length, epochs, batch_size in tasks:
        texts = [t for _, t in examples]
        labels = [c for c, _ in examples]
        config = TrainingConfig(epochs=epochs, lr=5e-5, warmup_ratio=0.1, seed=0)
        torch.manual_seed(0)
        result = finetune_classifier(
            assets.minilm_dir(), texts, labels, config=config, batch_size=batch_size,
            max_length=max_length, valid_fraction=0.2,
        )  # fmt: skip
        final = result.evaluations[-1]
        line = (
            f"| {title} | {len(texts) - round(0.2 * len(texts))} / {round(0.2 * len(texts))} "
            f"| {epochs} | {final['accuracy']:.4f} | {final['macro_f1']:.4f} "
            f"| {result.majority_accuracy:.4f} | {result.seconds / 60:.1f} min |"
        )
        print(line, flush=True)
        rows.append(line)
    return rows


def pretraining_rows(args) -> list[str]:
    documents = []
    for text in [t for _, t in assets.bbc_news()] + assets.wikipedia_pages():
        sentences = [s.strip() for line in text.splitlines() for s in SENTENCE_END.split(line)]
        sentences = [s for s in sentences if len(s) > 1]
        if len(sentences) >= 2:
            documents.append(sentences)
    if args.train_vocab:
        texts = [" ".join(sentences) for sentences in documents]
        tokenizer = WordPieceTokenizer.train(texts=texts, vocab_size=args.train_vocab)
        vocab_name = f"a {tokenizer.vocab_size}-token WordPiece vocab trained on the corpus"
    else:
        tokenizer = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
        vocab_name = "the bert-base-uncased vocab"
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=256, num_hidden_layers=4,
                        num_attention_heads=4, intermediate_size=1024,
                        max_position_embeddings=128)  # fmt: skip
    training = TrainingConfig(epochs=1, lr=args.pretrain_lr, warmup_ratio=0.05,
                              max_steps=args.pretrain_steps, seed=0)  # fmt: skip
    torch.manual_seed(0)
    result = pretrain_bert(documents, tokenizer, config, training, batch_size=32, max_length=128)
    first, last = result.history[0], result.history[-1]
    line = (
        f"| 4 layers x 256, {args.pretrain_steps} steps of 32 pairs x 128 tokens, "
        f"peak lr {args.pretrain_lr:g} "
        f"({len(documents)} documents, {result.examples} training pairs, {vocab_name}) "
        f"| {first['loss']:.2f} -> {last['loss']:.2f} "
        f"| {result.before['mlm_accuracy']:.4f} -> {result.after['mlm_accuracy']:.4f} "
        f"| {result.after['unigram_accuracy']:.4f} | {result.after['nsp_accuracy']:.4f} "
        f"| {result.seconds / 60:.1f} min |"
    )
    print(line, flush=True)
    return [line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", help="append the tables to this markdown file")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--rt-epochs", type=int, default=2)
    parser.add_argument("--bbc-epochs", type=int, default=2)
    parser.add_argument("--pretrain-steps", type=int, default=500)
    parser.add_argument("--pretrain-lr", type=float, default=5e-4)
    parser.add_argument(
        "--train-vocab", type=int, help="pretrain with a WordPiece vocab of this size"
    )
    parser.add_argument("--skip-finetune", action="store_true")
    parser.add_argument("--skip-pretrain", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*newly initialized.*")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    header = (
        f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, {date.today().isoformat()}"
    )
    sections = []
    if not args.skip_finetune:
        rows = finetune_rows(args)
        sections.append(
            "### Fine-tuning all-MiniLM-L6-v2 (AdamW 5e-5, warmup 10%, clip 1.0)\n\n"
            "| task | train / held out | epochs | accuracy | macro-F1 | majority class "
            "| wall time |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
        )
    if not args.skip_pretrain:
        rows = pretraining_rows(args)
        sections.append(
            "### Pretraining a small BERT from scratch (MLM + NSP, held-out pairs)\n\n"
            "| model and budget | training loss | masked-word accuracy | unigram baseline "
            "| NSP accuracy | wall time |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
        )
    text = f"\n## BERT quality (CPU, this machine): {header}\n\n" + "\n\n".join(sections) + "\n"
    print(text)
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
