"""Reading ``torch.save`` files (checkpoints, starts, pretrained weights) without running code.

Every load is ``weights_only=True``: a pickle that names any global beyond tensors, containers
and the few numpy types of the numpy RNG state is refused, so a crafted checkpoint planted in a
shared runs directory, a copied run or a start cannot execute anything."""

from __future__ import annotations

import pickle
import zipfile
from typing import Any


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message is one line naming the file."""


class DamagedCheckpoint(CheckpointError):
    """Truncated, corrupt or not a ``torch.save`` file (a resume falls back past it)."""


class RefusedCheckpoint(CheckpointError):
    """It names globals beyond weights and training state: maybe crafted to run code."""


def _rng_globals() -> list:
    """What ``numpy.random.get_state()`` pickles to: an ndarray of uint32."""
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    allowed = [_reconstruct, np.ndarray, np.dtype]
    uint32_dtype = getattr(getattr(np, "dtypes", None), "UInt32DType", None)
    if uint32_dtype is not None:
        allowed.append(uint32_dtype)
    return allowed


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    for line in text.splitlines():
        if "Unsupported global" in line:  # torch's long weights_only message: keep what it names
            return line.strip().split(" was not", 1)[0].replace("WeightsUnpickler error: ", "")
    return text.splitlines()[0].split(". ")[0] if text else type(error).__name__


def _is_zip(file: Any) -> bool:
    try:
        return zipfile.is_zipfile(file)
    except OSError:
        return False


def load_checkpoint(file: Any, map_location: Any = "cpu", mmap: bool = False, name: Any = None) -> Any:
    """``torch.load(file, weights_only=True)``; a ``CheckpointError`` naming the file (``name``
    for a file object) when it is damaged or holds anything but weights and training state."""
    import torch

    name = name if name is not None else file
    if mmap and not _is_zip(file):  # torch's own error would blame the torch.save options
        raise DamagedCheckpoint(f"{name} is damaged or not a checkpoint (not a complete torch.save archive)")
    try:
        with torch.serialization.safe_globals(_rng_globals()):
            return torch.load(file, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as error:
        if "Unsupported global" in str(error) or "weights_only" in str(error).lower():
            raise RefusedCheckpoint(
                f"refused to load {name}: it holds code or objects other than weights "
                f"({_first_line(error)}); checkpoints are loaded with weights_only=True"
            ) from None
        raise DamagedCheckpoint(f"{name} is damaged: {_first_line(error)}") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, AttributeError) as error:
        raise DamagedCheckpoint(f"{name} is damaged or not a checkpoint: {_first_line(error)}") from None
    except IsADirectoryError:
        raise DamagedCheckpoint(f"{name} is a directory, not a checkpoint") from None

