"""The CellMap Segmentation Challenge scoring.

Per crop and class, after resampling the prediction onto the ground-truth grid
(:func:`resample_to_grid`: nearest neighbour for instance classes, linear interpolation then
``> 0.5`` for semantic classes; outside the prediction reads as background):

- **instance classes** (:func:`score_instance`): the prediction is relabelled by connected
  components (full connectivity; distinct ids stay distinct, so touching objects with their own
  ids are not merged); predicted and true instances are matched 1:1 maximising the total IoU
  (``linear_sum_assignment``); a match with IoU > ``iou_threshold`` (default 0: any overlap) is
  a true positive; ``f1 = 2 TP / (#true + #predicted)``. For every true instance the symmetric
  Hausdorff distance (nm) to its matched prediction is capped at ``max_distance`` (default: the
  distance whose normalised score is 1e-4) and normalised to ``1.01 ** (-d / ||voxel size||)``;
  an unmatched true instance scores 0. ``combined_score = sqrt(f1 * mean normalised Hausdorff)``.
  No true and no predicted instance: every score is 1; no true instance but some predicted: 0.
- **semantic classes** (:func:`score_semantic`): IoU and Dice of ``> 0`` masks (1 when both are
  empty).

:func:`combine_scores` pools each class over crops, weighting every crop by its volume (voxel
count × voxel volume), averages the pooled instance ``combined_score`` s and the semantic ``iou``
s over classes, and reports ``overall_score = sqrt(instance × semantic)`` (the one present if a
submission has only one kind). A class a crop annotates but the submission lacks scores 0.
"""

from __future__ import annotations

import logging
import math
import zipfile
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from dacapo.config import ConfigError

logger = logging.getLogger(__name__)

#: classes the challenge scores as instances (the toolkit's ``INSTANCE_CLASSES``)
INSTANCE_CLASSES = (
    "nuc", "vim", "ves", "endo", "lyso", "ld", "perox", "mito", "np", "mt", "cell", "instance",
)
#: normalised Hausdorff score at the default distance cap
MAX_DISTANCE_EPSILON = 1e-4

__all__ = [
    "INSTANCE_CLASSES",
    "default_max_distance",
    "normalize_distance",
    "hausdorff_distance",
    "score_instance",
    "score_semantic",
    "resample_to_grid",
    "score_crop_label",
    "missing_label_score",
    "combine_scores",
    "score_submission",
]


def default_max_distance(voxel_size: Sequence[float], epsilon: float = MAX_DISTANCE_EPSILON) -> float:
    """The distance (nm) whose normalised score is ``epsilon``: beyond it all distances score
    (almost) the same, so distances are capped there."""
    return float(np.linalg.norm(voxel_size)) * math.log(1.0 / epsilon) / math.log(1.01)


def normalize_distance(distance: float, voxel_size: Sequence[float]) -> float:
    if distance == np.inf:
        return 0.0
    return float(1.01 ** (-distance / np.linalg.norm(voxel_size)))


def _bbox(mask: np.ndarray) -> tuple[slice, ...]:
    slices = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=other))
        slices.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(slices)


