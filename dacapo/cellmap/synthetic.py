"""A small generated multi-class dataset in the challenge layout (for tests and examples).

Each dataset is a :func:`dacapo.utils.synthetic.make_cells` volume of separated blobs:

- ``mito`` (instance class): the blob ids;
- ``mito_mem`` (semantic): the blobs' outer three voxel layers;
- ``ecs`` (semantic): everything outside the blobs.

Written as ``<root>/<ds>/<ds>.zarr/recon-1/em/fibsem-uint8/s0,s1`` (``voxel_size`` and twice
it, block means) and, for each crop, ``.../labels/groundtruth/crop<N>/<class>/s0,s1`` (nearest
downsampling), all with OME-NGFF multiscale metadata. Crops are numbered across datasets;
``drop_class`` removes one class from every third crop so that crops annotate different
class sets, as in the challenge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from .layout import RAW_NAME, RECON, label_attrs, write_multiscale

CLASSES = ("mito", "mito_mem", "ecs")
INSTANCE = ("mito",)

__all__ = ["CLASSES", "SyntheticCrop", "write_challenge_layout"]


@dataclass(frozen=True)
class SyntheticCrop:
    dataset: str
    crop: str
    translation: tuple[int, ...]  # nm, z y x: the world position of the first voxel
    voxel_size: tuple[int, ...]
    labels: dict = field(repr=False)  # class -> numpy array at voxel_size


def _class_volumes(labels: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.ndimage import binary_erosion

    inside = labels > 0
    membrane = inside & ~binary_erosion(inside, iterations=3, border_value=1)
    return {"mito": labels, "mito_mem": membrane.astype(np.uint8), "ecs": (~inside).astype(np.uint8)}


def _block_mean(volume: np.ndarray, factor: int = 2) -> np.ndarray:
    shape = tuple(s // factor for s in volume.shape)
    trimmed = volume[tuple(slice(0, s * factor) for s in shape)].astype(np.float32)
    blocks = trimmed.reshape(sum(((s, factor) for s in shape), ()))
    return blocks.mean(axis=tuple(range(1, 2 * len(shape), 2))).round().astype(volume.dtype)


def write_challenge_layout(
    root: Union[str, Path],
    datasets: Sequence[str] = ("jrc_synth-1", "jrc_synth-2"),
    shape: Sequence[int] = (96, 96, 96),
    voxel_size: Sequence[int] = (8, 8, 8),
    crops_per_dataset: int = 3,
    crop_shape: Sequence[int] = (40, 40, 40),
    num_objects: int = 14,
    drop_class: Optional[str] = "mito_mem",
    seed: int = 0,
) -> list[SyntheticCrop]:
    """Write the layout under ``root`` (see the module doc); returns the crops written."""
    from dacapo.utils.synthetic import make_cells

    root = Path(root)
    voxel_size = tuple(int(v) for v in voxel_size)
    crop_shape = tuple(int(c) for c in crop_shape)
    if any(c > s for c, s in zip(crop_shape, shape)) or any(c % 2 for c in crop_shape):
        raise ValueError(f"crop_shape {crop_shape} must be even and fit in shape {tuple(shape)}")
    crops: list[SyntheticCrop] = []
    number = 1
    for d, dataset in enumerate(datasets):
        rng = np.random.default_rng(seed + 1000 * d)
        raw, labels = make_cells(
            shape, seed=seed + d, num_objects=num_objects, touching=False, radius=(5.0, 8.0)
        )
        container = root / dataset / f"{dataset}.zarr"
        coarse = tuple(2 * v for v in voxel_size)
        write_multiscale(
            container / RECON / RAW_NAME, [raw, _block_mean(raw)], [voxel_size, coarse], [(0,) * 3] * 2
        )
        volumes = _class_volumes(labels)
        for c in range(crops_per_dataset):
            # crop corners on a 2-voxel grid (so that s1 aligns), spread over the volume
            corner = tuple(
                int(rng.integers(0, (s - cs) // 2 + 1)) * 2 for s, cs in zip(shape, crop_shape)
            )
            box = tuple(slice(o, o + cs) for o, cs in zip(corner, crop_shape))
            translation = tuple(o * v for o, v in zip(corner, voxel_size))
            name = f"crop{number}"
            number += 1
            present = [k for k in CLASSES if not (drop_class == k and c % 3 == 2)]
            crop_labels = {}
            for k in present:
                data = volumes[k][box]
                crop_labels[k] = data
                write_multiscale(
                    container / RECON / "labels" / "groundtruth" / name / k,
                    [data, data[::2, ::2, ::2]],
                    [voxel_size, coarse],
                    [translation, translation],
                    attrs=label_attrs(k, k in INSTANCE),
                )
            crops.append(SyntheticCrop(dataset, name, translation, voxel_size, crop_labels))
    return crops
