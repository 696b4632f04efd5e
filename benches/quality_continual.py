"""Continual fine-tuning quality on real data: one MiniLM encoder, tasks met one after another.

Two sequences (each task split 80/20 by the trainer, seeded):

- ``A``, class-incremental Split-BBC: {business, politics}, then
  {entertainment, sport, tech}; one head whose classes grow, the task not
  known when predicting. Replay keeps 50 examples per old class.
- ``B``, task-incremental: Rotten Tomatoes fresh/rotten, then the BBC topics,
  then the 2016 debates by party (training capped at --cap per task); a head
  per task. Replay keeps 1% of the sequence's training examples.

Every strategy runs on the same tasks, settings and seed; the figures come
from the accuracy matrix of each run (see ``ptm_fast.continual.scores``). The
bars the figures are held to are printed beside them.

    python benches/quality_continual.py [--sequences A B] [--strategies naive replay ...]
        [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
import warnings
from datetime import date

import numpy as np
import torch

from ptm_fast import assets
from ptm_fast.bert import Task
from ptm_fast.continual import ContinualTrainer
from ptm_fast.training import TrainingConfig

STRATEGIES = ("naive", "joint", "replay", "ewc", "lwf", "agem")


def shuffled(rows: list, seed: int) -> list:
    return [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]


def task_of(name: str, rows: list) -> Task:
    return Task(name, "sequence_classification", [t for _, t in rows], [c for c, _ in rows])


def sequence_a(seed: int) -> list[Task]:
    news = shuffled(assets.bbc_news(), seed)
    first = [r for r in news if r[0] in ("business", "politics")]
    second = [r for r in news if r[0] not in ("business", "politics")]
    return [task_of("bbc_1", first), task_of("bbc_2", second)]


def sequence_b(seed: int, cap: int) -> list[Task]:
    keep = round(cap / 0.8)  # so that the 80% trained on is at most ``cap``
    reviews = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    debates = [(row["party"], row["statement"]) for row in assets.presidential_debates()]
    return [
        task_of("sentiment", shuffled(reviews, seed)[:keep]),
        task_of("topic", shuffled(assets.bbc_news(), seed)[:keep]),
        task_of("party", shuffled(debates, seed)[:keep]),
    ]


def run(sequence: str, strategy: str, tasks: list[Task], args) -> dict:
    scenario = "class_incremental" if sequence == "A" else "task_incremental"
    epochs = args.epochs_a if sequence == "A" else args.epochs_b
    config = TrainingConfig(
        epochs=epochs, lr=args.lr, warmup_ratio=0.1, seed=args.seed, progress=False
    )
    options = {}
    if strategy in ("replay", "agem"):
        if sequence == "A":
            options["memory_size"] = 50 * tasks[0].num_labels  # 50 per old class
        else:
            trained = sum(round(0.8 * len(t.texts)) for t in tasks)
            options["memory_size"] = max(1, round(0.01 * trained))  # 1% of the sequence
    if strategy == "ewc":
        options["ewc_strength"] = args.ewc_strength
    torch.manual_seed(args.seed)
    trainer = ContinualTrainer(
        assets.minilm_dir(),
        tasks,
        strategy,
        config,
        scenario=scenario,
        batch_size=args.batch_size,
        max_length=args.max_length,
        **options,
    )
    start = time.perf_counter()
    result = trainer.train()
    wall = time.perf_counter() - start
    figures = result.to_dict()
    figures.update(sequence=sequence, wall_seconds=wall, options=options)
    return figures


def bars(runs: dict[tuple[str, str], dict]) -> list[str]:
    """Each bar of the issue with the figures it reads and whether it holds."""
    out = []

    def get(seq, strategy):
        return runs.get((seq, strategy))

    naive_a, joint_a, replay_a = get("A", "naive"), get("A", "joint"), get("A", "replay")
    if naive_a:
        drop = naive_a["forgetting"].get("bbc_1", math.nan)
        out.append(f"A: naive forgets {100 * drop:.1f} points of bbc_1 (bar: >= 20) "
                   f"-> {'met' if drop >= 0.20 else 'NOT met'}")  # fmt: skip
    if replay_a and joint_a:
        share = replay_a["average_accuracy"] / joint_a["average_accuracy"]
        out.append(f"A: replay reaches {100 * share:.1f}% of joint's average accuracy "
                   f"(bar: >= 90%) -> {'met' if share >= 0.90 else 'NOT met'}")  # fmt: skip
    if replay_a and naive_a:
        cut = 1 - replay_a["average_forgetting"] / naive_a["average_forgetting"]
        out.append(f"A: replay cuts average forgetting by {100 * cut:.1f}% against naive "
                   f"(bar: >= 60%) -> {'met' if cut >= 0.60 else 'NOT met'}")  # fmt: skip
    naive_b, joint_b, replay_b = get("B", "naive"), get("B", "joint"), get("B", "replay")
    if replay_b and joint_b:
        gap = joint_b["average_accuracy"] - replay_b["average_accuracy"]
        out.append(f"B: replay (1% memory) is {100 * gap:.1f} points below joint "
                   f"(bar: <= 3) -> {'met' if gap <= 0.03 else 'NOT met'}")  # fmt: skip
    for strategy in ("ewc", "lwf"):
        run_b = get("B", strategy)
        if run_b and naive_b:
            base = naive_b["average_forgetting"]
            cut = 1 - run_b["average_forgetting"] / base if base > 0 else math.nan
            out.append(f"B: {strategy} cuts average forgetting by {100 * cut:.1f}% against "
                       f"naive (bar: >= 25%) -> {'met' if cut >= 0.25 else 'NOT met'}")  # fmt: skip
    return out


def table(runs: dict[tuple[str, str], dict]) -> list[str]:
    lines = [
        "| sequence | strategy | average accuracy | average forgetting | backward transfer "
        "| accuracy matrix (rows: after task i) | wall time | vs naive |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (seq, strategy), fig in runs.items():
        naive = runs.get((seq, "naive"))
        ratio = f"{fig['wall_seconds'] / naive['wall_seconds']:.2f}x" if naive else ""
        matrix = " / ".join(" ".join(f"{v:.3f}" for v in row) for row in fig["matrix"])
        forgetting = fig.get("average_forgetting")
        bwt = fig.get("backward_transfer")
        lines.append(
            f"| {seq} | {strategy} | {fig['average_accuracy']:.4f} | "
            f"{'' if forgetting is None else f'{forgetting:.4f}'} | "
            f"{'' if bwt is None else f'{bwt:+.4f}'} | {matrix} | "
            f"{fig['wall_seconds']:.0f} s | {ratio} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", nargs="+", default=["A", "B"], choices=["A", "B"])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=int, default=2000, help="training examples per task in B")
    parser.add_argument("--epochs-a", type=int, default=2)
    parser.add_argument("--epochs-b", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--ewc-strength", type=float, default=100.0)
    parser.add_argument("--json", help="append each run's figures to this JSON-lines file")
    parser.add_argument("--report", help="print the table and bars of a --json file; train nothing")
    args = parser.parse_args()
    if args.report:
        with open(args.report, encoding="utf-8") as f:
            saved = [json.loads(line) for line in f if line.strip()]
        runs = {(r["sequence"], r["strategy"]): r for r in saved}  # the latest run of each
        print("\n".join(table(runs)) + "\n\n" + "\n".join(bars(runs)))
        return
    warnings.filterwarnings("ignore", message=".*checkpoint tensors not used.*")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"# continual quality, {date.today()}, {platform.node()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, seed {args.seed}", flush=True)  # fmt: skip
    runs: dict[tuple[str, str], dict] = {}
    for seq in args.sequences:
        tasks = sequence_a(args.seed) if seq == "A" else sequence_b(args.seed, args.cap)
        for strategy in args.strategies:
            print(f"\n## sequence {seq}, {strategy}", flush=True)
            figures = run(seq, strategy, tasks, args)
            runs[(seq, strategy)] = figures
            print(f"{seq} {strategy}: average accuracy {figures['average_accuracy']:.4f}, "
                  f"wall {figures['wall_seconds']:.0f} s", flush=True)  # fmt: skip
            if args.json:
                with open(args.json, "a", encoding="utf-8") as f:
                    f.write(json.dumps({**figures, "strategy": strategy}) + "\n")
    print("\n" + "\n".join(table(runs)))
    print("\n" + "\n".join(bars(runs)))


if __name__ == "__main__":
    main()
