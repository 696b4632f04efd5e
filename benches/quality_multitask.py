"""Multi-task fine-tuning quality on real data: one MiniLM encoder, four tasks.

The tasks (each split 80/20, seeded; training capped at --cap examples):

- ``sentiment``: Rotten Tomatoes snippets, fresh vs rotten;
- ``topic``: BBC news, 5 topics;
- ``party``: the 2016 US presidential debates, each statement by party
  (Democratic, Republican, Moderator);
- ``plot``: Rotten Tomatoes plot summaries vs reviews.

Three comparisons, every one at an equal step budget (each training example
seen --epochs times):

1. four single-task models, one per task;
2. one joint model on all four (proportional sampling, the same steps in all);
3. transfer: with 10% of the debates' training labels, the raw pretrained
   encoder against an encoder first trained jointly on the other three tasks.

    python benches/quality_multitask.py [--seeds 0 1 2] [--results benches/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import warnings
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ptm_fast import assets
from ptm_fast.bert import Task, finetune_multitask
from ptm_fast.tokenizers import WordPieceTokenizer
from ptm_fast.training import TrainingConfig, proportional

TASKS = ("sentiment", "topic", "party", "plot")


def real_tasks(cap: int, seed: int) -> dict[str, tuple[Task, Task]]:
    """(training task, held-out task) by name, from the real data, split 80/20 with ``seed``."""
    rng = np.random.default_rng(seed)
    reviews = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    plots = [("plot", t) for c, t in assets.rotten_tomatoes() if c == "plot"]
    order = rng.permutation(len(reviews))
    # The sentiment task and the plot task's reviews are disjoint draws of the reviews.
    sentiment = [reviews[i] for i in order[: round(cap / 0.8)]]
    other_reviews = [("review", reviews[i][1]) for i in order[round(cap / 0.8) :]]
    total = round(cap / 0.8)
    plots = plots[: total // 2]  # at least half reviews
    plot_vs_review = plots + other_reviews[: total - len(plots)]
    debates = [(row["party"], row["statement"]) for row in assets.presidential_debates()]
    sources = {
        "sentiment": sentiment,
        "topic": assets.bbc_news(),
        "party": debates,
        "plot": plot_vs_review,
    }
    out = {}
    for name in TASKS:
        rows = sources[name]
        rows = [rows[i] for i in rng.permutation(len(rows))]
        held = round(0.2 * len(rows))
        valid, train = rows[:held], rows[held:][:cap]
        out[name] = tuple(
            Task(name, "sequence_classification", [t for _, t in part], [c for c, _ in part])
            for part in (train, valid)
        )
    return out


def subsample(task: Task, fraction: float, seed: int) -> Task:
    """A seeded ``fraction`` of a task's examples, each class kept."""
    rng = np.random.default_rng([seed, 10])
    keep = rng.permutation(len(task.texts))[
        : max(task.num_labels * 4, round(fraction * len(task.texts)))
    ]
    keep = sorted(keep.tolist())
    return Task(
        task.name,
        task.kind,
        [task.texts[i] for i in keep],
        [task.labels[i] for i in keep],
        num_labels=task.num_labels,
    )


def run(model_dir, tasks, valid, args, seed, epochs=None, batch_size=None, lr=None):
    config = TrainingConfig(
        epochs=epochs or args.epochs, lr=lr or args.lr, warmup_ratio=0.1, seed=seed,
        progress=False,
    )  # fmt: skip
    torch.manual_seed(seed)
    return finetune_multitask(
        model_dir,
        tasks,
        config=config,
        batch_size=batch_size or args.batch_size,
        sampler=proportional(),
        max_length=args.max_length,
        eval_tasks=valid,
    )


def accuracy_of(result, name: str) -> float:
    return result.evaluations[-1][f"{name}/accuracy"]


def one_seed(args, seed: int) -> dict[str, float]:
    data = real_tasks(args.cap, seed)
    minilm = assets.minilm_dir()
    figures: dict[str, float] = {}
    if not args.transfer_only:
        single_and_joint(args, seed, data, minilm, figures)
    transfer(args, seed, data, minilm, figures)
    return figures


