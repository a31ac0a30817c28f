"""The CellMap Segmentation Challenge scoring, as the challenge toolkit's current code (and so
the leaderboard) computes it; see ``docs/cellmap.md`` for every definition and the one place we
deliberately differ.

Per crop and class, after resampling the prediction onto the ground-truth grid
(:func:`resample_to_grid`: nearest neighbour for instance classes, linear interpolation then
``> 0.5`` for semantic classes; outside the prediction reads as background), a crop yields
*counts*, and the scores are computed from counts pooled over crops:

- **instance classes** (:func:`score_instance`): the prediction is relabelled by connected
  components (full connectivity; distinct ids stay distinct); a crop with more predicted
  instances than :func:`instance_ratio_cutoff` allows relative to the truth is *skipped*
  (contributes nothing). Otherwise predicted and true instances are matched 1:1 (the
  toolkit's min-cost flow: each overlapping pair costs ``int((1 - IoU) * 1e6)``, leaving a true
  instance unmatched ``1e6 + 1``). Counts: ``tp`` matches, ``fp`` unmatched predictions, ``fn``
  unmatched true instances, and a pool of Hausdorff distances (nm) capped at
  :func:`max_distance_cap` (half the crop's smallest physical extent): one per true instance
  (to its match; the cap when unmatched) plus the cap once per unmatched prediction. Each
  distance normalises to ``1.01 ** (-d / ||voxel size||)``.
- **semantic classes** (:func:`score_semantic`): voxel ``tp``, ``fp``, ``fn`` of ``> 0`` masks.
- **a label the submission lacks** (:func:`missing_label_score`): instance class: every true
  instance is a false negative with normalised Hausdorff score 0; semantic class: every voxel
  of the crop is a false negative.

:func:`combine_scores` sums the counts per class over crops (no volume weights): instance
``f1 = 2 tp / (2 tp + fp + fn)``, normalised Hausdorff = mean over the pooled distances,
``combined_score = sqrt(f1 * normalised Hausdorff)`` (all 1 when nothing is there at all);
semantic ``iou = tp / (tp + fp + fn)`` (1 when nothing is there). The instance and semantic
scores are plain means over classes (0 without any class of that kind), and
``overall_score = sqrt(instance × semantic)``.
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
#: the toolkit's cutoff on #predicted / #true instances: ``BASE + EXTRA * exp(-#true / DECAY)``
RATIO_CUTOFF_BASE, RATIO_CUTOFF_EXTRA, RATIO_CUTOFF_DECAY = 10.0, 50.0, 5.0
#: the toolkit skips a crop with more overlapping (true, predicted) pairs than this
MAX_OVERLAP_EDGES = 5_000_000
#: the toolkit's min-cost-flow cost scale (matching costs are ``int((1 - IoU) * scale)``)
MATCHING_COST_SCALE = 1_000_000
SCORED, SKIPPED, MISSING = "scored", "skipped_too_many_instances", "missing"

__all__ = [
    "INSTANCE_CLASSES",
    "max_distance_cap",
    "instance_ratio_cutoff",
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


def max_distance_cap(voxel_size: Sequence[float], shape: Sequence[int]) -> float:
    """Half the smallest physical extent (nm) of a crop: Hausdorff distances are capped here."""
    return float(min(float(v) * int(s) / 2 for v, s in zip(voxel_size, shape)))


def instance_ratio_cutoff(num_true: int) -> float:
    """The largest #predicted / #true instances the toolkit scores; more and the crop is skipped."""
    return RATIO_CUTOFF_BASE + RATIO_CUTOFF_EXTRA * math.exp(-num_true / RATIO_CUTOFF_DECAY)


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


def instance_scores(tp: int, fp: int, fn: int, hausdorff_norm_sum: float, n_hausdorff: int) -> dict:
    """F1, mean normalised Hausdorff and their combined score from (pooled) counts; all 1 when
    there is nothing at all (no instance, no distance)."""
    denominator = 2 * tp + fp + fn
    if denominator == 0 and n_hausdorff == 0:
        return {"f1": 1.0, "normalized_hausdorff_distance": 1.0, "combined_score": 1.0}
    f1 = 2.0 * tp / denominator if denominator else 0.0
    hausdorff = float(hausdorff_norm_sum) / n_hausdorff if n_hausdorff else 0.0
    return {"f1": f1, "normalized_hausdorff_distance": hausdorff, "combined_score": math.sqrt(f1 * hausdorff)}


