"""The ISBI 2012 EM segmentation stack (serial-section TEM of the Drosophila larva ventral nerve
cord): PNG sections -> a zarr container that DaCapo's array configs read.

The source directory holds ``image/N.png`` (uint8 greyscale) and ``label/N.png`` (255 = cell
interior, 0 = membrane) for sections N = 0..29, 512 x 512 pixels of 4 x 4 nm, sections 50 nm
thick. :func:`convert_isbi2012` writes, for a contiguous range of sections:

- ``raw``: uint8 (z, y, x);
- ``labels``: uint64 instance ids, the 4-connected components of the interior in each section
  (numbered consecutively through the stack; 0 = membrane);
- ``membrane``: uint8, 1 = membrane, 0 = cell interior;

each with funlib metadata: voxel size (50, 4, 4) nm and the offset of the first section
(``section * 50`` nm in z), so containers of different section ranges share one world
coordinate system. :func:`write_isbi2012_split` writes a training and a validation container
and the CSV that ``DataSplitGenerator.generate_from_csv`` reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

__all__ = [
    "ISBI_VOXEL_SIZE",
    "ISBI_NUM_SECTIONS",
    "IsbiVolume",
    "read_isbi2012",
    "section_instances",
    "convert_isbi2012",
    "write_isbi2012_split",
]

ISBI_VOXEL_SIZE = (50, 4, 4)  # nm, z y x
ISBI_NUM_SECTIONS = 30


def _section_files(source: Path, kind: str) -> dict[int, Path]:
    directory = source / kind
    if not directory.is_dir():
        raise FileNotFoundError(f"ISBI 2012: {directory} does not exist (expected {kind}/N.png)")
    files = {}
    for path in directory.iterdir():
        match = re.fullmatch(r"(\d+)\.png", path.name, flags=re.IGNORECASE)
        if match:
            files[int(match.group(1))] = path
    return files


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        data = np.asarray(image.convert("L") if image.mode not in ("L", "P") else image)
    if data.ndim != 2:
        raise ValueError(f"ISBI 2012: {path} is not a greyscale image (shape {data.shape})")
    return data.astype(np.uint8, copy=False)


def _sections(sections: Optional[Iterable[int]], available: Sequence[int]) -> list[int]:
    sections = sorted(available) if sections is None else [int(s) for s in sections]
    if not sections:
        raise ValueError("ISBI 2012: no sections selected")
    if sections != list(range(sections[0], sections[0] + len(sections))):
        raise ValueError(f"ISBI 2012: sections {sections} must be a contiguous increasing range")
    return sections


def read_isbi2012(
    source: Union[str, Path], sections: Optional[Iterable[int]] = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(raw uint8 (z, y, x), interior bool (z, y, x))`` of ``sections`` (default: all)."""
    source = Path(source).expanduser()
    images = _section_files(source, "image")
    labels = _section_files(source, "label")
    sections = _sections(sections, sorted(images))
    raws, interiors = [], []
    for s in sections:
        for kind, files in (("image", images), ("label", labels)):
            if s not in files:
                raise FileNotFoundError(f"ISBI 2012: {source / kind / f'{s}.png'} does not exist")
        raw = _read_png(images[s])
        label = _read_png(labels[s])
        if raw.shape != label.shape:
            raise ValueError(
                f"ISBI 2012: section {s}: image {raw.shape} and label {label.shape} differ in shape"
            )
        if raws and raw.shape != raws[0].shape:
            raise ValueError(f"ISBI 2012: section {s} has shape {raw.shape}, section {sections[0]} {raws[0].shape}")
        raws.append(raw)
        interiors.append(label > 127)
    return np.stack(raws), np.stack(interiors)


def section_instances(interior: np.ndarray, first_id: int = 1) -> np.ndarray:
    """uint64 instance ids: the 4-connected components of ``interior`` in each 2D section
    (axis 0), numbered consecutively from ``first_id`` through the stack; 0 elsewhere."""
    from scipy.ndimage import label

    out = np.zeros(interior.shape, dtype=np.uint64)
    next_id = int(first_id)
    for z, plane in enumerate(interior):
        components, count = label(plane)  # the default structure is 4-connected in 2D
        if count:
            out[z] = np.where(components > 0, components.astype(np.uint64) + np.uint64(next_id - 1), 0)
        next_id += count
    return out


