"""File I/O shared by every family: atomic writes of files and folders, and model weights.

- :func:`atomic_file` / :func:`atomic_write_bytes` / :func:`atomic_write_text`: a file
  appears whole or not at all (temporary file, fsync, rename).
- :func:`atomic_directory`: a multi-file save (model, tokenizer, checkpoint folder)
  replaces the old folder as a whole, or leaves it as it was.
- ``model.safetensors`` is read and written here directly (an 8-byte header
  length, a JSON header, then raw little-endian tensor bytes), so ptm_fast needs
  no extra package for it; ``pytorch_model.bin`` is read with
  ``torch.load(weights_only=True)``.

torch is imported only by the functions that handle tensors, so the tokenizers
and Word2Vec use this module without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import glob
import json
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ptm_fast._core import MissingFileError

if TYPE_CHECKING:
    import torch

# safetensors dtype names; torch dtypes are looked up when a tensor is read or written.
_DTYPE_NAMES = ("F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL")
_TORCH_NAMES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                "uint8", "bool")  # fmt: skip


@functools.cache
def _torch_dtypes() -> dict[str, torch.dtype]:
    import torch

    return {name: getattr(torch, t) for name, t in zip(_DTYPE_NAMES, _TORCH_NAMES, strict=True)}


def load_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """All tensors of a ``.safetensors`` file, on the CPU."""
    import torch

    dtypes = _torch_dtypes()
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
    if not isinstance(header, dict):
        raise ValueError(
            f"{path}: the safetensors header is a {type(header).__name__}, not an object"
        )
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype_name, shape, (start, end) = _tensor_entry(path, name, info)
        dtype = dtypes[dtype_name]
        if not 0 <= start <= end <= len(body):
            raise ValueError(f"{path}: tensor {name!r} lies outside the file ({start}..{end})")
        expected = math.prod(shape) * dtype.itemsize
        if end - start != expected:
            raise ValueError(
                f"{path}: tensor {name!r} of shape {shape} and dtype {dtype_name} needs "
                f"{expected} bytes, the header gives it {end - start}"
            )
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=dtype) if end > start else None
        tensors[name] = flat.reshape(shape) if flat is not None else torch.empty(shape, dtype=dtype)
    return tensors


# Larger than any real dimension, small enough that torch takes it.
_MAX_DIMENSION = 2**40


def _tensor_entry(path: Path, name: str, info) -> tuple[str, tuple[int, ...], tuple[int, int]]:
    """A header entry's (dtype, shape, offsets), each checked for its type and range."""

    def count(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    problem = None
    if not isinstance(info, dict):
        problem = f"is described by a {type(info).__name__}, not an object"
    elif info.get("dtype") not in _DTYPE_NAMES:
        problem = f"has unsupported dtype {info.get('dtype')!r}"
    elif not isinstance(info.get("shape"), list) or not all(
        count(n) and n <= _MAX_DIMENSION for n in info["shape"]
    ):
        problem = f"has an invalid shape {info.get('shape')!r} (a list of sizes expected)"
    elif not (
        isinstance(info.get("data_offsets"), list)
        and len(info["data_offsets"]) == 2
        and all(count(n) for n in info["data_offsets"])
    ):
        problem = f"has invalid data_offsets {info.get('data_offsets')!r} (two offsets expected)"
    if problem:
        raise ValueError(f"{path}: tensor {name!r} {problem}")
    return info["dtype"], tuple(info["shape"]), tuple(info["data_offsets"])


def save_safetensors(
    tensors: Mapping[str, torch.Tensor], path: str | os.PathLike, metadata: dict | None = None
) -> None:
    """Write tensors as a ``.safetensors`` file, atomically."""
    import torch

    names = {dtype: name for name, dtype in _torch_dtypes().items()}
    header: dict = {"__metadata__": dict(metadata or {"format": "pt"})}
    chunks, offset = [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        if tensor.dtype not in names:
            raise ValueError(f"tensor {name!r} has unsupported dtype {tensor.dtype}")
        raw = tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        header[name] = {
            "dtype": names[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # keep tensor data 8-byte aligned
    atomic_write_bytes(path, [struct.pack("<Q", len(encoded)), encoded, *chunks])


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it is synced and renamed over ``path``.

    On any exception (or a crash) ``path`` keeps its old contents and the
    temporary file is removed. This is the one place ptm_fast writes a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    partial = Path(name)
    try:
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else "\n"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except OSError as err:
        if err.filename is None:  # a failed write names no file: name the one being saved
            raise OSError(err.errno, f"cannot write ({err.strerror})", str(path)) from None
        raise
    finally:
        partial.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, parts) -> None:
    """Write ``parts`` (bytes) to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, "wb") as f:
        for part in parts:
            f.write(part)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_file`)."""
    atomic_write_bytes(path, [text.encode("utf-8")])


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Stage a folder's new files; on success they replace ``path``'s as a whole.

    Yields an empty staging folder beside ``path``; write the new files there.
    When the block ends without an exception, the files of the old folder that
    the block did not write are linked in too (so saving a tokenizer into a
    model's folder keeps the model), and the staging folder takes the place of
    ``path`` in one rename (an atomic exchange where the OS has one). On an
    exception ``path`` is untouched and nothing temporary is left behind; a
    crash leaves the old folder whole, and the next save clears its leftovers.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "cannot save a folder over a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(path)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}{_STAGING}"))
    try:
        yield staging
        if path.is_dir():
            _link_untouched(path, staging)
        _sync_tree(staging)
        _replace_directory(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_TEMP_SUFFIX = ".ptm-partial"
_STAGING = ".ptm-staging-"
_RENAME_EXCHANGE = 2  # renameat2 flag: swap two paths in one step (Linux >= 3.15)


def _clear_leftovers(path: Path) -> None:
    """Remove the staging folders a crashed save of ``path`` left beside it."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}{_STAGING}*"):
        shutil.rmtree(stale, ignore_errors=True)


def _link_untouched(old: Path, staging: Path) -> None:
    for entry in old.iterdir():
        target = staging / entry.name
        if target.exists() or entry.name.endswith(_TEMP_SUFFIX):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(source, target) -> None:
    # A hard link costs nothing and the saver never writes into an old inode:
    # every file is written fresh through atomic_file or into the empty staging folder.
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _sync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)


def _replace_directory(staging: Path, path: Path) -> None:
    """Put ``staging`` at ``path``; afterwards ``staging`` holds the old folder, if any."""
    if not path.exists():
        os.rename(staging, path)
        return
    if _exchange(staging, path):
        return
    # No atomic exchange here: move the old folder aside, then the new one in.
    aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}{_STAGING}old-"))
    os.rmdir(aside)
    os.rename(path, aside)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(aside, path)
        raise
    os.rename(aside, staging)


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def load_weights(model_dir: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The weights in a HF model folder: ``model.safetensors`` or ``pytorch_model.bin``."""
    model_dir = Path(model_dir)
    safetensors_path = model_dir / "model.safetensors"
    if safetensors_path.is_file():
        return load_safetensors(safetensors_path)
    bin_path = model_dir / "pytorch_model.bin"
    if bin_path.is_file():
        import torch

        try:
            weights = torch.load(bin_path, map_location="cpu", weights_only=True)
        except Exception as err:  # pickle, zip and torch errors alike: name the file
            raise ValueError(f"{bin_path}: not a readable PyTorch checkpoint ({err})") from None
        if not isinstance(weights, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
        ):
            raise ValueError(f"{bin_path}: holds a {type(weights).__name__}, not tensors by name")
        return weights
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
        config = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: byte {err.start} is not valid UTF-8") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: holds a JSON {type(config).__name__}, not an object of settings")
    return config


def check_and_assign(
    module: torch.nn.Module, weights: Mapping[str, torch.Tensor], source: str
) -> tuple[list[str], list[str]]:
    """Copy ``weights`` into ``module``; returns (missing, unexpected) names.

    Every shape is checked first; a mismatch raises ValueError naming the tensor
    and both shapes, and nothing is copied.
    """
    import torch

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
