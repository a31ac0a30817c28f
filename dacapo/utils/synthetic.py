"""Synthetic microscopy-like volumes for tests, examples and benchmarks.

- :func:`make_cells` returns ``(raw uint8, labels uint64)``: touching or separated blob/cell
  shapes with instance labels and a learnable raw signal (objects brighter than the
  background, a dark membrane on every object boundary, noise, blur).
- :func:`noisy_affinities` returns float32 affinities of instance labels, blurred and noisy: a
  stand-in for a trained model's prediction when testing post-processing.
- :func:`write_array` / :func:`write_cells` write arrays into zarr or N5 containers with the voxel
  size and offset metadata that ``ZarrArrayConfig`` reads.
- :func:`write_tutorial_layout` writes an N5 container laid out like the data of the seed tutorial
  (``volumes/raw/s1`` at 16 nm, ``volumes/groundtruth/cropN/labels/all`` at 4 nm holding CellMap
  class ids, 47/48 = peroxisome membrane/lumen, 3/4 = mitochondria membrane/lumen, 0 =
  background), so that the tutorial's datasplit, architecture and trainer run against it
  unchanged. Its objects are rendered once at 8 nm: raw is the block mean, the crop labels the
  nearest-neighbour upsampling inside each crop.

Everything is deterministic given ``seed``. :func:`make_cells` of 256³ voxels and the default
:func:`write_tutorial_layout` take about 1.5 s each on 2 cores.
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
    "noisy_affinities",
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
def noisy_affinities(labels: np.ndarray, neighborhood, *, seed: int = 0, blur: float = 1.0,
                     noise: float = 0.15) -> np.ndarray:
    """float32 ``(len(neighborhood), *labels.shape)`` in [0, 1]: the affinities of ``labels``
    (1 inside one object, 0 across boundaries and on background) blurred with ``blur`` (sigma,
    voxels, per channel) plus Gaussian noise of standard deviation ``noise``."""
    from dacapo.experiments.tasks._affinities import affinities

    rng = np.random.default_rng(seed)
    affs, _ = affinities(labels, neighborhood)
    out = np.stack([_blur(a.astype(np.float32), blur) for a in affs])
    out += rng.normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


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
GT_VOXEL_SIZE = 4  # nm, the CellMap crops
CROP_GRID = 16  # nm, the tutorial's snap_to_grid
#: crop shape (4 nm voxels) used when a :class:`CropSpec` gives none: 640 x 704 x 768 nm, more
#: than the tutorial's training output (68³ voxels of 8 nm = 544 nm) and less than its validation
#: output (212³ voxels of 8 nm = 1696 nm); clipped to the raw roi.
DEFAULT_CROP_SHAPE = (160, 176, 192)

# grey values of the rendering (uint8)
_BACKGROUND = 105
_MEMBRANE = 35
_CRISTAE = 80
_MITO_MATRIX = (150.0, 170.0)
_PEROXISOME = (195.0, 215.0)
# sizes in nm
_PEROXISOME_RADIUS = (80.0, 140.0)
_MITO_RADIUS = (150.0, 300.0)
_CRISTAE_PERIOD = (60.0, 90.0)
_GAP = 16.0
# codes of the class rendering -> CellMap class ids
_CLASS_IDS = np.array([0, MITO_IDS[0], MITO_IDS[1], PEROXISOME_IDS[0], PEROXISOME_IDS[1]], np.uint64)
_MITO_CODES = (1, 2)  # membrane, lumen
_PEROXISOME_CODES = (3, 4)


@dataclass(frozen=True)
class CropSpec:
    """A ground-truth crop. ``offset`` in nm (a multiple of 16, inside the raw ROI snapped to
    16 nm); ``shape`` in 4 nm voxels (multiples of 4); ``annotated``: the class ids the crop
    annotates (written as ``cellmap.annotation.class_ids_annotated``; default: all of
    3, 4, 47, 48). Offset None: placed automatically (avoiding the other crops where they fit);
    shape None: :data:`DEFAULT_CROP_SHAPE` clipped to the raw ROI."""

    id: int
    offset: Optional[tuple[int, ...]] = None
    shape: Optional[tuple[int, ...]] = None
    annotated: Optional[tuple[int, ...]] = None


@dataclass(frozen=True)
class TutorialLayout:
    """Paths and geometry written by :func:`write_tutorial_layout`.

    ``gt_datasets[crop]`` is spelled like the tutorial: ``volumes/groundtruth/crop124/labels//all``.
    ``raw`` is the raw array as written (``raw_voxel_size``); ``labels[crop]`` is the numpy ground
    truth of each crop (4 nm class ids). ``render_voxel_size``: the grid the objects were
    rendered on (raw is its block mean, the labels its nearest-neighbour upsampling)."""

    raw_container: Path
    gt_container: Path
    raw_dataset: str
    gt_datasets: dict[int, str]
    raw_roi: Any
    crop_rois: dict[int, Any]
    raw_voxel_size: tuple[int, ...] = (16, 16, 16)
    gt_voxel_size: tuple[int, ...] = (4, 4, 4)
    render_voxel_size: tuple[int, ...] = (8, 8, 8)
    raw: Optional[np.ndarray] = field(default=None, repr=False)
    labels: dict[int, np.ndarray] = field(default_factory=dict, repr=False)


ALL_CLASS_IDS = (MITO_IDS[0], MITO_IDS[1], PEROXISOME_IDS[0], PEROXISOME_IDS[1])


def _blob_box(shape: Sequence[int], blob: _Blob):
    """``(region, dist2, coords)`` of ``blob`` in a volume of ``shape``: its bounding box
    (clipped), the normalised squared distance (< 1 inside, as in :func:`_rasterize`) and the
    per-axis voxel coordinates relative to the centre (broadcastable); None if outside."""
    ndim = len(shape)
    extent = blob.extent
    lo = np.maximum(np.floor(blob.center - extent).astype(int), 0)
    hi = np.minimum(np.ceil(blob.center + extent).astype(int) + 1, shape)
    if np.any(hi <= lo):
        return None
    rho2 = None
    scale = np.float32(1.0)
    coords = []
    for d in range(ndim):
        x = np.arange(lo[d], hi[d], dtype=np.float32) - np.float32(blob.center[d])
        g = x / np.float32(blob.radii[d])
        view = [1] * ndim
        view[d] = -1
        coords.append(x.reshape(view))
        sq = (g * g).reshape(view)
        rho2 = sq if rho2 is None else rho2 + sq
        wobble = np.float32(blob.amplitudes[d]) * np.cos(
            np.float32(blob.frequencies[d]) * g + np.float32(blob.phases[d])
        )
        scale = scale + wobble.reshape(view)
    region = tuple(slice(a, b) for a, b in zip(lo, hi))
    return region, rho2 / (scale * scale), coords


def _render_organelles(
    shape: Sequence[int],
    blobs: Sequence[_Blob],
    is_perox: Sequence[bool],
    voxel_size: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``(grey, codes)``, both uint8 of ``shape``: the grey-value rendering (background, dark
    one-voxel membranes, bright uniform peroxisomes, mitochondria with dark cristae bands across
    their long axis) and the class codes (see ``_CLASS_IDS``). Blobs must not overlap."""
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    grey = np.full(shape, _BACKGROUND, dtype=np.uint8)
    codes = np.zeros(shape, dtype=np.uint8)
    for blob, perox in zip(blobs, is_perox):
        box = _blob_box(shape, blob)
        if box is None:
            continue
        region, dist2, coords = box
        inside = dist2 < 1
        lumen = inside.copy()  # eroded by one voxel (face neighbours); cut faces stay lumen
        for axis in range(ndim):
            lo = [slice(None)] * ndim
            hi = [slice(None)] * ndim
            lo[axis] = slice(None, -1)
            hi[axis] = slice(1, None)
            lumen[tuple(lo)] &= inside[tuple(hi)]
            lumen[tuple(hi)] &= inside[tuple(lo)]
        membrane = inside ^ lumen
        if perox:
            fill: Any = np.uint8(round(rng.uniform(*_PEROXISOME)))
            membrane_code, lumen_code = _PEROXISOME_CODES
        else:
            matrix = np.uint8(round(rng.uniform(*_MITO_MATRIX)))
            period = rng.uniform(*_CRISTAE_PERIOD) / voxel_size
            phase = rng.uniform(0, 2 * np.pi)
            along = coords[int(np.argmax(blob.radii))]
            bands = np.cos(np.float32(2 * np.pi / period) * along + np.float32(phase)) > 0.5
            fill = np.where(bands, np.uint8(_CRISTAE), matrix)
            membrane_code, lumen_code = _MITO_CODES
        grey_box = grey[region]
        codes_box = codes[region]
        np.copyto(grey_box, fill, where=lumen)
        np.copyto(grey_box, np.uint8(_MEMBRANE), where=membrane)
        np.copyto(codes_box, np.uint8(lumen_code), where=lumen)
        np.copyto(codes_box, np.uint8(membrane_code), where=membrane)
    return grey, codes


