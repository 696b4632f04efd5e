"""The main job: ptm_fast's capabilities, step by step, on built-in data.

Each capability adds one step to ``STEPS`` as it lands. A step prints a few
short lines of real figures from this run and raises on failure, so the demo
doubles as a self-check of the installed package.
"""

from __future__ import annotations

import contextlib
import io
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

import ptm_fast
from ptm_fast import kernels
from ptm_fast.report.page import reporting
from ptm_fast.report.record import RunRecord, loss_series, neighbour_map


def _sample_lines() -> list[str]:
    text = resources.files("ptm_fast").joinpath("data/sample.txt").read_text(encoding="utf-8")
    return text.splitlines()


def step_environment(record: RunRecord) -> None:
    """Report the installed package and what it runs on."""
    core = Path(ptm_fast._core.__file__).name
    print(f"ptm_fast {ptm_fast.__version__} (Rust core {core})")
    print(f"Python {platform.python_version()}, numpy {np.__version__}")
    try:
        import torch
    except ImportError:
        print("torch: not installed (tokenizers and Word2Vec's Rust backend still work)")
        return
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    print(f"torch {torch.__version__} ({device}); triton installed: {kernels.triton_available()}")


def step_rust_core(record: RunRecord) -> None:
    """Rust core: pre-tokenizer, streaming word counter, error path."""
    lines = _sample_lines()
    pieces = ptm_fast.pre_tokenize(lines[6])
    if any(lines[6][a:b] != piece for piece, (a, b) in pieces):
        raise AssertionError("pre-tokenizer offsets do not slice the text")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.txt"
        path.write_text("\n".join(line.lower() for line in lines), encoding="utf-8")
        counts = ptm_fast.count_words_in_file(path)
    top = ", ".join(f"{w} {n}" for w, n in counts[:4])
    print(f"pre-tokenized {len(pieces)} pieces; counted {len(counts)} distinct words (top: {top})")
    try:
        ptm_fast.count_words_in_file("no/such/corpus.txt")
    except ptm_fast.MissingFileError as err:
        print(f"a missing file -> MissingFileError (FileNotFoundError, ValueError): {err}")
    else:
        raise AssertionError("a missing file did not raise MissingFileError")


def _rate(megabytes: float, seconds: float) -> str:
    return f"{megabytes / seconds:,.0f} MB/s"


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return out, time.perf_counter() - start


