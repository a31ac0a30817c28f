"""Where and how tensors live: device choice, memory format, and the fast paths of GPUs.

3D convolutions run 1.3–2× faster with ``channels_last_3d`` on CPU (measured here on the
tutorial's UNet and smaller ones), and it is what cuDNN prefers for mixed precision, so 3D models
and their inputs use it; 2D models keep the default layout.

On CUDA, ``configure_device`` turns on TF32 matmuls/convolutions and cuDNN's autotuner (the
shapes of training and of blockwise prediction are fixed), ``autocast`` runs the model in
bfloat16 (float16 with a ``GradScaler`` where bf16 is not supported) and ``to_tensor`` copies
from pinned memory without blocking. On CPU all of these are no-ops: bf16 autocast was 2.4×
slower on the 2-core machine these defaults were measured on (no native bf16)."""

from __future__ import annotations

import contextlib
from typing import Optional

import numpy as np


def default_device(device: Optional[str] = None):
    import torch

    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def memory_format(model):
    import torch

    dims = getattr(model, "dims", None) or getattr(getattr(model, "architecture", None), "dims", None)
    return torch.channels_last_3d if dims == 3 else torch.contiguous_format


def place_model(model, device):
    """Move ``model`` to ``device`` in its preferred memory format."""
    return model.to(device=device, memory_format=memory_format(model))


def to_tensor(array: np.ndarray, device, fmt):
    """``array`` as a tensor on ``device`` in memory format ``fmt`` (5D tensors). To a GPU the
    copy goes through pinned memory and does not block: later kernels on the same stream see the
    data, and the caller may reuse ``array`` (the pinned buffer is a copy)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        tensor = torch.as_tensor(array).pin_memory().to(device, non_blocking=True)
    else:
        tensor = torch.as_tensor(array, device=device)
    if tensor.dim() == 5:
        tensor = tensor.contiguous(memory_format=fmt)
    return tensor


def configure_device(device) -> None:
    """TF32 and cuDNN autotuning on CUDA (idempotent; nothing on other devices)."""
    import torch

    if torch.device(device).type != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("high")


def autocast_dtype(device):
    """The mixed-precision dtype for ``device``: bf16 on CUDA where supported, else fp16;
    ``None`` (full precision) on CPU and other devices."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device, enabled: bool = True):
    """Context manager running the enclosed forward pass in mixed precision on CUDA (a no-op
    elsewhere, or when not ``enabled``). Compute losses on ``prediction.float()`` outside it."""
    import torch

    dtype = autocast_dtype(device)
    if dtype is None or not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device):
    """A ``GradScaler`` enabled only where autocast uses float16 (bf16 and fp32 need none);
    call ``scaler.scale(loss).backward()``, ``scaler.step(optimizer)``, ``scaler.update()``."""
    import torch

    return torch.amp.GradScaler("cuda", enabled=autocast_dtype(device) == torch.float16)