def semantic_scores(tp: int, fp: int, fn: int) -> dict:
    """IoU and Dice from (pooled) voxel counts; 1 when there is nothing at all."""
    return {
        "iou": tp / (tp + fp + fn) if tp + fp + fn else 1.0,
        "dice_score": 2.0 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
    }


def _instance_result(tp, fp, fn, num_pred, distances, voxel_size, max_distance, status=SCORED) -> dict:
    """A crop's instance counts and Hausdorff pool (float32 like the toolkit's; inf = score 0),
    with the crop's own scores from them (None for a skipped crop)."""
    distances = [float(np.float32(d)) for d in distances]
    norm_sum = float(np.sum([normalize_distance(d, voxel_size) for d in distances]))
    result = {
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "num_true_instances": int(tp + fn),
        "num_pred_instances": int(num_pred),
        "max_distance": float(max_distance),
        "hausdorff_distances": distances,
        "hausdorff_norm_sum": norm_sum,
        "n_hausdorff": len(distances),
        "status": status,
    }
    if status == SKIPPED:
        return {**result, "f1": None, "normalized_hausdorff_distance": None, "combined_score": None}
    return {**result, **instance_scores(tp, fp, fn, norm_sum, len(distances))}


def _match(truth_index, pred_index, num_true, num_pred, iou_threshold):
    """Toolkit matching of true instances ``0..num_true-1`` and predicted ``0..num_pred-1``
    (flat index arrays, -1 = background): ``(true, pred)`` index arrays of the matches, or None
    when there are more than :data:`MAX_OVERLAP_EDGES` overlapping pairs."""
    from scipy.optimize import linear_sum_assignment

    fg = (truth_index >= 0) & (pred_index >= 0)
    keys, overlap = np.unique(truth_index[fg] * num_pred + pred_index[fg], return_counts=True)
    if keys.size > MAX_OVERLAP_EDGES:
        return None
    rows, cols = keys // num_pred, keys % num_pred
    true_sizes = np.bincount(truth_index[truth_index >= 0], minlength=num_true)
    pred_sizes = np.bincount(pred_index[pred_index >= 0], minlength=num_pred)
    iou = (overlap / (true_sizes[rows] + pred_sizes[cols] - overlap)).astype(np.float32)
    keep = iou > iou_threshold
    rows, cols, iou = rows[keep], cols[keep], iou[keep]
    if rows.size == 0:
        return rows, cols
    # min-cost flow with an unmatched cost above every pair cost == max-weight matching with
    # weight (unmatched cost - pair cost) > 0 on overlapping pairs only
    cost = ((1.0 - iou.astype(np.float64)) * MATCHING_COST_SCALE).astype(np.int64)
    true_ids, r = np.unique(rows, return_inverse=True)
    pred_ids, c = np.unique(cols, return_inverse=True)
    weight = np.zeros((len(true_ids), len(pred_ids)))
    weight[r, c] = MATCHING_COST_SCALE + 1 - cost
    # columns reversed: of equally good predictions the later one wins, as the toolkit's solver
    # picked in side-by-side runs (other exact ties may still resolve differently)
    mr, mc = linear_sum_assignment(weight[:, ::-1], maximize=True)
    mc = len(pred_ids) - 1 - mc
    matched = weight[mr, mc] > 0
    return true_ids[mr[matched]], pred_ids[mc[matched]]