def single_and_joint(args, seed: int, data, minilm, figures: dict[str, float]) -> None:
    for name in TASKS:
        train, valid = data[name]
        result = run(minilm, [train], [valid], args, seed)
        figures[f"single/{name}"] = accuracy_of(result, name)
        figures[f"single/{name}/seconds"] = result.seconds
        figures[f"single/{name}/steps"] = result.steps
        print(f"seed {seed} single {name}: {figures[f'single/{name}']:.4f} "
              f"({result.steps} steps, {result.seconds:.0f} s)", flush=True)  # fmt: skip
    joint = run(minilm, [data[n][0] for n in TASKS], [data[n][1] for n in TASKS], args, seed)
    for name in TASKS:
        figures[f"joint/{name}"] = accuracy_of(joint, name)
    figures["joint/seconds"], figures["joint/steps"] = joint.seconds, joint.steps
    print(f"seed {seed} joint: " + ", ".join(f"{n} {figures[f'joint/{n}']:.4f}" for n in TASKS)
          + f" ({joint.steps} steps, {joint.seconds:.0f} s)", flush=True)  # fmt: skip


def three_task_encoder(args, seed: int, data, minilm, folder: Path) -> float:
    """Train the encoder on the three other tasks into ``folder``; its wall time.

    With --three-dir the folder is kept, and one a run of this seed left there is reused
    (its training time read back), since it takes most of the transfer's time.
    """
    timing = folder / "three_seconds.json"
    if timing.is_file():
        return json.loads(timing.read_text())["seconds"]
    others = [n for n in TASKS if n != "party"]
    three = run(minilm, [data[n][0] for n in others], [data[n][1] for n in others], args, seed)
    three.model.bert.save_pretrained(folder)
    WordPieceTokenizer.from_pretrained(minilm).save_pretrained(folder)
    timing.write_text(json.dumps({"seconds": three.seconds}))
    return three.seconds


def transfer(args, seed: int, data, minilm, figures: dict[str, float]) -> None:
    few = subsample(data["party"][0], args.transfer_fraction, seed)
    figures["transfer/examples"] = len(few.texts)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.three_dir) / f"seed-{seed}" if args.three_dir else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        figures["transfer/three_seconds"] = three_task_encoder(args, seed, data, minilm, folder)
        for label, start in (("raw", minilm), ("three", folder)):
            batch = min(16, len(few.texts))
            result = run(start, [few], [data["party"][1]], args, seed,
                         epochs=args.transfer_epochs, batch_size=batch,
                         lr=args.transfer_lr)  # fmt: skip
            figures[f"transfer/{label}"] = accuracy_of(result, "party")
            figures[f"transfer/{label}/seconds"] = result.seconds
    print(f"seed {seed} transfer ({len(few.texts)} debate labels): raw "
          f"{figures['transfer/raw']:.4f}, after the other three {figures['transfer/three']:.4f}",
          flush=True)  # fmt: skip


def _mean(all_figures: list[dict[str, float]], key: str) -> float:
    return float(np.mean([f[key] for f in all_figures]))


def _spread(all_figures: list[dict[str, float]], key: str) -> str:
    """The mean over seeds, with the standard deviation when there are several."""
    values = [f[key] for f in all_figures]
    text = f"{np.mean(values):.4f}"
    return text if len(values) == 1 else f"{text} ± {np.std(values):.4f}"


