"""benches/report.py: ratios point the right way, and every row is written."""

import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benches"))

from report import Report, best_of_alternating


def test_ratio_above_one_means_ptm_fast_is_better(tmp_path):
    report = Report("unit", reference_name="ref", out_dir=tmp_path)
    faster = report.add("a", "throughput", "MB/s", ours=30.0, reference=10.0)
    quicker = report.add("b", "time", "s", ours=2.0, reference=5.0, higher_is_better=False)
    assert faster.ratio == 3.0
    assert quicker.ratio == 2.5


def test_table_and_files_hold_every_row(tmp_path):
    report = Report("unit", reference_name="ref", out_dir=tmp_path)
    report.add("a", "throughput", "MB/s", 30.0, 10.0, extra={"threads": 2})
    report.add("b", "time", "s", 2.0, 5.0, higher_is_better=False)
    table = report.table()
    assert "3.00x" in table and "2.50x" in table and "ref" in table
    csv_path, json_path = report.write()
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8").splitlines()))
    records = [json.loads(line) for line in json_path.read_text(encoding="utf-8").splitlines()]
    assert [r["case"] for r in rows] == ["a", "b"]
    assert records[0]["threads"] == 2 and records[1]["ratio"] == 2.5


def test_best_of_alternating_runs_each_side_and_keeps_the_minimum():
    calls = []
    ours_s, ref_s = best_of_alternating(
        lambda: calls.append("ours"), lambda: calls.append("ref"), repeats=4
    )
    assert calls == ["ours", "ref", "ref", "ours", "ours", "ref", "ref", "ours"]
    assert 0 <= ours_s < 1 and 0 <= ref_s < 1


def test_kernel_benchmark_script_runs_end_to_end_in_smoke_mode(tmp_path):
    # The GPU benchmark must not be first exercised on scarce GPU time.
    import subprocess

    script = Path(__file__).resolve().parents[1] / "benches" / "bench_kernels.py"
    results = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(script), "--smoke", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = results.read_text(encoding="utf-8")
    assert "kernels-attention" in written and "kernels-ffn" in written
    assert "d=128 causal N=48 fwd+bwd" in written


def test_bert_benchmark_shape_is_minilm_l6():
    # bench_bert.py spells the shape out so that it runs offline; it must stay MiniLM's.
    from bench_bert import MINILM_L6_SHAPE

    from ptm_fast import assets

    config = json.loads((assets.minilm_dir() / "config.json").read_text())
    for key, value in MINILM_L6_SHAPE.items():
        assert config[key] == value, key
