"""Checkpoint folders: written whole or not at all, read back for an exact resume.

A checkpoint is a folder of three files, replaced as a whole through
:func:`ptm_fast._io.atomic_directory` (a crash in the middle of a save leaves
the previous checkpoint loadable and no temporary files behind):

- ``trainer_state.json``: where the run stands (step, epoch, batch, examples
  and tokens seen), its configuration and batch count, the loss history and
  the evaluations — readable with any JSON tool;
- ``model.safetensors``: the model's weights;
- ``trainer_state.pt``: optimizer, schedule and random-number states (tensors,
  read back with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ptm_fast import _io

INFO_FILE = "trainer_state.json"
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "trainer_state.pt"
FORMAT = "ptm_fast.checkpoint/1"


def save_checkpoint(
    folder: str | os.PathLike,
    info: dict[str, Any],
    weights: dict[str, torch.Tensor],
    state: dict[str, Any],
) -> None:
    """Replace ``folder`` with a checkpoint of ``info`` (JSON), ``weights`` and ``state``."""
    with _io.atomic_directory(folder) as staging:
        # Through a Python file, so that a failed write is an OSError naming the file.
        with _io.atomic_file(staging / STATE_FILE) as f:
            torch.save(state, f)
        _io.save_safetensors(weights, staging / WEIGHTS_FILE)
        text = json.dumps({"format": FORMAT, **info}, indent=1, default=_plain)
        _io.atomic_write_text(staging / INFO_FILE, text + "\n")


def read_info(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The ``trainer_state.json`` of a checkpoint folder; None when there is no checkpoint."""
    folder = Path(folder)
    path = folder / INFO_FILE
    if not path.is_file():
        if (folder / STATE_FILE).is_file() or (folder / WEIGHTS_FILE).is_file():
            raise ValueError(
                f"{folder}: a checkpoint without {INFO_FILE} (an older format, or not written "
                "by ptm_fast): remove it or choose another checkpoint_dir"
            )
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a valid checkpoint description ({err})") from None
    if not isinstance(info, dict):
        raise ValueError(
            f"{path}: holds a JSON {type(info).__name__}, not a checkpoint description"
        )
    if info.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format {info.get('format')!r}")
    for name, kind in _FIELDS.items():
        value = info.get(name)
        fits = isinstance(value, kind) and not isinstance(value, bool)
        if not fits or (kind is int and value < 0):
            raise ValueError(
                f"{path}: {name} must be {_KIND_NAMES[kind]}, got {value!r} (a damaged checkpoint?)"
            )
    return info


# What a resume reads from the description, and what each must be.
_FIELDS = {"step": int, "epoch": int, "batch_in_epoch": int, "examples_seen": int,
           "tokens_seen": int, "steps_per_epoch": int, "config": dict, "history": list,
           "evaluations": list}  # fmt: skip
_KIND_NAMES = {int: "a count >= 0", dict: "an object", list: "a list"}


def load_weights_and_state(
    folder: str | os.PathLike, device: torch.device
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The weights (on the CPU) and the optimizer/schedule/RNG state of a checkpoint folder."""
    folder = Path(folder)
    weights = _io.load_safetensors(folder / WEIGHTS_FILE)
    state = torch.load(folder / STATE_FILE, map_location=device, weights_only=True)
    return weights, state


def _plain(value: Any) -> Any:
    # numpy and torch scalars in evaluation figures
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to {INFO_FILE}")
