"""Synthetic microscopy-like volumes for tests, examples and benchmarks.

- :func:`make_cells` returns ``(raw uint8, labels uint64)``: touching or separated blob/cell
  shapes with instance labels and a learnable raw signal (objects brighter than the
  background, a dark membrane on every object boundary, noise, blur).
- :func:`write_array` / :func:`write_cells` write arrays into zarr or N5 containers with the voxel
  size and offset metadata that ``ZarrArrayConfig`` reads.
- :func:`write_tutorial_layout` writes an N5 container laid out like the data of the seed tutorial
  (``volumes/raw/s1`` at 8 nm, ``volumes/groundtruth/cropN/labels/all`` at 4 nm holding CellMap
  class ids, 47/48 = peroxisome membrane/lumen, 3/4 = mitochondria membrane/lumen, 0 =
  background), so that the tutorial's datasplit code runs against it unchanged.

Everything is deterministic given ``seed``. 256³ voxels take about 1.5 s on 2 cores.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = [
    "CropSpec",
    "SyntheticData",
    "TutorialLayout",
    "make_cells",
    "write_array",
    "write_cells",
    "write_tutorial_layout",
    "PEROXISOME_IDS",
    "MITO_IDS",
]

PEROXISOME_IDS = (47, 48)  # membrane, lumen (CellMap class ids)
MITO_IDS = (3, 4)  # membrane, lumen


# --- objects ------------------------------------------------------------------------------------
@dataclass
class _Blob:
    center: np.ndarray  # voxels
    radii: np.ndarray  # voxels, per axis
    amplitudes: np.ndarray  # (ndim,) boundary wobble, relative
    frequencies: np.ndarray  # (ndim,) radians per unit of normalised distance
    phases: np.ndarray  # (ndim,)

    @property
    def extent(self) -> np.ndarray:
        return self.radii * (1.0 + float(np.abs(self.amplitudes).sum()))


def _random_blob(rng: np.random.Generator, center, radius: float, ndim: int, elongation: float):
    radii = radius * np.exp(rng.uniform(-elongation, elongation, ndim))
    radii *= radius / np.exp(np.log(radii).mean())  # keep the mean radius
    return _Blob(
        center=np.asarray(center, dtype=np.float64),
        radii=radii,
        amplitudes=rng.uniform(0.02, 0.06, ndim),
        frequencies=rng.uniform(2.0, 5.0, ndim),
        phases=rng.uniform(0, 2 * np.pi, ndim),
    )


def _place_blobs(
    shape: Sequence[int],
    rng: np.random.Generator,
    num: int,
    radius_range: tuple[float, float],
    touching: bool,
    elongation: float = 0.2,
    region: Optional[tuple[Sequence[float], Sequence[float]]] = None,
    existing: Sequence[_Blob] = (),
    gap: float = 2.0,
) -> list[_Blob]:
    """``num`` blobs with centres in ``region`` (default: the volume); separated blobs keep
    ``gap`` voxels between their bounding spheres (fewer are placed if they do not fit)."""
    ndim = len(shape)
    low = np.zeros(ndim) if region is None else np.asarray(region[0], dtype=float)
    high = np.asarray(shape, dtype=float) if region is None else np.asarray(region[1], dtype=float)
    blobs: list[_Blob] = []
    centers = np.zeros((len(existing) + num, ndim))
    reaches = np.zeros(len(existing) + num)
    for i, b in enumerate(existing):
        centers[i] = b.center
        reaches[i] = b.extent.max()
    count = len(existing)
    attempts = 0
    while len(blobs) < num and attempts < 30 * max(num, 1):
        attempts += 1
        radius = rng.uniform(*radius_range)
        center = rng.uniform(low, high)
        blob = _random_blob(rng, center, radius, ndim, elongation)
        reach = float(blob.extent.max())
        if not touching and count:
            distances = np.sqrt(((centers[:count] - blob.center) ** 2).sum(axis=1))
            if (distances < reaches[:count] + (reach + gap)).any():
                continue
        blobs.append(blob)
        centers[count] = blob.center
        reaches[count] = reach
        count += 1
    return blobs


def _rasterize(shape: Sequence[int], blobs: Sequence[_Blob], first_id: int = 1):
    """Label volume (uint32; blob i gets ``first_id + i``). Overlapping blobs split their overlap
    by normalised distance to their centres, so touching blobs share a clean boundary."""
    shape = tuple(int(s) for s in shape)
    labels = np.zeros(shape, dtype=np.uint32)
    best = np.full(shape, 1.0, dtype=np.float32)  # normalised squared distance of the owner
    ndim = len(shape)
    for index, blob in enumerate(blobs):
        extent = blob.extent
        lo = np.maximum(np.floor(blob.center - extent).astype(int), 0)
        hi = np.minimum(np.ceil(blob.center + extent).astype(int) + 1, shape)
        if np.any(hi <= lo):
            continue
        squares, wobbles = [], []
        for d in range(ndim):
            g = (np.arange(lo[d], hi[d], dtype=np.float32) - np.float32(blob.center[d])) / np.float32(
                blob.radii[d]
            )
            view = [1] * ndim
            view[d] = -1
            squares.append((g * g).reshape(view))
            # a separable wobble of the boundary: bumps along each axis
            w = np.float32(blob.amplitudes[d]) * np.cos(
                np.float32(blob.frequencies[d]) * g + np.float32(blob.phases[d])
            )
            wobbles.append(w.reshape(view))
        rho2 = squares[0]
        for sq in squares[1:]:
            rho2 = rho2 + sq
        scale = np.float32(1.0) + wobbles[0]
        for w in wobbles[1:]:
            scale = scale + w
        dist2 = rho2 / (scale * scale)
        region = tuple(slice(a, b) for a, b in zip(lo, hi))
        sub_best = best[region]
        inside = dist2 < sub_best
        np.copyto(sub_best, dist2, where=inside)
        np.copyto(labels[region], np.uint32(first_id + index), where=inside)
    return labels


def _boundaries(labels: np.ndarray) -> np.ndarray:
    """Voxels with a face neighbour of another label (both sides of every boundary)."""
    boundary = np.zeros(labels.shape, dtype=bool)
    for axis in range(labels.ndim):
        lo = [slice(None)] * labels.ndim
        hi = [slice(None)] * labels.ndim
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        diff = labels[tuple(lo)] != labels[tuple(hi)]
        boundary[tuple(lo)] |= diff
        boundary[tuple(hi)] |= diff
    return boundary


def _dilate_within(mask: np.ndarray, within: np.ndarray, steps: int) -> np.ndarray:
    for _ in range(steps):
        grown = mask.copy()
        for axis in range(mask.ndim):
            lo = [slice(None)] * mask.ndim
            hi = [slice(None)] * mask.ndim
            lo[axis] = slice(None, -1)
            hi[axis] = slice(1, None)
            grown[tuple(lo)] |= mask[tuple(hi)]
            grown[tuple(hi)] |= mask[tuple(lo)]
        mask = grown & within
    return mask


def _blur(volume: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return volume
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(volume, sigma, truncate=2.0)


def _render(
    labels: np.ndarray,
    membrane: np.ndarray,
    intensity: np.ndarray,
    rng: np.random.Generator,
    noise: float,
    blur: float,
    membrane_intensity: float = 35.0,
    downsample: int = 1,
) -> np.ndarray:
    """uint8 raw: per-label intensity (lookup table ``intensity``), dark membranes, blur,
    optional block-mean downsampling, then noise."""
    raw = intensity.astype(np.float32)[labels]
    np.copyto(raw, np.float32(membrane_intensity), where=membrane)
    raw = _blur(raw, blur)
    if downsample > 1:
        f = downsample
        shape = []
        for s in raw.shape:
            shape += [s // f, f]
        raw = raw[tuple(slice(0, (s // f) * f) for s in raw.shape)]
        raw = raw.reshape(shape).mean(axis=tuple(range(1, 2 * labels.ndim, 2)), dtype=np.float32)
    if noise > 0:
        raw += rng.standard_normal(raw.shape, dtype=np.float32) * np.float32(noise)
    np.clip(raw, 0, 255, out=raw)
    return raw.astype(np.uint8)


def _relabel_consecutive(labels: np.ndarray) -> np.ndarray:
    counts = np.bincount(labels.ravel())
    present = np.flatnonzero(counts)
    present = present[present > 0]
    lut = np.zeros(counts.size, dtype=np.uint64)
    lut[present] = np.arange(1, present.size + 1, dtype=np.uint64)
    return lut[labels]


def make_cells(
    shape: Sequence[int] = (64, 64, 64),
    seed: int = 0,
    num_objects: int = 20,
    *,
    radius: Optional[Union[float, tuple[float, float]]] = None,
    touching: bool = True,
    elongation: float = 0.2,
    background: float = 80.0,
    foreground: tuple[float, float] = (150.0, 210.0),
    membrane: float = 30.0,
    noise: float = 8.0,
    blur: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random blob/cell shapes and a matching raw image (2D or 3D).

    Args:
        shape: the volume shape in voxels.
        seed: random seed; the same arguments give the same volumes.
        num_objects: how many objects to place (separated objects: fewer if they do not fit).
        radius: mean object radius in voxels, or a (min, max) range; default: from the volume
            per object (large enough for touching objects to share faces).
        touching: True: objects overlap and share boundaries (cells); False: objects keep a gap
            of a few voxels (blobs in background).
        elongation: log-scale spread of the per-axis radii (0: spheres).
        background, foreground, membrane: intensities of the background, of object interiors
            (one value per object, drawn from the range) and of boundaries.
        noise: standard deviation of the Gaussian noise added after blurring.
        blur: sigma of the Gaussian blur, in voxels.

    Returns:
        ``(raw, labels)``: uint8 raw and uint64 instance labels (0 = background, objects
        numbered 1..n consecutively).
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(seed)
    per_object = float(np.prod(shape)) / max(num_objects, 1)
    if radius is None:
        mean = (0.62 if touching else 0.38) * per_object ** (1.0 / len(shape))
        radius = (0.8 * mean, 1.2 * mean)
    elif not isinstance(radius, (tuple, list)):
        radius = (0.85 * float(radius), 1.15 * float(radius))
    blobs = _place_blobs(shape, rng, num_objects, tuple(radius), touching, elongation)
    labels = _rasterize(shape, blobs)
    boundary = _boundaries(labels)
    intensity = np.concatenate(
        [[background], rng.uniform(foreground[0], foreground[1], len(blobs))]
    ).astype(np.float32)
    raw = _render(labels, boundary, intensity, rng, noise, blur, membrane_intensity=membrane)
    return raw, _relabel_consecutive(labels)


# --- writers ------------------------------------------------------------------------------------
def _is_n5(path: Path) -> bool:
    return path.suffix.lower() == ".n5"


def _open_root(path: Path, n5: bool):
    import zarr

    if n5:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            store = zarr.N5Store(str(path))
    else:
        store = zarr.DirectoryStore(str(path))
    return zarr.open_group(store, mode="a")


def write_array(
    container: Union[str, Path],
    dataset: str,
    data: np.ndarray,
    voxel_size: Sequence[int],
    offset: Optional[Sequence[int]] = None,
    *,
    chunks: Optional[Union[int, Sequence[int]]] = 64,
    attrs: Optional[dict[str, Any]] = None,
    axis_names: Optional[Sequence[str]] = None,
    units: str = "nm",
    n5: Optional[bool] = None,
) -> str:
    """Write ``data`` to ``container/dataset`` (replacing it) with world metadata.

    N5 containers (``.n5`` suffix or ``n5=True``) get ``resolution`` and ``offset`` in x, y, z
    order, as the CellMap/N5 tools write them; zarr containers get funlib's ``voxel_size``,
    ``offset``, ``axis_names``, ``units`` and ``types`` in z, y, x order. ``offset`` is in world
    units (default 0). Leading non-spatial axes are channels. Returns the dataset path."""
    container = Path(container)
    n5 = _is_n5(container) if n5 is None else n5
    voxel_size = [int(v) for v in voxel_size]
    spatial = len(voxel_size)
    offset = [0] * spatial if offset is None else [int(o) for o in offset]
    channels = data.ndim - spatial
    if channels < 0 or len(offset) != spatial:
        raise ValueError(
            f"voxel_size {voxel_size} / offset {offset} do not match data of shape {data.shape}"
        )
    if isinstance(chunks, int):
        chunks = tuple(data.shape[:channels]) + (chunks,) * spatial
    chunks = None if chunks is None else tuple(min(c, s) for c, s in zip(chunks, data.shape))
    root = _open_root(container, n5)
    dataset = "/".join(p for p in dataset.split("/") if p)
    array = root.create_dataset(dataset, data=data, chunks=chunks, overwrite=True)
    if n5:
        meta: dict[str, Any] = {
            "resolution": voxel_size[::-1],
            "offset": offset[::-1],
            "units": [units] * spatial,
        }
    else:
        names = list(axis_names) if axis_names is not None else (
            (["c^"] if channels == 1 else [f"c{i}^" for i in range(channels)])
            + ["z", "y", "x"][-spatial:]
            if spatial <= 3
            else None
        )
        meta = {
            "voxel_size": voxel_size,
            "offset": offset,
            "units": [units] * spatial,
        }
        if names is not None:
            meta["axis_names"] = names
            meta["types"] = ["channel" if n.endswith("^") else "space" for n in names]
    meta.update(attrs or {})
    array.attrs.update(meta)
    return dataset


@dataclass(frozen=True)
class SyntheticData:
    """What :func:`write_cells` wrote (``raw``/``labels`` are the numpy ground truth)."""

    container: Path
    raw_dataset: str
    labels_dataset: str
    voxel_size: tuple[int, ...]
    offset: tuple[int, ...]
    raw: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    @property
    def roi(self):
        from funlib.geometry import Coordinate, Roi

        return Roi(Coordinate(self.offset), Coordinate(self.raw.shape) * Coordinate(self.voxel_size))


def write_cells(
    container: Union[str, Path],
    shape: Sequence[int] = (64, 64, 64),
    *,
    voxel_size: Sequence[int] = (8, 8, 8),
    offset: Optional[Sequence[int]] = None,
    seed: int = 0,
    num_objects: int = 20,
    raw_dataset: str = "raw",
    labels_dataset: str = "labels",
    chunks: Union[int, Sequence[int]] = 32,
    **make_cells_kwargs: Any,
) -> SyntheticData:
    """:func:`make_cells` written to a zarr or N5 (``.n5``) container."""
    raw, labels = make_cells(shape, seed=seed, num_objects=num_objects, **make_cells_kwargs)
    offset = tuple(0 for _ in voxel_size) if offset is None else tuple(int(o) for o in offset)
    write_array(container, raw_dataset, raw, voxel_size, offset, chunks=chunks)
    write_array(container, labels_dataset, labels, voxel_size, offset, chunks=chunks)
    return SyntheticData(
        container=Path(container),
        raw_dataset=raw_dataset,
        labels_dataset=labels_dataset,
        voxel_size=tuple(int(v) for v in voxel_size),
        offset=offset,
        raw=raw,
        labels=labels,
    )


# --- the tutorial layout ------------------------------------------------------------------------
@dataclass(frozen=True)
class CropSpec:
    """A ground-truth crop. ``offset`` in nm (a multiple of 16, inside the raw ROI snapped to
    16 nm); ``shape`` in 4 nm voxels (multiples of 4); ``annotated``: the class ids the crop
    annotates (written as ``cellmap.annotation.class_ids_annotated``; default: all of
    3, 4, 47, 48). Offset/shape None: placed automatically."""

    id: int
    offset: Optional[tuple[int, ...]] = None
    shape: Optional[tuple[int, ...]] = None
    annotated: Optional[tuple[int, ...]] = None


@dataclass(frozen=True)
class TutorialLayout:
    """Paths and geometry written by :func:`write_tutorial_layout`.

    ``gt_datasets[crop]`` is spelled like the tutorial: ``volumes/groundtruth/crop124/labels//all``.
    ``labels[crop]`` is the numpy ground truth of each crop (4 nm class ids)."""

    raw_container: Path
    gt_container: Path
    raw_dataset: str
    gt_datasets: dict[int, str]
    raw_roi: Any
    crop_rois: dict[int, Any]
    raw_voxel_size: tuple[int, ...] = (8, 8, 8)
    gt_voxel_size: tuple[int, ...] = (4, 4, 4)
    raw: Optional[np.ndarray] = field(default=None, repr=False)
    labels: dict[int, np.ndarray] = field(default_factory=dict, repr=False)


ALL_CLASS_IDS = (MITO_IDS[0], MITO_IDS[1], PEROXISOME_IDS[0], PEROXISOME_IDS[1])


def write_tutorial_layout(
    path: Union[str, Path],
    raw_shape: Sequence[int] = (96, 96, 96),
    crops: Sequence[Union[int, CropSpec]] = (124, 125, 145),
    *,
    seed: int = 0,
    raw_offset: Sequence[int] = (8, 16, 24),
    gt_path: Optional[Union[str, Path]] = None,
    num_mito: Optional[int] = None,
    num_peroxisomes: Optional[int] = None,
    chunks: int = 64,
    noise: float = 6.0,
) -> TutorialLayout:
    """Write an N5 container like the tutorial's ``jrc_mus-liver.n5``.

    - ``volumes/raw/s1``: uint8, ``raw_shape`` voxels of 8 nm at ``raw_offset`` (nm, multiples
      of 8; the default is deliberately off the 16 nm grid so that ``snap_to_grid`` matters).
    - ``volumes/groundtruth/crop<N>/labels/all``: uint64 CellMap class ids at 4 nm (0
      background, 3/4 mitochondria membrane/lumen, 47/48 peroxisome membrane/lumen), crops on
      the 16 nm grid inside the raw ROI, each holding at least two peroxisomes, with
      ``cellmap.annotation.class_ids_annotated`` attributes. Both come from one 4 nm rendering,
      so raw and labels agree.

    ``gt_path``: write the ground truth to a second container (the tutorial reads raw and gt
    from different files). Returns a :class:`TutorialLayout`.
    """
    from funlib.geometry import Coordinate, Roi

    raw_container = Path(path)
    gt_container = Path(gt_path) if gt_path is not None else raw_container
    raw_shape = Coordinate(int(s) for s in raw_shape)
    raw_offset = Coordinate(int(o) for o in raw_offset)
    ndim = len(raw_shape)
    if any(o % 8 for o in raw_offset):
        raise ValueError(f"raw_offset {tuple(raw_offset)} must be a multiple of 8 nm")
    rng = np.random.default_rng(seed)
    raw_roi = Roi(raw_offset, raw_shape * 8)
    snapped = raw_roi.snap_to_grid((16,) * ndim, mode="shrink")
    fine_shape = tuple(int(s) * 2 for s in raw_shape)  # the 4 nm grid over the raw ROI

    # crops (world nm), on the 16 nm grid inside the snapped raw ROI
    specs = [c if isinstance(c, CropSpec) else CropSpec(int(c)) for c in crops]
    crop_rois: dict[int, Roi] = {}
    for spec in specs:
        if spec.shape is not None:
            shape_nm = Coordinate(int(s) * 4 for s in spec.shape)
        else:
            shape_nm = Coordinate(max(64, (int(s) // 2) // 16 * 16) for s in snapped.shape)
            shape_nm = Coordinate(min(a, b) for a, b in zip(shape_nm, snapped.shape))
        if spec.offset is not None:
            offset_nm = Coordinate(int(o) for o in spec.offset)
        else:
            slack = (snapped.shape - shape_nm) // 16
            offset_nm = snapped.begin + Coordinate(
                int(rng.integers(0, s + 1)) * 16 for s in slack
            )
        roi = Roi(offset_nm, shape_nm)
        if any(v % 16 for v in (*roi.begin, *roi.shape)) or not snapped.contains(roi):
            raise ValueError(
                f"crop {spec.id}: roi {roi} must lie on the 16 nm grid inside the raw roi {snapped}"
            )
        crop_rois[spec.id] = roi

    # objects on the 4 nm grid: mitochondria-like blobs, and peroxisomes (two in each crop)
    volume = float(np.prod(fine_shape))
    # about 15 % of the volume mitochondria, 1 % peroxisomes
    if num_mito is None:
        num_mito = max(2, int(0.15 * volume / 60000))
    if num_peroxisomes is None:
        num_peroxisomes = max(2, int(0.02 * volume / 10000))
    perox_radius = (10.0, 16.0)
    blobs: list[_Blob] = []
    for roi in crop_rois.values():
        lo = np.asarray(roi.begin - raw_offset, dtype=float) / 4 + 8
        hi = np.asarray(roi.end - raw_offset, dtype=float) / 4 - 8
        if all(h > l for l, h in zip(lo, hi)):
            blobs += _place_blobs(
                fine_shape, rng, 2, perox_radius, False, 0.15, (lo, hi), existing=blobs, gap=4
            )
    blobs += _place_blobs(
        fine_shape, rng, num_peroxisomes, perox_radius, False, 0.15, existing=blobs, gap=4
    )
    num_perox = len(blobs)
    blobs += _place_blobs(fine_shape, rng, num_mito, (18.0, 30.0), False, 0.35, existing=blobs, gap=4)
    instances = _rasterize(fine_shape, blobs)
    inside = instances > 0
    boundary = _boundaries(instances)
    membrane = _dilate_within(boundary & inside, inside, 1)  # 2 voxels (8 nm) thick
    is_perox = np.zeros(len(blobs) + 1, dtype=bool)
    is_perox[1 : num_perox + 1] = True
    lumen_lut = np.where(is_perox, PEROXISOME_IDS[1], MITO_IDS[1]).astype(np.uint64)
    membrane_lut = np.where(is_perox, PEROXISOME_IDS[0], MITO_IDS[0]).astype(np.uint64)
    lumen_lut[0] = membrane_lut[0] = 0
    classes = np.where(membrane, membrane_lut[instances], lumen_lut[instances])

    intensity = np.where(is_perox, 205.0, 150.0) + rng.uniform(-10, 10, len(blobs) + 1)
    intensity[0] = 105.0
    raw = _render(
        instances,
        boundary | membrane,
        intensity.astype(np.float32),
        rng,
        noise,
        blur=1.0,
        downsample=2,
    )
    write_array(raw_container, "volumes/raw/s1", raw, (8,) * ndim, raw_offset, chunks=chunks, n5=True)

    gt_datasets: dict[int, str] = {}
    labels: dict[int, np.ndarray] = {}
    for spec in specs:
        roi = crop_rois[spec.id]
        begin = (roi.begin - raw_offset) / 4
        end = (roi.end - raw_offset) / 4
        crop = np.ascontiguousarray(classes[tuple(slice(b, e) for b, e in zip(begin, end))])
        annotated = list(spec.annotated) if spec.annotated is not None else list(ALL_CLASS_IDS)
        write_array(
            gt_container,
            f"volumes/groundtruth/crop{spec.id}/labels/all",
            crop,
            (4,) * ndim,
            roi.begin,
            chunks=chunks,
            n5=True,
            attrs={"cellmap": {"annotation": {"class_ids_annotated": annotated}}},
        )
        gt_datasets[spec.id] = f"volumes/groundtruth/crop{spec.id}/labels//all"
        labels[spec.id] = crop
    return TutorialLayout(
        raw_container=raw_container,
        gt_container=gt_container,
        raw_dataset="volumes/raw/s1",
        gt_datasets=gt_datasets,
        raw_roi=raw_roi,
        crop_rois=crop_rois,
        raw=raw,
        labels=labels,
    )