def _hf_wordpiece():
    from tokenizers import Tokenizer

    from ptm_fast import assets

    tokenizer = Tokenizer.from_file(str(assets.minilm_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    return tokenizer.encode_batch


def _tiktoken_gpt2():
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    from ptm_fast import assets

    ranks = load_tiktoken_bpe(str(assets.gpt2_ranks_path()))
    encoding = tiktoken.Encoding(name="gpt2", pat_str=assets.GPT2_PATTERN, mergeable_ranks=ranks,
                                 special_tokens={"<|endoftext|>": 50256})  # fmt: skip
    return encoding.encode_ordinary_batch


def _reference_speed(task: str, tool: str, make, lines: list[str], megabytes: float) -> list:
    """The reference tool's speed on the same lines, or nothing when it is not installed."""
    try:
        encode = make()
    except ImportError:
        print(f"  ({tool} is not installed: no side-by-side figure)")
        return []
    _, seconds = _timed(encode, lines)
    print(f"  {tool} on the same lines: {seconds:.2f} s ({_rate(megabytes, seconds)})")
    return [{"task": task, "tool": tool, "value": megabytes / seconds}]


def step_tokenizers(record: RunRecord) -> None:
    """Tokenize the real corpus with BERT's WordPiece and GPT-2's byte-level BPE."""
    from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer, assets

    lines = assets.real_corpus_lines()
    megabytes = sum(len(line.encode("utf-8")) for line in lines) / 1e6
    print(f"corpus: {len(lines):,} lines, {megabytes:.1f} MB (BBC news, Wikipedia, reviews)")
    wordpiece = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
    encodings, seconds = _timed(wordpiece.encode_batch, lines)
    tokens = sum(len(e.ids) for e in encodings)
    print(f"WordPiece: {tokens:,} tokens in {seconds:.2f} s ({_rate(megabytes, seconds)})")
    bpe = ByteLevelBPETokenizer.from_tiktoken(
        assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
    )
    ids, bpe_seconds = _timed(bpe.encode_batch, lines)
    print(
        f"GPT-2 BPE: {sum(map(len, ids)):,} tokens in {bpe_seconds:.2f} s "
        f"({_rate(megabytes, bpe_seconds)})"
    )
    rows = [{"task": "WordPiece", "tool": "ptm_fast", "value": megabytes / seconds}]
    rows += _reference_speed("WordPiece", "HF tokenizers", _hf_wordpiece, lines, megabytes)
    rows.append({"task": "GPT-2 BPE", "tool": "ptm_fast", "value": megabytes / bpe_seconds})
    rows += _reference_speed("GPT-2 BPE", "tiktoken", _tiktoken_gpt2, lines, megabytes)
    record.figure("speed", "speed-tokenizers", "Tokenizing the corpus, MB/s on every core, "
                  "each tool timed once in this run", rows=rows, unit="MB/s")  # fmt: skip
    sample = "Tokenizers aren't magic: WordPiece splits unfamiliar words, BPE merges bytes."
    print(f"  {sample!r}")
    print(f"  WordPiece: {' '.join(wordpiece.encode(sample).tokens)}")
    pieces = [bpe.decode([i]) for i in bpe.encode(sample)]
    print(f"  BPE:       {'|'.join(pieces)}")
    if bpe.decode(bpe.encode(sample)) != sample:
        raise AssertionError("BPE did not decode back to the text")


def step_word2vec(record: RunRecord) -> None:
    """Train skip-gram Word2Vec on the real corpus; show neighbours and analogies."""
    from ptm_fast import Word2Vec, assets

    sentences = assets.real_corpus_sentences()
    settings = {"vector_size": 100, "window": 5, "min_count": 5, "sg": 1, "sample": 1e-4,
                "epochs": 5, "seed": 1, "workers": 2}  # fmt: skip
    model, seconds = _timed(Word2Vec, sentences, progress=False, **settings)
    words = model.corpus_total_words
    print(
        f"skip-gram on {words:,} words x 5 epochs in {seconds:.1f} s "
        f"({5 * words / seconds / 1e3:,.0f}k words/s with the vocabulary), "
        f"{len(model.wv):,} words kept"
    )
    rows = [{"task": "skip-gram", "tool": "ptm_fast", "value": 5 * words / seconds / 1e3}]
    try:
        from gensim.models import Word2Vec as GensimWord2Vec
    except ImportError:
        print("  (gensim is not installed: no side-by-side figure)")
    else:
        _, gensim_seconds = _timed(GensimWord2Vec, sentences, **settings)
        print(f"  gensim, same settings: {gensim_seconds:.1f} s "
              f"({5 * words / gensim_seconds / 1e3:,.0f}k words/s)")  # fmt: skip
        rows.append(
            {"task": "skip-gram", "tool": "gensim", "value": 5 * words / gensim_seconds / 1e3}
        )
    record.figure("speed", "speed-word2vec", "Word2Vec training speed, thousand corpus words "
                  "per second (vocabulary building included), 2 threads", rows=rows,
                  unit="k words/s")  # fmt: skip
    near = neighbour_map(model.wv, ["chelsea", "economy", "film"])
    for word, words in near["neighbours"].items():
        print(f"  closest to {word!r}: {', '.join(words)}")
    record.figure("word_map", "word2vec-map", "Three words and their five nearest neighbours, "
                  "the vectors projected on their two principal axes", **near)  # fmt: skip
    for a, b, c in (("blair", "labour", "howard"), ("his", "he", "her")):
        guess = model.wv.most_similar(positive=[b, c], negative=[a], topn=3)
        print(f"  {a} : {b} :: {c} : ? -> {', '.join(w for w, _ in guess)}")
    score, _ = model.wv.evaluate_word_analogies(assets.fetch("questions-words.txt"))
    pairs = model.wv.evaluate_word_pairs(assets.fetch("wordsim353.tsv"))
    print(
        f"analogy accuracy {score:.3f} (questions-words), WordSim-353 Spearman "
        f"{pairs[1][0]:.3f} (a 1.7M-word corpus is small for these tests)"
    )
    if model.wv.similarity("chelsea", "arsenal") <= model.wv.similarity("chelsea", "shares"):
        raise AssertionError("related words are not closer than unrelated ones")


def step_bert(record: RunRecord) -> None:
    """Fine-tune the pretrained BERT (all-MiniLM-L6-v2) on movie reviews; report F1."""
    import torch

    from ptm_fast import assets
    from ptm_fast.bert.finetuning import finetune_classifier
    from ptm_fast.training.trainer import TrainingConfig

    reviews = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    order = np.random.default_rng(0).permutation(len(reviews))[:2500]
    texts = [reviews[i][1] for i in order]
    labels = [reviews[i][0] for i in order]
    torch.manual_seed(0)
    # One short epoch: a small model on few steps wants a larger rate than the
    # usual 5e-5 (which leaves it near the majority class after 62 steps).
    config = TrainingConfig(epochs=1, lr=2e-4, warmup_ratio=0.1, seed=0, eval_steps=25)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = finetune_classifier(
            assets.minilm_dir(), texts[:2000], labels[:2000], texts[2000:], labels[2000:],
            config=config, batch_size=16, max_length=64,
        )  # fmt: skip
    for warning in caught:  # expected: the new classifier head is not in the checkpoint
        print(f"  note: {str(warning.message).split(': ', 1)[-1]}")
    final = result.evaluations[-1]
    print(
        f"Rotten Tomatoes fresh vs rotten, {len(texts) - 500} reviews to train on, 500 held out: "
        f"accuracy {final['accuracy']:.3f}, macro-F1 {final['macro_f1']:.3f} "
        f"(majority class {result.majority_accuracy:.3f}), {result.seconds:.0f} s"
    )
    record.figure("curves", "bert-loss", "Fine-tuning all-MiniLM-L6-v2: training loss and "
                  "held-out loss by optimizer step", series=loss_series(result))  # fmt: skip
    names = result.label_names
    predicted = result.valid_predictions
    truth = [names.index(label) for label in labels[2000:]]
    matrix = np.zeros((len(names), len(names)), dtype=int)
    np.add.at(matrix, (truth, predicted), 1)
    record.figure("confusion", "bert-confusion", f"The fine-tuned classifier on the "
                  f"{len(truth)} held-out reviews (accuracy {final['accuracy']:.3f})",
                  labels=list(names), matrix=matrix.tolist())  # fmt: skip


def step_multitask(record: RunRecord) -> None:
    """Fine-tune one BERT encoder on two tasks at once: review sentiment and news topics."""
    import torch

    from ptm_fast import assets
    from ptm_fast.bert import Task, finetune_multitask
    from ptm_fast.training import TrainingConfig, temperature

    rng = np.random.default_rng(1)
    reviews = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    reviews = [reviews[i] for i in rng.permutation(len(reviews))[:400]]
    news = assets.bbc_news()
    news = [news[i] for i in rng.permutation(len(news))[:400]]
    tasks = [
        Task("sentiment", "sequence_classification", [t for _, t in reviews],
             [c for c, _ in reviews]),
        Task("topic", "sequence_classification", [t for _, t in news], [c for c, _ in news],
             metric="macro_f1"),
    ]  # fmt: skip
    torch.manual_seed(0)
    config = TrainingConfig(epochs=1, lr=2e-4, warmup_ratio=0.1, seed=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fresh heads are not in the checkpoint: expected
        result = finetune_multitask(
            assets.minilm_dir(), tasks, config, batch_size=16, max_length=64,
            sampler=temperature(2.0),
        )  # fmt: skip
    print(
        f"one MiniLM encoder, a head per task, {result.steps} steps (tasks drawn with "
        f"temperature 2) on 320 + 320 examples, 80 + 80 held out, {result.seconds:.0f} s; "
        f"macro average {result.after['macro_average']:.3f}"
    )


def step_continual(record: RunRecord) -> None:
    """Learn news topics in two rounds (class-incremental): naive forgetting against replay."""
    import torch

    from ptm_fast import assets
    from ptm_fast.bert import Task
    from ptm_fast.continual import ContinualTrainer
    from ptm_fast.training import TrainingConfig

    news = assets.bbc_news()
    news = [news[i] for i in np.random.default_rng(2).permutation(len(news))]
    first = [r for r in news if r[0] in ("business", "politics")][:300]
    second = [r for r in news if r[0] not in ("business", "politics")][:300]
    tasks = [
        Task(name, "sequence_classification", [t for _, t in rows], [c for c, _ in rows])
        for name, rows in (("business+politics", first), ("the other three", second))
    ]
    config = TrainingConfig(epochs=1, lr=2e-4, warmup_ratio=0.1, seed=0, progress=False)
    runs = {}
    for strategy, options in (("naive", {}), ("replay", {"memory_size": 40})):
        torch.manual_seed(0)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the fresh head is not in the checkpoint: expected
            runs[strategy] = ContinualTrainer(
                assets.minilm_dir(), tasks, strategy, config, scenario="class_incremental",
                batch_size=16, max_length=64, **options,
            ).train()  # fmt: skip
    naive, replay = runs["naive"], runs["replay"]
    drop = {k: 100 * r.scores.forgetting[tasks[0].name] for k, r in runs.items()}
    print(
        f"BBC business+politics, then the other three topics, one head for all five "
        f"(240 + 240 articles to train on): after the second round the first round's accuracy "
        f"fell {drop['naive']:.1f} points with naive fine-tuning and {drop['replay']:.1f} with "
        f"40 replayed examples; average accuracy {naive.average_accuracy:.3f} against "
        f"{replay.average_accuracy:.3f}, {sum(naive.seconds):.0f} s and "
        f"{sum(replay.seconds):.0f} s"
    )


def step_gpt(record: RunRecord) -> None:
    """Pretrain a small GPT on the real corpus, generate, and classify news zero-shot."""
    import torch

    from ptm_fast import ByteLevelBPETokenizer, assets
    from ptm_fast.gpt.modeling import GPTConfig
    from ptm_fast.gpt.pretraining import TokenBlocks, pack_documents, pretrain_gpt
    from ptm_fast.gpt.zero_shot import zero_shot_classify
    from ptm_fast.training.trainer import TrainingConfig

    documents = assets.real_corpus_documents()
    start = time.perf_counter()
    bpe = ByteLevelBPETokenizer.train(texts=documents, vocab_size=4096)
    with tempfile.TemporaryDirectory() as tmp:
        tokens = np.array(pack_documents(documents, bpe, Path(tmp) / "corpus.bin"))
    print(
        f"trained a 4,096-token BPE and packed the corpus into {len(tokens):,} tokens "
        f"in {time.perf_counter() - start:.1f} s"
    )
    blocks = TokenBlocks(tokens, block_size=128, valid_fraction=0.02)
    config = GPTConfig(vocab_size=bpe.vocab_size, n_positions=128, n_embd=128, n_layer=4,
                       n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    training = TrainingConfig(epochs=1, lr=3e-3, warmup_ratio=0.05, schedule="cosine",
                              min_lr_ratio=0.1, weight_decay=0.1, seed=0,
                              eval_steps=100)  # fmt: skip
    torch.manual_seed(0)
    result = pretrain_gpt(blocks, config, training, batch_size=16, steps_per_epoch=700)
    print(
        f"GPT 4x128 ({sum(p.numel() for p in result.model.parameters()) / 1e6:.1f}M parameters), "
        f"{result.tokens_seen:,} tokens in {result.seconds:.0f} s: validation perplexity "
        f"{result.after['val_perplexity']:.0f} (unigram baseline {np.exp(result.unigram_loss):.0f})"
    )
    record.figure("curves", "gpt-loss", "Pretraining the small GPT: training loss and "
                  "validation loss (nats per token) by optimizer step",
                  series=loss_series(result))  # fmt: skip
    for prompt in ("The government said", "Shares in the company"):
        out = result.model.generate(
            torch.tensor([bpe.encode(prompt)]), max_new_tokens=25, repetition_penalty=1.3
        )
        print(f"  greedy: {bpe.decode(out[0].tolist())!r}")
    articles = assets.bbc_news()
    picked = np.random.default_rng(1).choice(len(articles), size=100, replace=False)
    names = {"business": "business", "entertainment": "entertainment", "politics": "politics",
             "sports": "sport", "tech": "technology"}  # fmt: skip
    predictions = zero_shot_classify(
        result.model, bpe, [articles[i][1] for i in picked], list(names.values()),
        template="{text} This article is about {label}.", calibrate=True,
    )  # fmt: skip
    right = [max(p, key=p.get) == names[articles[i][0]]
             for p, i in zip(predictions, picked, strict=True)]  # fmt: skip
    hits = sum(right)
    per_label = {
        label: float(np.mean([r for r, i in zip(right, picked, strict=True)
                              if articles[i][0] == topic] or [0.0]))
        for topic, label in names.items()
    }  # fmt: skip
    # 0.28 is two standard deviations above chance for 100 articles (binomial).
    verdict = "above chance" if hits / 100 >= 0.28 else "not above chance: a model trained for "
    if hits / 100 < 0.28:
        verdict += "two CPU minutes knows too little; see benches/RESULTS.md for longer runs"
    print(
        f"zero-shot BBC topic (5 classes, 100 articles): accuracy {hits / 100:.2f} "
        f"(chance 0.20; {verdict})"
    )
    print("  per topic: " + ", ".join(f"{k} {v:.2f}" for k, v in per_label.items()))
    record.figure("per_label", "zero-shot", "Zero-shot accuracy per true topic, 100 BBC articles",
                  labels=list(per_label), values=list(per_label.values()), baseline=0.2,
                  baseline_name="chance")  # fmt: skip


_KERNEL_CHECK = """
import os, time
os.environ.setdefault("TRITON_INTERPRET", "1")
import torch
from ptm_fast import kernels
g = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 2, 40, 64, generator=g) for _ in range(3))
real = torch.arange(40)[None, :] < torch.tensor([[40], [25]])
start = time.perf_counter()
out = kernels.attention(q, k, v, causal=True, key_padding_mask=real, backend="triton")
seconds = time.perf_counter() - start
ref = kernels.attention_reference(q, k, v, causal=True, key_padding_mask=real)
x = torch.randn(2, 40, 64, generator=g)
weights = torch.randn(64, 256, generator=g) / 8, torch.zeros(256)
weights += torch.randn(256, 64, generator=g) / 16, torch.zeros(64)
fused = kernels.ffn(x, *weights, backend="triton")
ffn_diff = (fused - kernels.ffn_reference(x, *weights)).abs().max()
print(f"{(out - ref).abs().max().item():.1e} {ffn_diff.item():.1e} {seconds:.2f}")
"""


def step_kernels(record: RunRecord) -> None:
    """Check the Triton kernels against their torch references."""
    try:
        import torch
    except ImportError:
        print("kernels: torch not installed, nothing to run")
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.zeros(1, device=device)
    print(f"backend='auto' on a {device} tensor runs the {kernels.resolve_backend('auto', x)} path")
    if not kernels.triton_available():
        print("triton is not installed: only the torch path is available here")
        return
    # A fresh process, so TRITON_INTERPRET is set before triton is imported.
    done = subprocess.run(
        [sys.executable, "-c", _KERNEL_CHECK], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise AssertionError(f"kernel check failed:\n{done.stderr[-2000:]}")
    attention_diff, ffn_diff, seconds = done.stdout.split()
    where = "on the GPU" if device == "cuda" else "interpreted on the CPU"
    print(
        f"Triton attention (causal + padding mask, 2x2x40x64), {where} in {seconds} s: "
        f"max |diff| vs torch {attention_diff}"
    )
    print(f"Triton fused FFN (gelu, 80 tokens, 64 -> 256 -> 64): max |diff| vs torch {ffn_diff}")


STEPS: dict[str, Callable[[RunRecord], None]] = {
    "environment": step_environment,
    "tokenizers": step_tokenizers,
    "word2vec": step_word2vec,
    "bert": step_bert,
    "multitask": step_multitask,
    "continual": step_continual,
    "gpt": step_gpt,
    "kernels": step_kernels,
    "rust-core": step_rust_core,
}
NEEDS_TORCH = {"bert", "multitask", "continual", "gpt", "kernels"}


def run(only: list[str] | None = None, report_dir: str | Path | None = None) -> int:
    """Run the steps (all, or those named in ``only``); return a process exit code.

    With ``report_dir``, also write the run's report there: an ``index.html``
    with what each step printed and its figures (needs matplotlib).
    """
    names = only or list(STEPS)
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise ValueError(f"unknown demo steps {unknown}; the steps are {list(STEPS)}")
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False
    start = time.perf_counter()
    with reporting(report_dir, "ptm_fast demo") as record:
        for name in names:
            step = STEPS[name]
            title = step.__doc__.strip().rstrip(".")
            print(f"\n== {title}", flush=True)
            with record.capture(title):
                if name in NEEDS_TORCH and not has_torch:
                    print("skipped: needs torch (pip install torch)")
                    continue
                step(record)
        record.summary = f"{len(names)} steps done in {time.perf_counter() - start:.0f} s"
        print(f"\n{record.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
