"""Every continual-learning figure against a hand-built 3 x 3 accuracy matrix."""

import json
import math

import pytest

from ptm_fast.continual import ContinualScores

NAMES = ["a", "b", "c"]
# R[i][j]: score on task j after training task i. Chosen so every figure has
# a different value and forgetting's max is not the diagonal for task "a".
ROWS = [
    [0.80, 0.30, 0.20],
    [0.90, 0.70, 0.25],
    [0.50, 0.60, 0.75],
]
BASELINE = [0.10, 0.20, 0.15]


def test_every_figure_of_the_full_matrix():
    scores = ContinualScores.from_rows(NAMES, ROWS, BASELINE)
    assert scores.average_accuracy == pytest.approx((0.50 + 0.60 + 0.75) / 3)
    # (0.50 - 0.80) and (0.60 - 0.70), averaged
    assert scores.backward_transfer == pytest.approx(-0.20)
    # a: best before the last task is 0.90 (after b), now 0.50; b: 0.70 -> 0.60
    assert scores.forgetting == pytest.approx({"a": 0.40, "b": 0.10})
    assert scores.average_forgetting == pytest.approx(0.25)
    # b before training: 0.30 vs 0.20; c before training: 0.25 vs 0.15
    assert scores.forward_transfer == pytest.approx(0.10)


def test_figures_after_the_first_two_tasks():
    scores = ContinualScores.from_rows(NAMES, ROWS[:2], BASELINE)
    assert scores.tasks_seen == 2
    assert scores.average_accuracy == pytest.approx(0.80)
    assert scores.backward_transfer == pytest.approx(0.10)
    assert scores.forgetting == pytest.approx({"a": -0.10})
    assert scores.forward_transfer == pytest.approx(0.10)


def test_one_task_has_no_transfer_or_forgetting():
    scores = ContinualScores.from_rows(NAMES, ROWS[:1])
    assert scores.average_accuracy == pytest.approx(0.80)
    assert math.isnan(scores.backward_transfer) and math.isnan(scores.average_forgetting)
    assert math.isnan(scores.forward_transfer) and scores.forgetting == {}


def test_forward_transfer_needs_the_baseline():
    assert math.isnan(ContinualScores.from_rows(NAMES, ROWS).forward_transfer)


def test_json_and_table_carry_the_figures():
    scores = ContinualScores.from_rows(NAMES, ROWS, BASELINE)
    data = json.loads(scores.to_json())
    assert data["matrix"] == ROWS and data["task_names"] == NAMES
    assert data["average_forgetting"] == pytest.approx(0.25)
    one = json.loads(ContinualScores.from_rows(NAMES, ROWS[:1]).to_json())
    assert one["backward_transfer"] is None  # NaN is not JSON
    text = scores.table()
    assert "0.9000" in text and "average forgetting 0.2500" in text
    assert "backward transfer -0.2000" in text


@pytest.mark.parametrize(
    "names,rows,baseline,message",
    [
        ([], [], None, "at least one task"),
        (["a", "a"], [[0.1, 0.2]], None, "duplicate"),
        (NAMES, [[0.1, 0.2]], None, "expected at most 3 rows of 3"),
        (NAMES, [*ROWS, [0.1, 0.1, 0.1]], None, "at most 3 rows"),
        (NAMES, [[0.1, 1.5, 0.2]], None, r"\[0, 1\], got 1.5 at \(0, 1\)"),
        (NAMES, [[0.1, float("nan"), 0.2]], None, "got nan"),
        (NAMES, ROWS, [0.1, 0.2], "baseline: expected 3"),
    ],
)
def test_bad_matrices_are_named(names, rows, baseline, message):
    with pytest.raises(ValueError, match=message):
        ContinualScores.from_rows(names, rows, baseline)