def _block_mean(volume: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """float32 mean over blocks of ``factors`` voxels (the shape must be divisible)."""
    count = int(np.prod(factors))
    dtype = np.uint16 if 255 * count < 2**16 else np.uint32
    out: np.ndarray = volume
    for axis, f in enumerate(factors):
        if f == 1:
            continue
        index = [slice(None)] * volume.ndim
        index[axis] = slice(0, None, f)
        acc = out[tuple(index)].astype(dtype)
        for k in range(1, f):
            index[axis] = slice(k, None, f)
            acc += out[tuple(index)]
        out = acc
    return out.astype(np.float32) * np.float32(1.0 / count)


def _upsample(volume: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Nearest-neighbour upsampling by integer ``factors`` (a new contiguous array)."""
    if all(f == 1 for f in factors):
        return np.ascontiguousarray(volume)
    expanded = volume.reshape([d for s in volume.shape for d in (s, 1)])
    target = [d for s, f in zip(volume.shape, factors) for d in (s, f)]
    return np.broadcast_to(expanded, target).reshape(
        [s * f for s, f in zip(volume.shape, factors)]
    )


def _as_coordinate(value: Union[int, Sequence[int]], ndim: int, what: str):
    from funlib.geometry import Coordinate

    if isinstance(value, (int, np.integer)):
        return Coordinate((int(value),) * ndim)
    value = Coordinate(int(v) for v in value)
    if len(value) != ndim:
        raise ValueError(f"{what} {tuple(value)} has {len(value)} axes, the raw shape has {ndim}")
    return value


def _place_crops(specs, snapped, default_nm, rng):
    """World rois of the crops: given offsets/shapes kept, the others placed at random on the
    16 nm grid inside ``snapped``, avoiding the crops placed so far where possible."""
    from funlib.geometry import Coordinate, Roi

    crop_rois: dict[int, Roi] = {}
    for spec in specs:
        if spec.shape is not None:
            shape_nm = Coordinate(int(s) * GT_VOXEL_SIZE for s in spec.shape)
        else:
            shape_nm = Coordinate(min(a, b) for a, b in zip(default_nm, snapped.shape))
        if spec.offset is not None:
            roi = Roi(Coordinate(int(o) for o in spec.offset), shape_nm)
        else:
            slack = [max(0, s // CROP_GRID) for s in (snapped.shape - shape_nm)]
            roi = None
            for _ in range(100):
                offset = snapped.begin + Coordinate(
                    int(rng.integers(0, s + 1)) * CROP_GRID for s in slack
                )
                roi = Roi(offset, shape_nm)
                if not any(roi.intersects(other) for other in crop_rois.values()):
                    break
        if any(v % CROP_GRID for v in (*roi.begin, *roi.shape)) or not snapped.contains(roi):
            raise ValueError(
                f"crop {spec.id}: roi {roi} must lie on the {CROP_GRID} nm grid inside the raw "
                f"roi {snapped}"
            )
        crop_rois[spec.id] = roi
    return crop_rois


def write_tutorial_layout(
    path: Union[str, Path],
    raw_shape: Sequence[int] = (160, 160, 160),
    crops: Sequence[Union[int, CropSpec]] = (124, 125, 145),
    *,
    seed: int = 0,
    raw_voxel_size: Union[int, Sequence[int]] = 16,
    render_voxel_size: Union[int, Sequence[int]] = 8,
    raw_offset: Sequence[int] = (16, 32, 48),
    gt_path: Optional[Union[str, Path]] = None,
    num_mito: Optional[int] = None,
    num_peroxisomes: Optional[int] = None,
    chunks: int = 64,
    noise: float = 6.0,
    blur: float = 0.5,
) -> TutorialLayout:
    """Write an N5 container like the tutorial's ``jrc_mus-liver.n5``.

    - ``volumes/raw/s1``: uint8, ``raw_shape`` voxels of ``raw_voxel_size`` nm (16: s1 of an
      8 nm dataset, what the tutorial's ``upsample_factors=[(2, 2, 2)]`` U-Net expects for its
      8 nm output) at ``raw_offset`` (nm, a multiple of the raw voxel size).
    - ``volumes/groundtruth/crop<N>/labels/all``: uint64 CellMap class ids at 4 nm (0
      background, 3/4 mitochondria membrane/lumen, 47/48 peroxisome membrane/lumen), crops on
      the 16 nm grid inside the raw ROI (default shape :data:`DEFAULT_CROP_SHAPE`), each holding
      at least two peroxisomes and (where one fits) a mitochondrion, with
      ``cellmap.annotation.class_ids_annotated`` attributes.

    The objects are rendered once on a ``render_voxel_size`` grid (default 8 nm) over the raw
    ROI: raw is that rendering block-averaged to ``raw_voxel_size``, blurred (``blur``, sigma in
    raw voxels) and noisy (``noise``, grey values); the crop labels are the rendered classes
    upsampled (nearest) to 4 nm inside each crop only, so raw and labels agree and no 4 nm
    volume of the whole ROI is ever allocated. Peroxisomes are bright and uniform,
    mitochondria larger, darker and striped (cristae), both with dark membranes, on a
    mid-grey background. ``num_peroxisomes`` / ``num_mito``: objects placed beyond those forced
    into the crops (default: about 1.5 % / 15 % of the volume).

    ``gt_path``: write the ground truth to a second container (the tutorial reads raw and gt
    from different files). The defaults (160³ raw voxels of 16 nm, about 1.5 s) suit the
    tutorial's architecture and trainer. Returns a :class:`TutorialLayout`.
    """
    from funlib.geometry import Coordinate, Roi

    raw_container = Path(path)
    gt_container = Path(gt_path) if gt_path is not None else raw_container
    raw_shape = Coordinate(int(s) for s in raw_shape)
    ndim = len(raw_shape)
    raw_offset = _as_coordinate(raw_offset, ndim, "raw_offset")
    raw_vs = _as_coordinate(raw_voxel_size, ndim, "raw_voxel_size")
    render_vs = _as_coordinate(render_voxel_size, ndim, "render_voxel_size")
    if any(r <= 0 or r % GT_VOXEL_SIZE or v % r for r, v in zip(render_vs, raw_vs)):
        raise ValueError(
            f"render_voxel_size {tuple(render_vs)} must be a multiple of {GT_VOXEL_SIZE} nm that "
            f"divides raw_voxel_size {tuple(raw_vs)}"
        )
    if any(o % v for o, v in zip(raw_offset, raw_vs)):
        raise ValueError(
            f"raw_offset {tuple(raw_offset)} must be a multiple of raw_voxel_size {tuple(raw_vs)}"
        )
    down = tuple(int(v // r) for v, r in zip(raw_vs, render_vs))
    up = tuple(int(r // GT_VOXEL_SIZE) for r in render_vs)
    rng = np.random.default_rng(seed)
    raw_roi = Roi(raw_offset, raw_shape * raw_vs)
    snapped = raw_roi.snap_to_grid((CROP_GRID,) * ndim, mode="shrink")
    render_shape = tuple(int(s) * f for s, f in zip(raw_shape, down))
    r_nm = float(np.mean(render_vs))  # object sizes are isotropic in nm; render voxels ~ this

    # crops (world nm), on the 16 nm grid inside the snapped raw ROI
    specs = [c if isinstance(c, CropSpec) else CropSpec(int(c)) for c in crops]
    default_shape = DEFAULT_CROP_SHAPE[-ndim:] if ndim <= 3 else (DEFAULT_CROP_SHAPE[0],) * ndim
    default_nm = Coordinate(default_shape) * GT_VOXEL_SIZE
    crop_rois = _place_crops(specs, snapped, default_nm, rng)
    crop_boxes: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # in render voxels
    for spec in specs:
        roi = crop_rois[spec.id]
        rel_begin, rel_end = roi.begin - raw_offset, roi.end - raw_offset
        if any(b % r or e % r for b, e, r in zip(rel_begin, rel_end, render_vs)):
            raise ValueError(
                f"crop {spec.id}: roi {roi} is not on the {tuple(render_vs)} nm render grid of "
                f"the raw roi {raw_roi}"
            )
        crop_boxes[spec.id] = (
            np.asarray(rel_begin / render_vs, dtype=float),
            np.asarray(rel_end / render_vs, dtype=float),
        )

    # objects on the render grid: peroxisomes (two in each crop), mitochondria (one in each crop)
    volume_nm = float(np.prod(raw_shape * raw_vs))
    if num_peroxisomes is None:
        num_peroxisomes = max(2, round(0.015 * volume_nm / (4 / 3 * np.pi * 110.0**3)))
    if num_mito is None:
        num_mito = max(2, round(0.15 * volume_nm / (4 / 3 * np.pi * 225.0**3)))
    perox_radius = tuple(r / r_nm for r in _PEROXISOME_RADIUS)
    mito_radius = tuple(r / r_nm for r in _MITO_RADIUS)
    gap = max(1.0, _GAP / r_nm)
    blobs: list[_Blob] = []
    for lo, hi in crop_boxes.values():
        margin = np.minimum(0.6 * perox_radius[0], 0.25 * (hi - lo))
        blobs += _place_blobs(
            render_shape, rng, 2, perox_radius, False, 0.15, (lo + margin, hi - margin),
            existing=blobs, gap=gap,
        )
    blobs += _place_blobs(
        render_shape, rng, num_peroxisomes, perox_radius, False, 0.15, existing=blobs, gap=gap
    )
    num_perox = len(blobs)
    for lo, hi in crop_boxes.values():
        blobs += _place_blobs(
            render_shape, rng, 1, mito_radius, False, 0.35, (lo, hi), existing=blobs, gap=gap
        )
    blobs += _place_blobs(
        render_shape, rng, num_mito, mito_radius, False, 0.35, existing=blobs, gap=gap
    )
    is_perox = [i < num_perox for i in range(len(blobs))]
    grey, codes = _render_organelles(render_shape, blobs, is_perox, r_nm, rng)

    # raw: block mean to the raw voxel size, blur, noise
    raw_f = _block_mean(grey, down)
    del grey
    raw_f = _blur(raw_f, blur)
    if noise > 0:
        raw_f += rng.standard_normal(raw_f.shape, dtype=np.float32) * np.float32(noise)
    np.clip(raw_f, 0, 255, out=raw_f)
    raw = np.rint(raw_f).astype(np.uint8)
    del raw_f
    write_array(
        raw_container, "volumes/raw/s1", raw, tuple(raw_vs), raw_offset, chunks=chunks, n5=True
    )

    # crops: the rendered classes inside each crop, upsampled to 4 nm
    gt_datasets: dict[int, str] = {}
    labels: dict[int, np.ndarray] = {}
    for spec in specs:
        roi = crop_rois[spec.id]
        lo, hi = crop_boxes[spec.id]
        window = codes[tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))]
        crop = _upsample(_CLASS_IDS[window], up)
        annotated = list(spec.annotated) if spec.annotated is not None else list(ALL_CLASS_IDS)
        write_array(
            gt_container,
            f"volumes/groundtruth/crop{spec.id}/labels/all",
            crop,
            (GT_VOXEL_SIZE,) * ndim,
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
        raw_voxel_size=tuple(int(v) for v in raw_vs),
        gt_voxel_size=(GT_VOXEL_SIZE,) * ndim,
        render_voxel_size=tuple(int(v) for v in render_vs),
        raw=raw,
        labels=labels,
    )