@dataclass(frozen=True)
class IsbiVolume:
    """What :func:`convert_isbi2012` wrote (world units: nm)."""

    container: Path
    sections: tuple[int, ...]
    shape: tuple[int, ...]
    num_instances: int
    voxel_size: tuple[int, ...] = ISBI_VOXEL_SIZE
    raw_dataset: str = "raw"
    labels_dataset: str = "labels"
    membrane_dataset: str = "membrane"

    @property
    def offset(self) -> tuple[int, ...]:
        return (self.sections[0] * self.voxel_size[0], 0, 0)

    @property
    def roi(self):
        from funlib.geometry import Coordinate, Roi

        return Roi(Coordinate(self.offset), Coordinate(self.shape) * Coordinate(self.voxel_size))


def convert_isbi2012(
    source: Union[str, Path],
    output: Union[str, Path],
    sections: Optional[Iterable[int]] = None,
    chunks: Sequence[int] = (1, 256, 256),
    size: Optional[int] = None,
) -> IsbiVolume:
    """Write ``raw``, ``labels`` and ``membrane`` of ``sections`` (a contiguous range, default
    all) to the zarr container ``output`` (datasets are replaced); with ``size``, only the
    first ``size`` x ``size`` pixels of each section (quick runs)."""
    from .synthetic import write_array

    source = Path(source).expanduser()
    output = Path(output).expanduser()
    available = sorted(_section_files(source, "image"))
    sections = _sections(sections, available)
    raw, interior = read_isbi2012(source, sections)
    if size is not None:
        raw, interior = raw[:, :size, :size], interior[:, :size, :size]
    labels = section_instances(interior)
    membrane = (~interior).astype(np.uint8)
    offset = (sections[0] * ISBI_VOXEL_SIZE[0], 0, 0)
    attrs = {"isbi2012": {"sections": sections, "source": str(source)}}
    chunks = tuple(int(c) for c in chunks)
    write_array(output, "raw", raw, ISBI_VOXEL_SIZE, offset, chunks=chunks, attrs=attrs, n5=False)
    write_array(output, "labels", labels, ISBI_VOXEL_SIZE, offset, chunks=chunks, attrs=attrs, n5=False)
    write_array(output, "membrane", membrane, ISBI_VOXEL_SIZE, offset, chunks=chunks, attrs=attrs, n5=False)
    return IsbiVolume(
        container=output,
        sections=tuple(sections),
        shape=tuple(raw.shape),
        num_instances=int(labels.max()),
    )


def write_isbi2012_split(
    source: Union[str, Path],
    output_dir: Union[str, Path],
    train_sections: Iterable[int] = range(0, 20),
    validate_sections: Iterable[int] = range(20, 30),
    gt_dataset: str = "labels",
) -> tuple[IsbiVolume, IsbiVolume, Path]:
    """Convert the training and validation sections to ``isbi2012_train.zarr`` and
    ``isbi2012_validate.zarr`` in ``output_dir`` and write ``isbi2012.csv`` (rows for
    ``DataSplitGenerator.generate_from_csv``, containers relative to the CSV). Returns
    ``(train volume, validation volume, csv path)``."""
    output_dir = Path(output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    train = convert_isbi2012(source, output_dir / "isbi2012_train.zarr", train_sections)
    validate = convert_isbi2012(source, output_dir / "isbi2012_validate.zarr", validate_sections)
    csv_path = output_dir / "isbi2012.csv"
    rows = [
        f"train,{train.container.name},{train.raw_dataset},{train.container.name},{gt_dataset}",
        f"val,{validate.container.name},{validate.raw_dataset},{validate.container.name},{gt_dataset}",
    ]
    csv_path.write_text("\n".join(rows) + "\n")
    return train, validate, csv_path
