"""Reading and writing model weights in the formats HF checkpoints use.

``model.safetensors`` is read and written here directly (an 8-byte header
length, a JSON header, then raw little-endian tensor bytes), so ptm_fast needs
no extra package for it; ``pytorch_model.bin`` is read with
``torch.load(weights_only=True)``. Writes go to a temporary file that is then
renamed, so a crash never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import errno
import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import torch

from ptm_fast._core import MissingFileError

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


def load_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """All tensors of a ``.safetensors`` file, on the CPU."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file ({len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise ValueError(f"{path}: header length {header_len} runs past the end of the file")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: the safetensors header is not valid JSON ({err})") from None
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info.get("dtype") not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {info.get('dtype')!r}")
        start, end = info["data_offsets"]
        if not 0 <= start <= end <= len(body):
            raise ValueError(f"{path}: tensor {name!r} lies outside the file ({start}..{end})")
        dtype = _DTYPES[info["dtype"]]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=dtype) if end > start else None
        shape = tuple(info["shape"])
        tensors[name] = flat.reshape(shape) if flat is not None else torch.empty(shape, dtype=dtype)
    return tensors


def save_safetensors(
    tensors: Mapping[str, torch.Tensor], path: str | os.PathLike, metadata: dict | None = None
) -> None:
    """Write tensors as a ``.safetensors`` file, atomically."""
    header: dict = {"__metadata__": dict(metadata or {"format": "pt"})}
    chunks, offset = [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        if tensor.dtype not in _NAMES:
            raise ValueError(f"tensor {name!r} has unsupported dtype {tensor.dtype}")
        raw = tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        header[name] = {
            "dtype": _NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # keep tensor data 8-byte aligned
    atomic_write_bytes(path, [struct.pack("<Q", len(encoded)), encoded, *chunks])


def atomic_write_bytes(path: str | os.PathLike, parts) -> None:
    """Write ``parts`` (bytes) to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(partial, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, [text.encode("utf-8")])


def load_weights(model_dir: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The weights in a HF model folder: ``model.safetensors`` or ``pytorch_model.bin``."""
    model_dir = Path(model_dir)
    safetensors_path = model_dir / "model.safetensors"
    if safetensors_path.is_file():
        return load_safetensors(safetensors_path)
    bin_path = model_dir / "pytorch_model.bin"
    if bin_path.is_file():
        return torch.load(bin_path, map_location="cpu", weights_only=True)
    raise MissingFileError(
        errno.ENOENT,
        "no model.safetensors or pytorch_model.bin (is it a model folder?)",
        str(model_dir),
    )


def load_config_json(path: str | os.PathLike) -> dict:
    """A JSON config as a dict: ``path`` is the file, or a model folder holding ``config.json``."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise MissingFileError(
            errno.ENOENT, "no such config file (a model folder needs config.json)", str(path)
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None


def check_and_assign(
    module: torch.nn.Module, weights: Mapping[str, torch.Tensor], source: str
) -> tuple[list[str], list[str]]:
    """Copy ``weights`` into ``module``; returns (missing, unexpected) names.

    Every shape is checked first; a mismatch raises ValueError naming the tensor
    and both shapes, and nothing is copied.
    """
    own = module.state_dict()
    for name, tensor in weights.items():
        if name in own and tuple(own[name].shape) != tuple(tensor.shape):
            raise ValueError(
                f"{source}: tensor {name!r} has shape {tuple(tensor.shape)} in the checkpoint "
                f"but {tuple(own[name].shape)} in the model"
            )
    missing = [name for name in own if name not in weights]
    unexpected = [name for name in weights if name not in own]
    with torch.no_grad():
        for name, tensor in weights.items():
            if name in own:
                own[name].copy_(tensor.to(own[name].dtype))
    return missing, unexpected