def hausdorff_distance(a: np.ndarray, b: np.ndarray, voxel_size: Sequence[float]) -> float:
    """Symmetric Hausdorff distance (nm) between boolean masks ``a`` and ``b`` (voxel centres);
    0 if both are empty, inf if one is."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    a_any, b_any = a.any(), b.any()
    if not a_any and not b_any:
        return 0.0
    if not a_any or not b_any:
        return np.inf
    box = _bbox(a | b)  # nearest points of either mask lie inside the union's bounding box
    a, b = a[box], b[box]
    sampling = [float(v) for v in voxel_size]
    from scipy.ndimage import distance_transform_edt

    to_a = distance_transform_edt(~a, sampling=sampling)
    to_b = distance_transform_edt(~b, sampling=sampling)
    return float(max(to_a[b].max(), to_b[a].max()))


def _instance_result(f1, hausdorff, normalized, num_true, num_pred, tp) -> dict:
    return {
        "f1": float(f1),
        "hausdorff_distance": float(hausdorff),
        "normalized_hausdorff_distance": float(normalized),
        "combined_score": float(math.sqrt(f1 * normalized)),
        "num_true_instances": int(num_true),
        "num_pred_instances": int(num_pred),
        "true_positives": int(tp),
    }


def score_instance(
    pred: np.ndarray,
    truth: np.ndarray,
    voxel_size: Sequence[float],
    *,
    max_distance: Optional[float] = None,
    iou_threshold: float = 0.0,
) -> dict:
    """Instance scores of ``pred`` (labels or a mask, on the grid of ``truth``) against the
    instance labels ``truth`` (see the module doc)."""
    from scipy.optimize import linear_sum_assignment
    from skimage.measure import label as connected_components

    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {truth.shape}")
    if max_distance is None:
        max_distance = default_max_distance(voxel_size)
    if pred.dtype == np.bool_:
        pred = pred.astype(np.uint8)
    pred = connected_components(pred, background=0, connectivity=pred.ndim)
    truth_ids, truth_index = np.unique(truth, return_inverse=True)
    pred_ids, pred_index = np.unique(pred, return_inverse=True)
    # rows/cols without background
    t_fg = truth_ids != 0
    p_fg = pred_ids != 0
    num_true, num_pred = int(t_fg.sum()), int(p_fg.sum())
    if num_true == 0:
        score = 1.0 if num_pred == 0 else 0.0
        return _instance_result(score, 0.0 if num_pred == 0 else np.inf, score, 0, num_pred, 0)
    if num_pred == 0:
        return _instance_result(0.0, np.inf, 0.0, num_true, 0, 0)
    # overlap counts of every (true, pred) pair
    pairs = truth_index.ravel().astype(np.int64) * len(pred_ids) + pred_index.ravel()
    overlap = np.bincount(pairs, minlength=len(truth_ids) * len(pred_ids)).reshape(
        len(truth_ids), len(pred_ids)
    )
    true_sizes = overlap.sum(axis=1)
    pred_sizes = overlap.sum(axis=0)
    overlap = overlap[t_fg][:, p_fg].astype(np.float64)
    union = true_sizes[t_fg][:, None] + pred_sizes[p_fg][None, :] - overlap
    iou = np.where(union > 0, overlap / np.maximum(union, 1), 0.0)
    rows, cols = linear_sum_assignment(iou, maximize=True)
    keep = iou[rows, cols] > iou_threshold
    rows, cols = rows[keep], cols[keep]
    tp = len(rows)
    f1 = 2.0 * tp / (num_true + num_pred)

    # consecutive labels (1..n) for both, so that find_objects gives each instance's box
    from scipy.ndimage import find_objects

    offset_t = 0 if truth_ids[0] == 0 else 1
    offset_p = 0 if pred_ids[0] == 0 else 1
    truth_labels = (truth_index.reshape(truth.shape) + offset_t).astype(np.int64)
    pred_labels = (pred_index.reshape(pred.shape) + offset_p).astype(np.int64)
    truth_boxes = find_objects(truth_labels)
    pred_boxes = find_objects(pred_labels)
    matched = dict(zip(rows.tolist(), cols.tolist()))
    distances = []
    for i in range(num_true):
        if i not in matched:
            distances.append(np.inf)
            continue
        j = matched[i]
        box = tuple(
            slice(min(a.start, b.start), max(a.stop, b.stop))
            for a, b in zip(truth_boxes[i], pred_boxes[j])
        )
        d = hausdorff_distance(truth_labels[box] == i + 1, pred_labels[box] == j + 1, voxel_size)
        distances.append(min(d, max_distance))
    normalized = float(np.mean([normalize_distance(d, voxel_size) for d in distances]))
    return _instance_result(f1, float(np.mean(distances)), normalized, num_true, num_pred, tp)


def score_semantic(pred: np.ndarray, truth: np.ndarray) -> dict:
    """IoU and Dice of the ``> 0`` masks (1 when both are empty)."""
    pred = np.asarray(pred) > 0
    truth = np.asarray(truth) > 0
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {truth.shape}")
    intersection = int(np.logical_and(pred, truth).sum())
    union = int(np.logical_or(pred, truth).sum())
    total = int(pred.sum() + truth.sum())
    return {
        "iou": intersection / union if union else 1.0,
        "dice_score": 2.0 * intersection / total if total else 1.0,
    }


# --- resampling ---------------------------------------------------------------------------------
def _axis_positions(shape, voxel_size, translation, src_voxel_size, src_translation, axis):
    """Continuous source coordinates (in source voxels, 0 = centre of the first source voxel) of
    the target voxel centres along ``axis``."""
    centres = translation[axis] + (np.arange(shape[axis]) + 0.5) * voxel_size[axis]
    return (centres - src_translation[axis]) / src_voxel_size[axis] - 0.5


def resample_to_grid(
    source,
    source_voxel_size: Sequence[float],
    source_translation: Sequence[float],
    shape: Sequence[int],
    voxel_size: Sequence[float],
    translation: Sequence[float],
    instance: bool,
) -> np.ndarray:
    """``source`` (numpy or zarr; translation = world position of its first voxel's corner)
    sampled at the voxel centres of the target grid (``shape``, ``voxel_size``,
    ``translation``): nearest neighbour for instances, linear interpolation then ``> 0.5``
    (uint8) for semantic labels. Outside the source reads as 0. Only the needed part of a zarr
    source is read."""
    ndim = len(shape)
    src_shape = source.shape
    if len(src_shape) != ndim:
        raise ValueError(f"source has {len(src_shape)} axes, the target grid {ndim}")
    positions = [
        _axis_positions(shape, voxel_size, translation, source_voxel_size, source_translation, a)
        for a in range(ndim)
    ]
    same = all(
        float(v) == float(sv) and (float(t) - float(st)) % float(v) == 0
        for v, sv, t, st in zip(voxel_size, source_voxel_size, translation, source_translation)
    )
    if instance or same:
        # nearest: the source voxel containing each target centre
        indices = [np.floor(p + 0.5).astype(np.int64) for p in positions]
        window, local = _read_window(source, [(i, i) for i in indices])
        out = window
        for axis, idx in enumerate(local):
            out = _take(out, idx, axis)
        return out.astype(window.dtype) if instance else (out > 0).astype(np.uint8)
    # linear, separable: one axis at a time
    lows = [np.floor(p).astype(np.int64) for p in positions]
    window, local = _read_window(source, [(lo, lo + 1) for lo in lows])
    out = (window > 0).astype(np.float32)
    for axis, lo in enumerate(local):
        weight = (positions[axis] - np.floor(positions[axis])).astype(np.float32)
        weight = weight.reshape([-1 if a == axis else 1 for a in range(ndim)])
        out = _take(out, lo, axis) * (1 - weight) + _take(out, lo + 1, axis) * weight
    return (out > 0.5).astype(np.uint8)


def _take(data: np.ndarray, idx: np.ndarray, axis: int) -> np.ndarray:
    """``np.take(data, idx, axis)`` with 0 where ``idx`` is outside ``data``."""
    size = data.shape[axis]
    if size == 0:
        return np.zeros(data.shape[:axis] + (len(idx),) + data.shape[axis + 1 :], data.dtype)
    valid = ((idx >= 0) & (idx < size)).reshape([-1 if a == axis else 1 for a in range(data.ndim)])
    return np.where(valid, np.take(data, np.clip(idx, 0, size - 1), axis=axis), 0).astype(data.dtype)


def _read_window(source, ranges):
    """Read the part of ``source`` covering index ranges ``[(lo array, hi array)]`` per axis;
    returns the window and the index arrays relative to it."""
    starts, stops = [], []
    for (lo, hi), size in zip(ranges, source.shape):
        start = int(max(0, min(lo.min(), size))) if len(lo) else 0
        stop = int(min(size, max(hi.max() + 1, 0))) if len(hi) else 0
        stop = max(stop, start)
        starts.append(start)
        stops.append(stop)
    window = np.asarray(source[tuple(slice(a, b) for a, b in zip(starts, stops))])
    return window, [lo - start for (lo, _), start in zip(ranges, starts)]


# --- crops and submissions ----------------------------------------------------------------------
def missing_label_score(instance: bool, num_voxels: int, voxel_size) -> dict:
    base = {"num_voxels": int(num_voxels), "voxel_size": [float(v) for v in voxel_size], "is_missing": True}
    if instance:
        return {**_instance_result(0.0, np.inf, 0.0, 0, 0, 0), **base}
    return {"iou": 0.0, "dice_score": 0.0, **base}


def score_crop_label(
    pred,
    pred_voxel_size,
    pred_translation,
    truth: np.ndarray,
    voxel_size,
    translation,
    instance: bool,
    **instance_kwargs,
) -> dict:
    """Resample ``pred`` to the grid of ``truth`` and score it."""
    truth = np.asarray(truth)
    resampled = resample_to_grid(
        pred, pred_voxel_size, pred_translation, truth.shape, voxel_size, translation, instance
    )
    scores = score_instance(resampled, truth, voxel_size, **instance_kwargs) if instance else score_semantic(resampled, truth)
    scores.update(
        num_voxels=int(truth.size), voxel_size=[float(v) for v in voxel_size], is_missing=False
    )
    return scores


def combine_scores(
    scores: Mapping[str, Mapping[str, dict]],
    instance_classes: Iterable[str] = INSTANCE_CLASSES,
    include_missing: bool = True,
) -> dict:
    """Pool ``scores[crop][label]`` over crops (volume-weighted) and average over classes."""
    instance_classes = set(instance_classes)
    sums: dict[str, dict[str, float]] = {}
    volumes: dict[str, float] = {}
    for crop_scores in scores.values():
        for label, score in crop_scores.items():
            if score.get("is_missing") and not include_missing:
                continue
            keys = (
                ("f1", "hausdorff_distance", "normalized_hausdorff_distance", "combined_score")
                if label in instance_classes
                else ("iou", "dice_score")
            )
            volume = float(score["num_voxels"]) * float(np.prod(score["voxel_size"]))
            entry = sums.setdefault(label, {k: 0.0 for k in keys})
            volumes[label] = volumes.get(label, 0.0) + volume
            for key in keys:
                entry[key] += float(score[key]) * volume
    label_scores = {
        label: {k: (v / volumes[label] if volumes[label] else 0.0) for k, v in entry.items()}
        for label, entry in sums.items()
    }
    instance = [s["combined_score"] for l, s in label_scores.items() if l in instance_classes]
    semantic = [s["iou"] for l, s in label_scores.items() if l not in instance_classes]
    parts = [float(np.mean(x)) for x in (instance, semantic) if x]
    overall = float(np.prod(parts) ** (1.0 / len(parts))) if parts else 0.0
    return {
        "label_scores": label_scores,
        "overall_instance_score": float(np.mean(instance)) if instance else None,
        "overall_semantic_score": float(np.mean(semantic)) if semantic else None,
        "overall_score": overall,
    }


def _submission_root(path: Union[str, Path]):
    """The zarr group of a submission (a ``.zarr`` directory or a zip holding one)."""
    import zarr

    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"cellmap evaluate: submission={path} does not exist")
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        prefix = ""
        if not any(n in (".zgroup", ".zattrs") for n in names):
            tops = sorted({n.split("/", 1)[0] for n in names if "/" in n})
            zarrs = [t for t in tops if f"{t}/.zgroup" in names]
            if len(zarrs) != 1:
                raise ConfigError(
                    f"cellmap evaluate: submission={path} holds no single zarr (top level: {tops})"
                )
            prefix = zarrs[0]
        store = zarr.ZipStore(str(path), mode="r")
        return zarr.open_group(store, mode="r", path=prefix)
    return zarr.open_group(str(path), mode="r")


def score_submission(
    submission: Union[str, Path],
    truth,
    instance_classes: Iterable[str] = INSTANCE_CLASSES,
    **instance_kwargs,
) -> dict:
    """Score a submission (zarr or zip, ``<crop>/<label>`` arrays with ``voxel_size`` and
    ``translation`` attributes) against ``truth``: a mapping ``{crop: {label: (array,
    voxel_size, translation)}}`` (see :func:`dacapo.cellmap.truth_from_layout`) or the path of
    a zarr in the submission layout. Returns ``{"crops": {crop: {label: scores}}, **combined}``."""
    instance_classes = tuple(instance_classes)
    root = _submission_root(submission)
    if isinstance(truth, (str, Path)):
        truth_root = _submission_root(truth)
        truth = {
            crop: {
                label: _array_of(truth_root[crop][label])
                for label in [*truth_root[crop].array_keys(), *truth_root[crop].group_keys()]
            }
            for crop in truth_root.group_keys()
        }
    scores: dict[str, dict[str, dict]] = {}
    for crop, labels in truth.items():
        crop_scores = scores.setdefault(crop, {})
        for label, (truth_array, voxel_size, translation) in labels.items():
            instance = label in instance_classes
            truth_data = np.asarray(truth_array[...])
            if crop not in root or label not in root[crop]:
                logger.warning("submission lacks %s/%s: it scores 0", crop, label)
                crop_scores[label] = missing_label_score(instance, truth_data.size, voxel_size)
                continue
            node = root[crop][label]
            pred, pred_voxel_size, pred_translation = _array_of(node)
            crop_scores[label] = score_crop_label(
                pred, pred_voxel_size, pred_translation, truth_data, voxel_size, translation,
                instance, **(instance_kwargs if instance else {}),
            )
    return {"crops": scores, **combine_scores(scores, instance_classes)}


def _array_of(node):
    """``(array, voxel size, translation)`` of a submission array, or of level s0 of an
    OME-NGFF multiscale group."""
    import zarr

    if isinstance(node, zarr.Array):
        attrs = dict(node.attrs)
        voxel_size = attrs.get("voxel_size")
        if voxel_size is None:
            raise ConfigError(f"cellmap evaluate: array {node.path} has no voxel_size attribute")
        translation = attrs.get("translation", attrs.get("offset", [0] * len(voxel_size)))
        return node, tuple(float(v) for v in voxel_size), tuple(float(t) for t in translation)
    from .layout import _multiscale_datasets, _transform

    entries = _multiscale_datasets(node)
    if not entries:
        raise ConfigError(f"cellmap evaluate: {node.path} is neither an array nor a multiscale group")
    entry = entries[0]
    scale = _transform(entry, "scale")
    translation = _transform(entry, "translation") or [0.0] * len(scale)
    return node[entry["path"]], tuple(scale), tuple(translation)


def json_safe(value):
    """``value`` with inf/nan floats as None (JSON has neither)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
