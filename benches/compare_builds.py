"""Two ptm_fast builds side by side: did a change make the hot paths slower?

Each build is a folder holding a ``ptm_fast`` package with its compiled core
(for instance an older commit's ``python/ptm_fast`` with its
``_core.abi3.so`` copied in). Every measurement runs in a fresh worker process
importing one build; builds alternate round by round, and each worker keeps
the best of its repeats. Measured on the real corpus, one thread: WordPiece
(MiniLM vocabulary) and GPT-2 BPE batch encoding, and Word2Vec training
(skip-gram and CBOW, the settings of bench_word2vec.py, one epoch).

    python benches/compare_builds.py BEFORE_DIR AFTER_DIR [--rounds 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TASKS = (
    "wordpiece-list",
    "wordpiece-numpy",
    "bpe-list",
    "bpe-flat",
    "word2vec-sg",
    "word2vec-cbow",
)


def worker(task: str, repeats: int) -> dict:
    """Time ``task`` with the ptm_fast found on sys.path; best of ``repeats``."""
    import ptm_fast
    from ptm_fast import assets

    if task.startswith("word2vec"):
        sentences = assets.real_corpus_sentences()
        settings = dict(vector_size=100, window=5, min_count=5, negative=5, sample=1e-4,
                        epochs=1, workers=1, seed=1, sg=int(task.endswith("sg")))  # fmt: skip
        best = float("inf")
        for _ in range(repeats):
            model = ptm_fast.Word2Vec(progress=False, **settings)
            model.build_vocab(sentences)
            start = time.perf_counter()
            model.train(sentences)
            best = min(best, time.perf_counter() - start)
        words = sum(map(len, sentences))
        return {"rate": words / best / 1e6, "unit": "M words/s"}
    lines = assets.real_corpus_lines()
    megabytes = sum(len(line.encode()) for line in lines) / 1e6
    if task.startswith("wordpiece"):
        tok = ptm_fast.WordPieceTokenizer.from_pretrained(assets.minilm_dir())
        if task.endswith("list"):
            run = lambda: tok.encode_batch(lines, num_threads=1)  # noqa: E731
        else:
            run = lambda: tok.encode_batch_numpy(lines, max_length=128, num_threads=1)  # noqa: E731
    else:
        tok = ptm_fast.ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path())
        if task.endswith("list"):
            run = lambda: tok.encode_ordinary_batch(lines, num_threads=1)  # noqa: E731
        else:
            run = lambda: tok.encode_batch_flat(lines, num_threads=1)  # noqa: E731
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return {"rate": megabytes / best, "unit": "MB/s"}


def measure(build: Path, task: str, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(build)}
    command = [sys.executable, __file__, "--worker", task, "--repeats", str(repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"worker {task} on {build} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", type=Path, help="folder holding the older ptm_fast")
    parser.add_argument("after", nargs="?", type=Path, help="folder holding the newer ptm_fast")
    parser.add_argument("--rounds", type=int, default=2, help="workers per build, alternating")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per worker")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats)))
        return
    if args.before is None or args.after is None:
        parser.error("give the two build folders")
    for build in (args.before, args.after):
        if not (build / "ptm_fast" / "__init__.py").is_file():
            parser.error(f"{build} holds no ptm_fast package")
    print(f"before: {args.before}\nafter:  {args.after}")
    print(f"{'task':<16} {'before':>10} {'after':>10}  after/before")
    for task in args.tasks:
        best = {"before": 0.0, "after": 0.0}
        unit = ""
        for round_index in range(args.rounds):
            sides = [("before", args.before), ("after", args.after)]
            for side, build in sides if round_index % 2 == 0 else sides[::-1]:
                figure = measure(build, task, args.repeats)
                best[side] = max(best[side], figure["rate"])
                unit = figure["unit"]
        ratio = best["after"] / best["before"]
        print(f"{task:<16} {best['before']:>10.2f} {best['after']:>10.2f}  {ratio:.3f}  ({unit})")


if __name__ == "__main__":
    main()
