"""``ptm bert multitask``: tasks from tables, the per-task table each epoch, the saved model."""

import csv
import subprocess
import sys

from multitask_fixtures import sentiment_rows, tag_task, tiny_folder, topic_rows

from ptm_fast.bert import MultiTaskModel


def ptm(*args):
    return subprocess.run(
        [sys.executable, "-m", "ptm_fast", *map(str, args)], capture_output=True, text=True
    )


def write_table(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_multitask_trains_prints_each_epoch_and_saves(tmp_path):
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    reviews = write_table(
        tmp_path / "reviews.csv", ["text", "label"], zip(*sentiment_rows(40, 0), strict=True)
    )
    topics = write_table(
        tmp_path / "topics.csv", ["body", "topic"], zip(*topic_rows(40, 1), strict=True)
    )
    tags = tag_task(40)
    tagged = write_table(
        tmp_path / "tags.csv",
        ["words", "tags"],
        [(" ".join(w), " ".join(t)) for w, t in zip(tags.words, tags.labels, strict=True)],
    )
    done = ptm(
        "bert", "multitask", "--model", folder,
        "--task", f"reviews={reviews}:text:label",
        "--task", f"topics={topics}:body:topic",
        "--task", f"tags={tagged}:words:tags:token_classification",
        "--sampler", "temperature:2", "--epochs", "2", "--batch-size", "4", "--lr", "1e-3",
        "--output", tmp_path / "joint",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "task tags: 40 examples, token_classification, 3 label(s)" in out
    assert out.count("macro_average") >= 3  # a table each epoch, and the kept one
    assert "epoch 1" in out and "epoch 2" in out and "kept epoch" in out
    for name in ("reviews", "topics", "tags"):
        assert f"\n  {name} " in out
    model = MultiTaskModel.from_pretrained(tmp_path / "joint")
    assert sorted(model.task_heads) == ["reviews", "tags", "topics"]
    assert model.task_heads["tags"].kind == "token_classification"
    assert (tmp_path / "joint" / "vocab.txt").is_file()


def test_multitask_errors_are_one_clear_line(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    reviews = write_table(
        tmp_path / "reviews.csv", ["text", "label"], zip(*sentiment_rows(40, 0), strict=True)
    )
    cases = [
        (["--task", "reviews"], "expected NAME=FILE:TEXT_COL:LABEL_COL"),
        (["--task", f"r={tmp_path / 'no.csv'}:text:label"], "no.csv"),
        (["--task", f"r={reviews}:text:stars"], "no column 'stars'"),
        (["--task", f"r={reviews}:text:label", "--sampler", "temperature:0"], "above 0"),
        (["--task", f"r={reviews}:text:label", "--sampler", "softmax"], "expected proportional"),
        (["--task", f"r={reviews}:text:label", "--loss-weight", "x=1"], "name no task"),
        (
            ["--task", f"r={reviews}:text:label", "--task", f"r={reviews}:text:label"],
            "two tasks are named 'r'",
        ),
    ]
    for extra, message in cases:
        done = ptm("bert", "multitask", "--model", folder, *extra)
        assert done.returncode == 1, (extra, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (extra, done.stderr)


def test_multitask_help_has_an_example():
    done = ptm("bert", "multitask", "--help")
    assert done.returncode == 0 and "example: ptm bert multitask" in done.stdout
