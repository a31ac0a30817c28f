"""Writing predictions in the challenge's submission layout, and zipping them.

One zarr (v2) holding, per test crop, one array per class::

    submission.zarr/<crop>/<label>    attrs: voxel_size, translation (nm, z y x), shape

Instance classes hold instance ids (uint64; the evaluator relabels connected components, so a
binary mask works too), semantic classes a uint8 0/1 mask. Arrays need not be on the
ground-truth grid: the evaluator resamples them (see :mod:`dacapo.cellmap.evaluate`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from dacapo.config import ConfigError

__all__ = ["write_submission", "zip_submission", "crop_of_array"]

LabelArray = tuple  # (numpy array, voxel size, translation)


def write_submission(
    path: Union[str, Path],
    predictions: Mapping[str, Mapping[str, LabelArray]],
    instance_classes: Sequence[str] = (),
    chunks: int = 64,
) -> Path:
    """Write ``predictions[crop][label] = (array, voxel_size, translation)`` to the zarr
    ``path``, replacing it atomically (written next to it, then renamed)."""
    import zarr

    path = Path(path).expanduser()
    if not predictions:
        raise ConfigError(f"cellmap submit: no predictions to write to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        root = zarr.open_group(str(tmp), mode="w")
        for crop, labels in predictions.items():
            group = root.require_group(crop)
            for label, (data, voxel_size, translation) in labels.items():
                data = np.asarray(data)
                if len(voxel_size) != data.ndim or len(translation) != data.ndim:
                    raise ConfigError(
                        f"cellmap submit: {crop}/{label}: voxel_size={list(voxel_size)} / "
                        f"translation={list(translation)} do not match an array of shape {data.shape}"
                    )
                if label in instance_classes:
                    data = data.astype(np.uint64)
                else:
                    data = (data > 0).astype(np.uint8)
                array = group.create_dataset(
                    label, data=data, chunks=tuple(min(chunks, s) for s in data.shape), overwrite=True
                )
                array.attrs.update(
                    voxel_size=[float(v) for v in voxel_size],
                    translation=[float(t) for t in translation],
                    shape=list(data.shape),
                )
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def zip_submission(zarr_path: Union[str, Path], zip_path: Union[str, Path, None] = None) -> Path:
    """Zip the submission zarr (its contents at the top level of the archive, like the
    toolkit's ``pack-results``); written atomically. Default: ``<zarr without suffix>.zip``."""
    zarr_path = Path(zarr_path).expanduser()
    if not (zarr_path / ".zgroup").is_file():
        raise ConfigError(f"cellmap submit: zarr_path={zarr_path} is not a zarr group")
    zip_path = Path(zip_path) if zip_path is not None else zarr_path.with_suffix(".zip")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=zip_path.parent, prefix=f".{zip_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for file in sorted(zarr_path.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(zarr_path).as_posix())
        os.replace(tmp, zip_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return zip_path


def crop_of_array(array, roi) -> LabelArray:
    """``(data, voxel_size, translation)`` of a funlib ``Array`` inside ``roi`` (snapped
    outward to its voxel grid, clipped to the array); leading channel axes are kept."""
    roi = roi.snap_to_grid(array.voxel_size, mode="grow").intersect(array.roi)
    if roi.empty:
        raise ConfigError(f"cellmap submit: roi {roi} does not overlap the array's roi {array.roi}")
    return (
        np.asarray(array[roi]),
        tuple(int(v) for v in array.voxel_size),
        tuple(int(o) for o in roi.offset),
    )
