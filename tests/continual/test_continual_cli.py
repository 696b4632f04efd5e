"""``ptm bert continual``: tasks from tables in order, the matrix after each, the saved run."""

import csv
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bert"))
from multitask_fixtures import sentiment_rows, tiny_folder, topic_rows


def ptm(*args):
    return subprocess.run(
        [sys.executable, "-m", "ptm_fast", *map(str, args)], capture_output=True, text=True
    )


def tables(tmp_path):
    paths = []
    for name, rows in (("reviews", sentiment_rows(60, 0)), ("topics", topic_rows(60, 1))):
        path = tmp_path / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["text", "label"])
            writer.writerows(zip(*rows, strict=True))
        paths.append(f"{name}={path}:text:label")
    return paths


def test_continual_trains_in_order_prints_the_matrix_and_saves(tmp_path):
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    reviews, topics = tables(tmp_path)
    done = ptm(
        "bert", "continual", "--model", folder, "--task", reviews, "--task", topics,
        "--strategy", "replay", "--memory", "20", "--scenario", "class_incremental",
        "--epochs", "2", "--batch-size", "8", "--lr", "3e-3", "--max-length", "16",
        "--output", tmp_path / "run",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "after task 1/2 (reviews)" in out and "after task 2/2 (topics)" in out
    assert "average forgetting" in out and "saved the model" in out
    saved = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert saved["strategy"] == "replay" and saved["scenario"] == "class_incremental"
    assert len(saved["matrix"]) == 2 and saved["task_names"] == ["reviews", "topics"]
    assert (tmp_path / "run" / "scores.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "run" / "model" / "heads.safetensors").is_file()


def test_continual_errors_name_the_problem(tmp_path):
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    reviews, _ = tables(tmp_path)
    done = ptm("bert", "continual", "--model", folder, "--task", reviews, "--strategy", "replay")
    assert done.returncode == 1 and "memory_size" in done.stderr
    done = ptm("bert", "continual", "--model", folder, "--task", reviews, "--strategy", "si")
    assert done.returncode == 2 and "invalid choice: 'si'" in done.stderr
    help_text = ptm("bert", "continual", "--help").stdout
    assert "example: ptm bert continual" in help_text