def table(all_figures: list[dict[str, float]], args, sizes: dict[str, tuple[int, int]]) -> str:
    mean, spread = partial(_mean, all_figures), partial(_spread, all_figures)

    seeds = ", ".join(str(s) for s in args.seeds)
    lines = [
        f"## Multi-task fine-tuning ({date.today()}, {platform.machine()}, "
        f"{torch.get_num_threads()} threads, seeds {seeds})",
        "",
        "all-MiniLM-L6-v2, held-out accuracy after the last epoch (80/20 seeded splits, "
        f"training capped at {args.cap} per task), {args.epochs} epoch(s), "
        f"batch {args.batch_size}, lr {args.lr}, "
        f"max_length {args.max_length}; the joint model draws tasks in proportion to their "
        "sizes, so it takes the same steps as the four single-task models together.",
        "",
        "| task | train / held out | single-task | joint | joint - single |",
        "|---|---|---|---|---|",
    ]
    for name in TASKS:
        single, joint = mean(f"single/{name}"), mean(f"joint/{name}")
        n_train, n_valid = sizes[name]
        lines.append(
            f"| {name} | {n_train} / {n_valid} | {spread(f'single/{name}')} "
            f"| {spread(f'joint/{name}')} | {100 * (joint - single):+.1f} pts |"
        )
    single_macro = np.mean([mean(f"single/{n}") for n in TASKS])
    joint_macro = np.mean([mean(f"joint/{n}") for n in TASKS])
    single_seconds = sum(mean(f"single/{n}/seconds") for n in TASKS)
    single_steps = sum(mean(f"single/{n}/steps") for n in TASKS)
    lines += [
        f"| **macro average** | | {single_macro:.4f} | {joint_macro:.4f} "
        f"| {100 * (joint_macro - single_macro):+.1f} pts |",
        "",
        f"Steps and wall time: four single-task models {single_steps:.0f} steps, "
        f"{single_seconds / 60:.1f} min together; joint {mean('joint/steps'):.0f} steps, "
        f"{mean('joint/seconds') / 60:.1f} min (evaluations included).",
        "",
        transfer_table(all_figures, args),
    ]
    return "\n".join(lines)


def transfer_table(all_figures: list[dict[str, float]], args) -> str:
    mean, spread = partial(_mean, all_figures), partial(_spread, all_figures)

    lr = args.transfer_lr or args.lr
    lines = [
        f"Transfer to the debates with {mean('transfer/examples'):.0f} training labels "
        f"({100 * args.transfer_fraction:.0f}%), {args.transfer_epochs} epochs, batch 16, lr {lr}, "
        "held-out accuracy on the same debates split:",
        "",
        "| start | party accuracy | wall time |",
        "|---|---|---|",
        f"| raw pretrained MiniLM | {spread('transfer/raw')} "
        f"| {mean('transfer/raw/seconds'):.0f} s |",
        f"| after joint training on sentiment, topic, plot "
        f"({mean('transfer/three_seconds') / 60:.1f} min) | {spread('transfer/three')} "
        f"| {mean('transfer/three/seconds'):.0f} s |",
        "",
        f"Transfer gain: {100 * (mean('transfer/three') - mean('transfer/raw')):+.1f} pts.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--cap", type=int, default=2000, help="training examples per task")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--transfer-fraction", type=float, default=0.1)
    parser.add_argument("--transfer-epochs", type=int, default=8)
    parser.add_argument("--transfer-lr", type=float, default=None, help="default: --lr")
    parser.add_argument(
        "--transfer-only",
        action="store_true",
        help="only the transfer comparison (no single-task or joint table)",
    )
    parser.add_argument("--three-dir", help="keep (and reuse) the three-task encoder here")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--results", type=Path, default=None, help="append the table here")
    parser.add_argument("--figures", type=Path, default=None,
                        help="JSON lines: each seed's figures are appended here as it ends, "
                             "and seeds already there are not run again")  # fmt: skip
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    done = {}
    if args.figures and args.figures.is_file():
        for line in args.figures.read_text().splitlines():
            entry = json.loads(line)
            done[entry["seed"]] = entry["figures"]
    all_figures = []
    for seed in args.seeds:
        if seed not in done:
            done[seed] = one_seed(args, seed)
            if args.figures:
                with args.figures.open("a") as out:
                    out.write(json.dumps({"seed": seed, "figures": done[seed]}) + "\n")
        all_figures.append(done[seed])
    data = real_tasks(args.cap, args.seeds[0])
    sizes = {n: (len(data[n][0].texts), len(data[n][1].texts)) for n in TASKS}
    text = (
        transfer_table(all_figures, args) if args.transfer_only
        else table(all_figures, args, sizes)
    )  # fmt: skip
    text += f"\nWhole run: {(time.perf_counter() - start) / 60:.1f} min.\n"
    print(text)
    if args.results:
        with args.results.open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