def score_instance(
    pred: np.ndarray,
    truth: np.ndarray,
    voxel_size: Sequence[float],
    *,
    max_distance: Optional[float] = None,
    iou_threshold: float = 0.0,
) -> dict:
    """Instance counts and Hausdorff pool of ``pred`` (labels or a mask, on the grid of
    ``truth``) against the instance labels ``truth`` (see the module doc). ``max_distance``
    overrides the cap (:func:`max_distance_cap`); pairs need IoU > ``iou_threshold`` to match."""
    from skimage.measure import label as connected_components

    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {truth.shape}")
    if max_distance is None:
        max_distance = max_distance_cap(voxel_size, truth.shape)
    if pred.dtype == np.bool_:
        pred = pred.astype(np.uint8)
    pred = connected_components(pred, background=0, connectivity=pred.ndim)
    truth_ids, truth_index = np.unique(truth, return_inverse=True)
    truth_index = truth_index.reshape(truth.shape).astype(np.int64) - int(truth_ids[0] == 0)
    num_true = int((truth_ids != 0).sum())
    num_pred = int(pred.max()) if pred.size else 0  # connected components are 1..n
    pred_index = pred.astype(np.int64) - 1

    def result(tp, fp, fn, distances, status=SCORED):
        return _instance_result(tp, fp, fn, num_pred, distances, voxel_size, max_distance, status)

    if num_true == 0 or num_pred == 0:
        return result(0, num_pred, num_true, [max_distance] * (num_true + num_pred))
    if num_pred / num_true > instance_ratio_cutoff(num_true):
        logger.warning("%d predicted vs %d true instances: crop skipped", num_pred, num_true)
        return result(0, 0, 0, [], SKIPPED)
    matches = _match(truth_index.ravel(), pred_index.ravel(), num_true, num_pred, iou_threshold)
    if matches is None:
        logger.warning("more than %d overlapping instance pairs: crop skipped", MAX_OVERLAP_EDGES)
        return result(0, 0, 0, [], SKIPPED)
    from scipy.ndimage import find_objects

    truth_boxes = find_objects(truth_index + 1)
    pred_boxes = find_objects(pred)
    matched = dict(zip(matches[0].tolist(), matches[1].tolist()))
    distances = []
    for i in range(num_true):
        if i not in matched:
            distances.append(max_distance)
            continue
        j = matched[i]
        # the true instance against its own match only (the toolkit measures against every
        # voxel carrying the truth id after renaming; see docs/cellmap.md)
        box = tuple(
            slice(min(a.start, b.start), max(a.stop, b.stop))
            for a, b in zip(truth_boxes[i], pred_boxes[j])
        )
        d = hausdorff_distance(truth_index[box] == i, pred_index[box] == j, voxel_size)
        distances.append(min(d, max_distance))
    tp = len(matched)
    return result(tp, num_pred - tp, num_true - tp, distances + [max_distance] * (num_pred - tp))


def score_semantic(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Voxel counts of the ``> 0`` masks, with this crop's IoU and Dice from them."""
    pred = np.asarray(pred) > 0
    truth = np.asarray(truth) > 0
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {truth.shape}")
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(truth)) - tp
    return {"tp": tp, "fp": fp, "fn": fn, **semantic_scores(tp, fp, fn), "status": SCORED}


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
def missing_label_score(instance: bool, truth: np.ndarray, voxel_size) -> dict:
    """The counts of a label the submission lacks: every true instance a false negative with
    normalised Hausdorff score 0 (instance), every voxel of the crop a false negative (semantic)."""
    truth = np.asarray(truth)
    base = {"num_voxels": int(truth.size), "voxel_size": [float(v) for v in voxel_size], "is_missing": True}
    if instance:
        num_true = int(np.count_nonzero(np.unique(truth)))
        cap = max_distance_cap(voxel_size, truth.shape)
        return {**_instance_result(0, 0, num_true, 0, [np.inf] * num_true, voxel_size, cap), **base,
                "status": MISSING}
    return {"tp": 0, "fp": 0, "fn": int(truth.size), **semantic_scores(0, 0, int(truth.size)), **base,
            "status": MISSING}


def score_crop_label(
    pred,
    pred_voxel_size,
    pred_translation,
    truth: np.ndarray,
    voxel_size,
    translation,
    instance: bool,
    mask: Optional[np.ndarray] = None,
    **instance_kwargs,
) -> dict:
    """Resample ``pred`` to the grid of ``truth`` and score it (both zeroed outside ``mask``)."""
    truth = np.asarray(truth)
    resampled = resample_to_grid(
        pred, pred_voxel_size, pred_translation, truth.shape, voxel_size, translation, instance
    )
    if mask is not None:
        resampled = np.where(mask, resampled, 0)
        truth = np.where(mask, truth, 0)
    scores = score_instance(resampled, truth, voxel_size, **instance_kwargs) if instance else score_semantic(resampled, truth)
    scores.update(
        num_voxels=int(truth.size), voxel_size=[float(v) for v in voxel_size], is_missing=False
    )
    return scores


