"""The ``ptm`` command line.

``ptm demo`` (the default) runs the main job on built-in data;
``ptm bert finetune`` and ``ptm bert pretrain`` train BERT models;
``ptm count-words`` counts the words of a file.
"""

from __future__ import annotations

import argparse
import sys

import ptm_fast


def _add_training_options(parser: argparse.ArgumentParser, lr: float, epochs: int) -> None:
    parser.add_argument("--epochs", type=int, default=epochs, help=f"default {epochs}")
    parser.add_argument("--batch-size", type=int, default=32, help="default 32")
    parser.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default {lr})")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per example (128)")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-dir", help="save and resume training state here")
    parser.add_argument("--output", help="save the trained model in this folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ptm_fast {ptm_fast.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run the main job on built-in data (default)")

    count = commands.add_parser("count-words", help="count the words of a text file")
    count.add_argument("path", help="a UTF-8 text file, whitespace-separated words")
    count.add_argument("--top", type=int, default=20, help="how many words to print (default 20)")

    bert = commands.add_parser("bert", help="fine-tune or pretrain BERT").add_subparsers(
        dest="bert_command", metavar="ACTION", required=True
    )
    finetune = bert.add_parser("finetune", help="fine-tune a pretrained BERT to classify text")
    finetune.add_argument("--model", required=True, help="HF-format BERT folder")
    finetune.add_argument("--train", required=True, help="CSV, TSV or JSON-lines file")
    finetune.add_argument("--valid", help="validation file (default: hold out --valid-fraction)")
    finetune.add_argument("--valid-fraction", type=float, default=0.2)
    finetune.add_argument("--text-col", required=True)
    finetune.add_argument("--label-col", required=True)
    _add_training_options(finetune, lr=2e-5, epochs=3)

    pretrain = bert.add_parser("pretrain", help="pretrain a small BERT from scratch (MLM + NSP)")
    pretrain.add_argument(
        "--corpus", required=True, help="one sentence per line, blank line between documents"
    )
    pretrain.add_argument(
        "--vocab", required=True, help="folder with vocab.txt (and tokenizer_config.json)"
    )
    pretrain.add_argument("--layers", type=int, default=4)
    pretrain.add_argument("--hidden", type=int, default=256)
    pretrain.add_argument("--heads", type=int, default=4)
    pretrain.add_argument("--whole-word", action="store_true", help="mask whole words")
    _add_training_options(pretrain, lr=1e-4, epochs=1)
    return parser


def _training_config(args, **defaults):
    from ptm_fast.training import TrainingConfig

    return TrainingConfig(
        epochs=args.epochs,
        lr=args.lr,
        max_steps=args.max_steps,
        seed=args.seed,
        checkpoint_dir=args.checkpoint_dir,
        **defaults,
    )


def run_finetune(args) -> int:
    from ptm_fast.finetune import finetune_classifier, read_labelled_table

    texts, labels = read_labelled_table(args.train, args.text_col, args.label_col)
    valid_texts = valid_labels = None
    if args.valid:
        valid_texts, valid_labels = read_labelled_table(args.valid, args.text_col, args.label_col)
    result = finetune_classifier(
        args.model,
        texts,
        labels,
        valid_texts,
        valid_labels,
        config=_training_config(args, warmup_ratio=0.1, max_grad_norm=1.0),
        batch_size=args.batch_size,
        max_length=args.max_length,
        valid_fraction=args.valid_fraction,
        output_dir=args.output,
    )
    for figures in result.evaluations:
        print(
            f"epoch {figures['epoch']}: accuracy {figures['accuracy']:.4f}, "
            f"macro-F1 {figures['macro_f1']:.4f}"
        )
    print(f"majority-class accuracy {result.majority_accuracy:.4f}; {result.seconds:.0f} s")
    if args.output:
        print(f"saved the fine-tuned model to {args.output}")
    return 0


def run_pretrain(args) -> int:
    from ptm_fast import WordPieceTokenizer
    from ptm_fast.bert import BertConfig
    from ptm_fast.bert_pretraining import pretrain_bert, read_documents

    tokenizer = WordPieceTokenizer.from_pretrained(args.vocab)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=4 * args.hidden,
        max_position_embeddings=args.max_length,
    )
    result = pretrain_bert(
        read_documents(args.corpus),
        tokenizer,
        config,
        _training_config(args, warmup_ratio=0.05),
        batch_size=args.batch_size,
        max_length=args.max_length,
        whole_word=args.whole_word,
    )
    for name, figures in (("before", result.before), ("after", result.after)):
        print(
            f"{name}: masked-word accuracy {figures['mlm_accuracy']:.4f} "
            f"(unigram {figures['unigram_accuracy']:.4f}), "
            f"NSP accuracy {figures['nsp_accuracy']:.4f}"
        )
    if args.output:
        result.model.save_pretrained(args.output)
        tokenizer.save(args.output)
        print(f"saved the pretrained model to {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in (None, "demo"):
            from ptm_fast import demo

            return demo.run()
        if args.command == "count-words":
            for word, n in ptm_fast.count_words_in_file(args.path)[: args.top]:
                print(f"{n}\t{word}")
            return 0
        if args.command == "bert":
            return run_finetune(args) if args.bert_command == "finetune" else run_pretrain(args)
    except (OSError, ValueError) as err:
        print(f"ptm {args.command}: {err}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
