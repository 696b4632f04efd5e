"""Word2Vec: ptm_fast against gensim on the real corpus, speed and quality side by side.

The corpus is ``assets.real_corpus_sentences()`` (BBC news, Wikipedia pages
and review snippets, lowercased into words: about 1.7M words). Both libraries
train with the same settings (vector_size=100, window=5, min_count=5,
negative=5, sample=1e-4, epochs=5, 2 workers) for skip-gram and CBOW, once
per seed, alternating which goes first. Speed is words read per second of
``train()`` (vocabulary building excluded on both sides), best of the seeds;
quality is the mean over the seeds of the analogy accuracy (questions-words,
restrict_vocab=30000, 3CosAdd) and the WordSim-353 Spearman correlation, both
computed by the same evaluator (ptm_fast's; the script checks it agrees with
gensim's on one model of each side).

    python benches/bench_word2vec.py                 # 3 seeds, torch backend too
    python benches/bench_word2vec.py --write-results # also update benches/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ptm_fast
from ptm_fast import KeyedVectors, Word2Vec, assets

from report import Report

CONFIG = dict(vector_size=100, window=5, min_count=5, negative=5, sample=1e-4, epochs=5, workers=2)
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Word2Vec (CPU, this machine)"


def quality(kv: KeyedVectors) -> tuple[float, float]:
    """(analogy accuracy, WordSim-353 Spearman) of the vectors."""
    accuracy, _ = kv.evaluate_word_analogies(assets.fetch("questions-words.txt"), 30000)
    _, (spearman, _), _ = kv.evaluate_word_pairs(assets.fetch("wordsim353.tsv"))
    return accuracy, spearman


def train_ours(sentences, sg: int, seed: int, backend: str = "rust"):
    model = Word2Vec(sg=sg, seed=seed, backend=backend, progress=False, **CONFIG)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences)
    return model.wv, time.perf_counter() - start


def train_gensim(sentences, sg: int, seed: int):
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(sg=sg, seed=seed, **CONFIG)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - start
    kv = KeyedVectors(model.wv.vector_size, model.wv.index_to_key, model.wv.vectors)
    return kv, seconds, model.wv


def check_evaluators_agree(ours: KeyedVectors, theirs_gensim) -> None:
    """Our evaluator and gensim's give the same figures on the same vectors."""
    from gensim.models import KeyedVectors as GensimKeyedVectors

    twin = GensimKeyedVectors(ours.vector_size)
    twin.add_vectors(ours.index_to_key, ours.vectors)
    for kv_ours, kv_gensim in [(ours, twin), (None, theirs_gensim)]:
        if kv_ours is None:
            kv_ours = KeyedVectors(kv_gensim.vector_size, kv_gensim.index_to_key, kv_gensim.vectors)
        a, s = quality(kv_ours)
        ga, _ = kv_gensim.evaluate_word_analogies(str(assets.fetch("questions-words.txt")), 30000)
        gs = kv_gensim.evaluate_word_pairs(str(assets.fetch("wordsim353.tsv")))[1].statistic
        if abs(a - ga) > 1e-9 or abs(s - gs) > 1e-6:
            raise AssertionError(f"evaluators disagree: ours ({a}, {s}) vs gensim ({ga}, {gs})")
    print("evaluator check: ptm_fast's and gensim's evaluations agree on the same vectors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-torch", action="store_true", help="skip the torch backend runs")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch's CPU threads (1: on a small shared machine more threads spin and wait)",
    )
    parser.add_argument("--write-results", action="store_true", help="update benches/RESULTS.md")
    args = parser.parse_args()

    import gensim

    sentences = assets.real_corpus_sentences()
    words = sum(map(len, sentences))
    print(f"corpus: {len(sentences)} sentences, {words} words; config {CONFIG}")
    report = Report("word2vec", reference_name=f"gensim {gensim.__version__}")
    table = []
    checked = False
    for sg in (1, 0):
        mode = "skip-gram" if sg else "CBOW"
        seconds = {"ours": [], "gensim": []}
        scores = {"ours": [], "gensim": []}
        for k, seed in enumerate(args.seeds):
            runs = ["ours", "gensim"] if k % 2 == 0 else ["gensim", "ours"]
            for side in runs:
                if side == "ours":
                    kv, t = train_ours(sentences, sg, seed)
                    ours_kv = kv
                else:
                    kv, t, gensim_kv = train_gensim(sentences, sg, seed)
                seconds[side].append(t)
                scores[side].append(quality(kv))
                print(
                    f"{mode} seed {seed} {side:6s}: {words * CONFIG['epochs'] / t / 1e3:7.0f}k "
                    f"words/s, analogy {scores[side][-1][0]:.4f}, "
                    f"spearman {scores[side][-1][1]:.4f}",
                    flush=True,
                )
            if not checked:
                check_evaluators_agree(ours_kv, gensim_kv)
                checked = True
        speed = {s: words * CONFIG["epochs"] / min(v) for s, v in seconds.items()}
        mean = {s: np.mean(scores[s], axis=0) for s in scores}
        spread = {s: np.std(scores[s], axis=0) for s in scores}
        report.add(mode, "train speed", "words/s", speed["ours"], speed["gensim"])
        report.add(mode, "analogy accuracy", "mean", mean["ours"][0], mean["gensim"][0])
        report.add(mode, "WordSim-353 Spearman", "mean", mean["ours"][1], mean["gensim"][1])
        table.append((mode, "rust", speed, mean, spread))

    if not args.no_torch:
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(args.torch_threads)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        for sg in (1, 0):
            mode = "skip-gram" if sg else "CBOW"
            kv, t = train_ours(sentences, sg, args.seeds[0], backend="torch")
            acc, rho = quality(kv)
            print(f"{mode} torch backend ({device}): {words * 5 / t / 1e3:.0f}k words/s, "
                  f"analogy {acc:.4f}, spearman {rho:.4f}", flush=True)  # fmt: skip
            ref = next(row for row in table if row[0] == mode)
            report.add(
                f"{mode}, torch ({device})", "analogy accuracy", "seed 1", acc, ref[3]["gensim"][0]
            )
            report.add(
                f"{mode}, torch ({device})",
                "WordSim-353 Spearman",
                "seed 1",
                rho,
                ref[3]["gensim"][1],
            )
            table.append(
                (mode, f"torch ({device})", {"ours": words * 5 / t}, {"ours": (acc, rho)}, None)
            )

    report.finish()
    if args.write_results:
        write_results(table, words, len(sentences), args, gensim.__version__)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_results(table, words, sentences, args, gensim_version) -> None:
    """Replace (or append) the Word2Vec section of benches/RESULTS.md."""
    import torch

    seeds = args.seeds
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        f"- Date: {now}. Machine: {_cpu_name()}, {os.cpu_count()} cores (shared with other jobs: "
        "timings are noisy, only side-by-side ratios mean anything).",
        f"- Versions: ptm_fast {ptm_fast.__version__}, gensim {gensim_version}, numpy "
        f"{np.__version__}, torch {torch.__version__}, Python {platform.python_version()}.",
        f"- Corpus: `assets.real_corpus_sentences()`, {sentences} sentences, {words} words. "
        f"Config: {CONFIG}.",
        f"- Speed: words read per second of `train()`, best of seeds {seeds}, run alternately "
        "(ours first, then gensim first, ...). Quality: mean (± std) over the seeds, both sides "
        "scored by the same evaluator (checked equal to gensim's): questions-words analogy "
        "accuracy with restrict_vocab=30000 (3CosAdd), WordSim-353 Spearman.",
        f"- torch backend: seed {seeds[0]}, batch_size 4096, torch.set_num_threads"
        f"({args.torch_threads}) on a CPU (it is meant for a GPU; the CPU rows show quality).",
        f"- Command: `python benches/bench_word2vec.py {' '.join(sys.argv[1:])}`.",
        "",
        "| mode | trainer | words/s | gensim words/s | ratio | analogy | gensim analogy "
        "| Spearman | gensim Spearman |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    by_mode = {row[0]: row for row in table if row[1] == "rust"}
    for mode, trainer, speed, mean, spread in table:
        ref = by_mode[mode]
        g_speed, g_mean, g_spread = ref[2]["gensim"], ref[3]["gensim"], ref[4]["gensim"]
        if spread is not None:
            acc = f"{mean['ours'][0]:.4f} ± {spread['ours'][0]:.4f}"
            rho = f"{mean['ours'][1]:.4f} ± {spread['ours'][1]:.4f}"
        else:
            acc, rho = f"{mean['ours'][0]:.4f} (seed {seeds[0]})", f"{mean['ours'][1]:.4f}"
        lines.append(
            f"| {mode} | ptm_fast {trainer} | {speed['ours'] / 1e3:.0f}k | {g_speed / 1e3:.0f}k "
            f"| {speed['ours'] / g_speed:.2f}x | {acc} | {g_mean[0]:.4f} ± {g_spread[0]:.4f} "
            f"| {rho} | {g_mean[1]:.4f} ± {g_spread[1]:.4f} |"
        )
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if SECTION in text:
        start = text.index(SECTION)
        after = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[after + 1 :] if after != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, RESULTS)
    print(f"wrote the Word2Vec section of {RESULTS}")


if __name__ == "__main__":
    main()