_POOLED = {True: ("tp", "fp", "fn", "hausdorff_norm_sum", "n_hausdorff"), False: ("tp", "fp", "fn")}


def combine_scores(
    scores: Mapping[str, Mapping[str, dict]],
    instance_classes: Iterable[str] = INSTANCE_CLASSES,
    include_missing: bool = True,
) -> dict:
    """Sum the counts of ``scores[crop][label]`` per class over crops, score each class from its
    totals, and average the classes (see the module doc)."""
    instance_classes = set(instance_classes)
    totals: dict[str, dict[str, float]] = {}
    for crop_scores in scores.values():
        for label, score in crop_scores.items():
            if score.get("is_missing") and not include_missing:
                continue
            keys = _POOLED[label in instance_classes]
            entry = totals.setdefault(label, dict.fromkeys(keys, 0))
            for key in keys:
                entry[key] += score[key]
    label_scores = {
        label: {
            **entry,
            **(instance_scores(**entry) if label in instance_classes else semantic_scores(**entry)),
        }
        for label, entry in totals.items()
    }
    instance = [s["combined_score"] for l, s in label_scores.items() if l in instance_classes]
    semantic = [s["iou"] for l, s in label_scores.items() if l not in instance_classes]
    instance_score = float(np.mean(instance)) if instance else 0.0
    semantic_score = float(np.mean(semantic)) if semantic else 0.0
    return {
        "label_scores": label_scores,
        "overall_instance_score": instance_score,
        "overall_semantic_score": semantic_score,
        "overall_score": math.sqrt(instance_score * semantic_score),
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


#: a truth array ``<label>_mask`` marks where ``<label>`` is scored (the toolkit's test truth)
MASK_SUFFIX = "_mask"


def _is_mask(label: str, labels) -> bool:
    return label.endswith(MASK_SUFFIX) and label[: -len(MASK_SUFFIX)] in labels


def score_submission(
    submission: Union[str, Path],
    truth,
    instance_classes: Iterable[str] = INSTANCE_CLASSES,
    **instance_kwargs,
) -> dict:
    """Score a submission (zarr or zip, ``<crop>/<label>`` arrays with ``voxel_size`` and
    ``translation`` attributes) against ``truth``: a mapping ``{crop: {label: (array,
    voxel_size, translation)}}`` (see :func:`dacapo.cellmap.truth_from_layout`) or the path of
    a zarr in the submission layout. A truth label ``<label>_mask`` next to ``<label>`` is not
    scored but zeroes prediction and truth of ``<label>`` outside it, as the toolkit does.
    Returns ``{"crops": {crop: {label: scores}}, **combined}``."""
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
        masks = {label[: -len(MASK_SUFFIX)] for label in labels if _is_mask(label, labels)}
        for label, (truth_array, voxel_size, translation) in labels.items():
            if _is_mask(label, labels):
                continue
            instance = label in instance_classes
            truth_data = np.asarray(truth_array[...])
            if crop not in root or label not in root[crop]:
                logger.warning("submission lacks %s/%s: all of it counts as false negatives", crop, label)
                crop_scores[label] = missing_label_score(instance, truth_data, voxel_size)
                continue
            mask = np.asarray(labels[label + MASK_SUFFIX][0][...]) > 0 if label in masks else None
            if mask is not None and mask.shape != truth_data.shape:
                raise ConfigError(
                    f"cellmap evaluate: truth {crop}/{label}{MASK_SUFFIX} has shape {mask.shape}, "
                    f"{crop}/{label} {truth_data.shape}"
                )
            node = root[crop][label]
            pred, pred_voxel_size, pred_translation = _array_of(node)
            crop_scores[label] = score_crop_label(
                pred, pred_voxel_size, pred_translation, truth_data, voxel_size, translation,
                instance, mask=mask, **(instance_kwargs if instance else {}),
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
