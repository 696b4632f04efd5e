"""The ``ptm`` commands for word vectors, tokenizers, sentence embeddings and zero-shot.

``ptm word2vec train|similar|analogy``, ``ptm tokenizer train``,
``ptm tokenize``, ``ptm bert embed`` and ``ptm zero-shot``: each reads files,
calls the library, and prints or writes its result; an error is one line on
stderr and exit code 1 (argparse's usage errors exit with 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from ptm_fast._checks import int_option, number_option

POSITIVE = int_option(minimum=1)


def add_word2vec(commands) -> None:
    """``ptm word2vec train``, ``similar`` and ``analogy``."""
    word2vec = commands.add_parser("word2vec", help="train and query word vectors").add_subparsers(
        dest="word2vec_command", metavar="ACTION", required=True
    )
    train = word2vec.add_parser(
        "train",
        help="train CBOW or skip-gram vectors on a text file",
        description="Train Word2Vec (gensim's options and defaults) on a UTF-8 file of "
        "whitespace-separated words, one sentence per line, and save the vectors in "
        "word2vec format.",
        epilog="example: ptm word2vec train corpus.txt --output vectors.bin --binary --sg 1 "
        "--vector-size 100 --window 5 --epochs 5",
    )
    train.add_argument("corpus", help="UTF-8 text, one sentence per line")
    train.add_argument("--output", required=True, help="where to save the vectors")
    train.add_argument("--binary", action="store_true", help="binary word2vec format")
    train.add_argument(
        "--report", metavar="DIR",
        help="write the run's report into DIR: index.html with a map of word neighbours "
        "(needs matplotlib: pip install 'ptm-fast[report]')",
    )  # fmt: skip
    train.add_argument("--vector-size", type=POSITIVE, default=100)
    train.add_argument("--window", type=POSITIVE, default=5)
    train.add_argument("--min-count", type=POSITIVE, default=5)
    train.add_argument("--sg", type=int, choices=(0, 1), default=0, help="1: skip-gram; 0: CBOW")
    train.add_argument("--negative", type=POSITIVE, default=5)
    train.add_argument("--sample", type=number_option(low=0.0), default=1e-3)
    train.add_argument("--alpha", type=number_option(above=0.0), default=0.025)
    train.add_argument("--epochs", type=POSITIVE, default=5)
    train.add_argument("--workers", type=POSITIVE, help="threads (default: every core)")
    train.add_argument("--seed", type=int, default=1)
    train.set_defaults(run=run_word2vec_train)

    similar = word2vec.add_parser(
        "similar",
        help="the nearest words to a word",
        epilog="example: ptm word2vec similar vectors.bin king --topn 5",
    )
    _vectors_arguments(similar)
    similar.add_argument("word")
    similar.set_defaults(run=run_word2vec_similar)

    analogy = word2vec.add_parser(
        "analogy",
        help="A is to B as C is to ? (B - A + C)",
        epilog="example: ptm word2vec analogy vectors.bin man king woman   # -> queen",
    )
    _vectors_arguments(analogy)
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.set_defaults(run=run_word2vec_analogy)


def _vectors_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vectors", help="a word2vec-format file (.bin is read as binary)")
    parser.add_argument("--topn", type=POSITIVE, default=10, help="how many words (default 10)")
    parser.add_argument("--binary", action="store_true", help="the file is binary (.bin: always)")


def _load_vectors(args):
    from ptm_fast.word2vec import KeyedVectors

    binary = args.binary or str(args.vectors).endswith(".bin")
    return KeyedVectors.load_word2vec_format(args.vectors, binary=binary)


def _print_neighbours(pairs) -> None:
    for word, score in pairs:
        print(f"{score:.4f}\t{word}")


def run_word2vec_train(args) -> int:
    from ptm_fast.cli import reported
    from ptm_fast.report.record import neighbour_map

    with reported(args, f"ptm word2vec train {args.corpus}") as record:
        model = _word2vec_train(args)
        if args.report is not None:  # neighbours are worth their search only for a report
            # Four frequent words past the most common hundred (mostly function words).
            words = model.wv.index_to_key[100:104] or model.wv.index_to_key[:4]
            topn = min(5, len(model.wv) - 1)
            if topn > 0:
                record.figure("word_map", "word-map", "Four frequent words and their nearest "
                              "neighbours, on the vectors' two principal axes",
                              **neighbour_map(model.wv, words, topn))  # fmt: skip
    return 0


def _word2vec_train(args):
    import time

    from ptm_fast.word2vec import Word2Vec

    start = time.perf_counter()
    model = Word2Vec(
        corpus_file=args.corpus, vector_size=args.vector_size, window=args.window,
        min_count=args.min_count, sg=args.sg, negative=args.negative, sample=args.sample,
        alpha=args.alpha, epochs=args.epochs, workers=args.workers, seed=args.seed,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(args.output, binary=args.binary)
    words = model.corpus_total_words
    print(f"trained on {words:,} words x {args.epochs} epochs in {seconds:.1f} s "
          f"({args.epochs * words / seconds:,.0f} words/s)")  # fmt: skip
    print(f"{len(model.wv)} words x {args.vector_size} dimensions saved to {args.output}")
    return model


def run_word2vec_similar(args) -> int:
    vectors = _load_vectors(args)
    _known(vectors, [args.word])
    _print_neighbours(vectors.most_similar(args.word, topn=args.topn))
    return 0


def run_word2vec_analogy(args) -> int:
    vectors = _load_vectors(args)
    _known(vectors, [args.a, args.b, args.c])
    _print_neighbours(
        vectors.most_similar(positive=[args.b, args.c], negative=[args.a], topn=args.topn)
    )
    return 0


def _known(vectors, words: list[str]) -> None:
    missing = [w for w in words if w not in vectors]
    if missing:
        raise ValueError(f"not in the vocabulary: {', '.join(repr(w) for w in missing)}")


def add_tokenizers(commands) -> None:
    """``ptm tokenizer train`` and ``ptm tokenize``."""
    tokenizer = commands.add_parser("tokenizer", help="train a tokenizer").add_subparsers(
        dest="tokenizer_command", metavar="ACTION", required=True
    )
    train = tokenizer.add_parser(
        "train",
        help="train a WordPiece or byte-level BPE vocabulary on text files",
        epilog="example: ptm tokenizer train corpus.txt --kind bpe --vocab-size 8000 "
        "--output my-bpe/",
    )
    train.add_argument("files", nargs="+", help="UTF-8 text files, read line by line")
    train.add_argument("--kind", choices=("wordpiece", "bpe"), required=True)
    train.add_argument("--vocab-size", type=POSITIVE, required=True)
    train.add_argument("--min-frequency", type=POSITIVE, default=2)
    train.add_argument(
        "--limit-alphabet", type=POSITIVE,
        help="wordpiece: keep only the N most frequent characters (default: every one)",
    )  # fmt: skip
    train.add_argument("--output", required=True, help="folder to save the tokenizer in")
    train.set_defaults(run=run_tokenizer_train)

    tokenize = commands.add_parser(
        "tokenize",
        help="encode a text file with a saved tokenizer",
        description="Encode each line of FILE. Ids go to stdout as JSON lines, or with "
        "--output ids.npy to a numpy file: a flat uint32 array of every line's ids, and "
        "beside it ids.offsets.npy, where line i has ids[offsets[i]:offsets[i + 1]].",
        epilog="example: ptm tokenize all-MiniLM-L6-v2/ reviews.txt --output ids.npy",
    )
    tokenize.add_argument("tokenizer", help="a tokenizer folder (WordPiece or byte-level BPE)")
    tokenize.add_argument("file", help="UTF-8 text, one text per line")
    tokenize.add_argument("--output", help="a .npy file (default: JSON lines on stdout)")
    tokenize.add_argument("--max-length", type=POSITIVE, help="truncate each line to this many")
    tokenize.set_defaults(run=run_tokenize)


def load_tokenizer(folder: str):
    """The tokenizer saved in ``folder``: WordPiece when it has ``vocab.txt``, else BPE."""
    from ptm_fast.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer

    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"{folder}: not a tokenizer folder")
    if (path / "vocab.txt").is_file():
        return WordPieceTokenizer.from_pretrained(path)
    if (path / "tokenizer.json").is_file() or (path / "vocab.json").is_file():
        return ByteLevelBPETokenizer.from_pretrained(path)
    raise ValueError(f"{folder}: holds no vocab.txt, vocab.json or tokenizer.json")


def run_tokenizer_train(args) -> int:
    from ptm_fast.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer

    options = {"vocab_size": args.vocab_size, "min_frequency": args.min_frequency}
    if args.kind == "wordpiece":
        trained = WordPieceTokenizer.train(
            args.files, limit_alphabet=args.limit_alphabet, **options
        )
    elif args.limit_alphabet is not None:
        raise ValueError("--limit-alphabet is for --kind wordpiece")
    else:
        trained = ByteLevelBPETokenizer.train(args.files, **options)
    trained.save_pretrained(args.output)
    print(f"{args.kind} vocabulary of {trained.vocab_size} tokens saved to {args.output}")
    return 0


def _lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def run_tokenize(args) -> int:
    tokenizer = load_tokenizer(args.tokenizer)
    ids, offsets = tokenizer.encode_batch_flat(_lines(args.file), max_length=args.max_length)
    if args.output is None:
        out = sys.stdout
        for i in range(len(offsets) - 1):
            out.write(json.dumps(ids[offsets[i] : offsets[i + 1]].tolist()) + "\n")
        return 0
    from ptm_fast import _io

    target = Path(args.output)
    if target.suffix != ".npy":
        raise ValueError(f"--output {args.output}: expected a .npy file")
    for path, array in ((target, ids), (target.with_suffix(".offsets.npy"), offsets)):
        with _io.atomic_file(path) as f:
            np.save(f, array)
    print(f"{len(offsets) - 1} lines, {len(ids)} ids saved to {target} (+ offsets)",
          file=sys.stderr)  # fmt: skip
    return 0


def add_embed(bert) -> None:
    """``ptm bert embed``."""
    embed = bert.add_parser(
        "embed",
        help="sentence embeddings of each line of a file",
        description="Embed each line of FILE with a BERT (or sentence-transformers) folder, "
        "pooled as the folder says (mean by default), into a float32 .npy of "
        "(lines, hidden size).",
        epilog="example: ptm bert embed all-MiniLM-L6-v2/ sentences.txt --output emb.npy "
        "--normalize",
    )
    embed.add_argument("model", help="a BERT or sentence-transformers folder")
    embed.add_argument("file", help="UTF-8 text, one sentence per line")
    embed.add_argument("--output", required=True, help="a .npy file")
    embed.add_argument("--batch-size", type=POSITIVE, default=32)
    embed.add_argument("--normalize", action="store_true", help="unit-length embeddings")
    embed.add_argument("--pooling", choices=("mean", "cls"), help="default: as the folder says")
    embed.set_defaults(run=run_embed)


def run_embed(args) -> int:
    from ptm_fast import _io
    from ptm_fast.bert.modeling import BertModel

    if not str(args.output).endswith(".npy"):
        raise ValueError(f"--output {args.output}: expected a .npy file")
    sentences = _lines(args.file)
    if not sentences:
        raise ValueError(f"{args.file}: no lines to embed")
    with warnings.catch_warnings():
        # A sentence-transformers folder may hold no pooler: embeddings do not use it.
        warnings.filterwarnings("ignore", message=".*pooler")
        model = BertModel.from_pretrained(args.model).eval()
    vectors = model.encode(
        sentences, batch_size=args.batch_size, normalize_embeddings=args.normalize,
        pooling=args.pooling,
    )  # fmt: skip
    with _io.atomic_file(args.output) as f:
        np.save(f, np.asarray(vectors, dtype=np.float32))
    print(f"{len(sentences)} embeddings of size {vectors.shape[1]} saved to {args.output}")
    return 0


def add_zero_shot(commands) -> None:
    """``ptm zero-shot``."""
    zero_shot = commands.add_parser(
        "zero-shot",
        help="classify texts with a GPT and no training",
        description="Score each line of TEXTS against every label with a GPT folder (written "
        "by ptm gpt pretrain, or a GPT-2 folder with its tokenizer) and print the likeliest "
        "label and its probability, tab-separated.",
        epilog="example: ptm zero-shot my-gpt/ headlines.txt --labels sport,politics,tech "
        '--template "{text} This is about {label}."',
    )
    zero_shot.add_argument("model", help="a GPT folder with its tokenizer")
    zero_shot.add_argument("texts", help="UTF-8 text, one text per line")
    zero_shot.add_argument("--labels", required=True, help="comma-separated label names")
    zero_shot.add_argument("--template", default="{text} This is about {label}.")
    zero_shot.add_argument("--calibrate", action="store_true", help="divide out the label prior")
    zero_shot.set_defaults(run=run_zero_shot)


def run_zero_shot(args) -> int:
    from ptm_fast.cli import load_bpe
    from ptm_fast.gpt.modeling import GPT
    from ptm_fast.gpt.zero_shot import zero_shot_classify

    labels = [label.strip() for label in args.labels.split(",") if label.strip()]
    if len(labels) < 2:
        raise ValueError(f"--labels {args.labels!r}: give at least two labels, comma-separated")
    texts = _lines(args.texts)
    if not texts:
        raise ValueError(f"{args.texts}: no lines to classify")
    model = GPT.from_pretrained(args.model).eval()
    scores = zero_shot_classify(
        model, load_bpe(args.model), texts, labels, args.template, calibrate=args.calibrate
    )
    for probabilities in scores:
        best = max(probabilities, key=probabilities.get)
        print(f"{best}\t{probabilities[best]:.4f}")
    return 0
