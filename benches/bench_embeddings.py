"""Sentence embeddings: ptm_fast's BertModel.encode vs sentence-transformers' encode.

The real all-MiniLM-L6-v2 folder and real sentences (Rotten Tomatoes reviews
and snippets), the same batch size, each side in its own worker process,
workers alternating; the best of the repeats is kept. A worker warms up on
its first 64 sentences only, so the timed pass still meets each batch shape
for the first time, as a user's one call does. Each worker also writes its
embeddings, and the table says how far apart the two sides' vectors are.
``benches/bench_bert.py`` runs this comparison too, after the training step.

    python benches/bench_embeddings.py [--sentences 2000] [--batch 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from report import Report, run_worker


def worker(side: str, count: int, batch: int, repeats: int, out: str) -> None:
    from ptm_fast import assets

    sentences = [text for _, text in assets.rotten_tomatoes()][:count]
    folder = assets.minilm_dir()
    if side == "ptm_fast":
        from ptm_fast.bert import BertModel

        model = BertModel.from_pretrained(folder)
        encode = lambda: model.encode(sentences, batch_size=batch)  # noqa: E731
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(folder), device="cpu")
        encode = lambda: model.encode(sentences, batch_size=batch)  # noqa: E731
    model.encode(sentences[:64], batch_size=batch)  # warm-up: lazy imports, first allocations
    best, embeddings = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        embeddings = encode()
        best = min(best, time.perf_counter() - start)
    np.save(out, np.asarray(embeddings, dtype=np.float32))
    print(json.dumps({"seconds": best, "sentences": len(sentences)}))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per worker")
    parser.add_argument("--rounds", type=int, default=2, help="workers per side, alternating")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sentences, args.batch, args.repeats, args.out)
        return
    compare(args)


def compare(args: argparse.Namespace) -> None:
    """Both sides' encode, alternating workers; prints and writes the table."""
    sides = ["ptm_fast", "sentence-transformers"]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {side: str(Path(tmp) / f"{side}.npy") for side in sides}
        for round_index in range(args.rounds):
            for side in sides[:: 1 if round_index % 2 == 0 else -1]:
                sizes = ["--sentences", str(args.sentences), "--batch", str(args.batch),
                         "--repeats", str(args.repeats), "--out", outs[side]]  # fmt: skip
                runs[side].append(run_worker(__file__, [side, *sizes]))
        gap = float(
            np.abs(np.load(outs["ptm_fast"]) - np.load(outs["sentence-transformers"])).max()
        )
    best = {side: min(r, key=lambda x: x["seconds"]) for side, r in runs.items()}
    ours, theirs = best["ptm_fast"], best["sentence-transformers"]
    report = Report("sentence-embeddings", reference_name="sentence-transformers")
    case = f"all-MiniLM-L6-v2, {ours['sentences']} real sentences, batch {args.batch}, CPU"
    report.add(case, "speed", "sentences/s", ours["sentences"] / ours["seconds"],
               theirs["sentences"] / theirs["seconds"])  # fmt: skip
    print(f"largest difference between the two sides' vectors: {gap:.2e}")
    report.finish()


if __name__ == "__main__":
    main()
