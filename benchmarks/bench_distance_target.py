"""Micro-benchmark: distance-task target + weight per gt block, ``edt`` (ours) vs the original
DaCapo approach (scipy's ``distance_transform_edt`` on a 2x upsampled boundary grid).

Prints one JSON line per (method, block shape) and one speedup line per shape.
Run: ``.venv/bin/python benchmarks/bench_distance_target.py [--repeats N] [--sizes 132 40]``
(132³: a training input block; 40³: the output of a 3-level UNet for a 132³ input).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

from dacapo.experiments.tasks.predictors import DistancePredictor

VOXEL_SIZE = (8, 8, 8)
SCALE_FACTOR = 160.0  # nm, as in the tutorial's task


def make_gt(size: int, seed: int = 0) -> np.ndarray:
    """(1, size, size, size) uint8 blobs, ~15 % foreground."""
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal((size,) * 3).astype(np.float32), 4)
    return (field > np.quantile(field, 0.85)).astype(np.uint8)[None]


# --- the original DaCapo (dacapo-ml) DistancePredictor, condensed but step for step ----------
def _find_boundaries(labels):
    dims = labels.ndim
    in_shape = labels.shape
    out_shape = tuple(2 * s - 1 for s in in_shape)
    boundaries = np.zeros(out_shape, dtype=bool)
    for d in range(dims):
        shift_p = [slice(None)] * dims
        shift_p[d] = slice(1, in_shape[d])
        shift_n = [slice(None)] * dims
        shift_n[d] = slice(0, in_shape[d] - 1)
        diff = (labels[tuple(shift_p)] - labels[tuple(shift_n)]) != 0
        target = [slice(None, None, 2)] * dims
        target[d] = slice(1, out_shape[d], 2)
        boundaries[tuple(target)] = diff
    return boundaries


def original_process(labels, voxel_size, scale):
    all_distances = np.zeros(labels.shape, dtype=np.float32) - 1
    for ii, channel in enumerate(labels):
        boundaries = 1.0 - _find_boundaries(channel)
        if np.sum(boundaries == 0) == 0:
            max_distance = min(dim * vs / 2 for dim, vs in zip(channel.shape, voxel_size))
            sign = -1 if np.sum(channel) == 0 else 1
            distances = sign * np.ones(channel.shape, dtype=np.float32) * max_distance
        else:
            distances = distance_transform_edt(
                boundaries, sampling=tuple(float(v) / 2 for v in voxel_size)
            ).astype(np.float32)
            distances = distances[(slice(None, None, 2),) * len(voxel_size)]
            distances[channel == 0] = -distances[channel == 0]
        all_distances[ii] = np.tanh(distances / scale)
    return all_distances


def original_balance_weights(label_data, num_classes, masks, clipmin=0.05, clipmax=0.95):
    # per channel slab (slab=(1, -1, -1, -1))
    error_scale = np.ones(label_data.shape, dtype=np.float32)
    for mask in masks:
        error_scale = error_scale * mask
    for c in range(label_data.shape[0]):
        scale_slab = error_scale[c : c + 1]
        labels_slab = label_data[c : c + 1]
        masked_in = scale_slab.sum()
        classes, counts = np.unique(labels_slab[np.nonzero(scale_slab)], return_counts=True)
        fracs = np.zeros(num_classes, dtype=np.float32)
        if masked_in > 0:
            fracs[classes] = counts / masked_in
        np.clip(fracs, clipmin, clipmax, fracs)
        w_sparse = 1.0 / float(num_classes) / fracs
        w = np.zeros(num_classes)
        w[classes] = w_sparse[classes]
        scale_slab *= np.take(w, labels_slab.astype(np.int64))
    return error_scale


def original_distance_mask(distances, mask, voxel_size, scale, epsilon=0.05, threshold=0.8):
    mask_output = mask.copy()
    for i, (channel_distance, channel_mask) in enumerate(zip(distances, mask_output)):
        tmp = np.zeros(np.array(channel_mask.shape) + 2, dtype=channel_mask.dtype)
        slices = tmp.ndim * (slice(1, -1),)
        tmp[slices] = channel_mask
        boundary_distance = np.tanh(distance_transform_edt(tmp, sampling=voxel_size)[slices] / scale)
        near = np.clip(abs(channel_distance) + epsilon, 0, threshold) >= boundary_distance
        mask_output[i][near] = 0
    return mask_output


def original_target_and_weight(gt, voxel_size, scale):
    target = original_process(gt, voxel_size, scale)
    mask = np.ones_like(gt, dtype=np.float32)
    weight = original_balance_weights(gt, 2, [mask])
    weight = weight * original_distance_mask(target, mask, voxel_size, scale)
    return target, weight


# --- timing ------------------------------------------------------------------------------------
def timed(fn, repeats):
    fn()  # warm-up (page faults, lazy imports)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[132, 40])
    args = parser.parse_args()
    env = dict(cpus=os.cpu_count(), machine=platform.machine(), voxel_size=VOXEL_SIZE)

    for size in args.sizes:
        gt = make_gt(size)
        results = {}
        results_min = {}
        mask = np.ones(gt.shape[1:], np.uint8)
        mask[: size // 4] = 0  # a quarter of the block unannotated
        cases = {
            "edt": (1, None),
            "edt_2threads": (2, None),
            "edt_partial_mask": (1, mask),
        }
        for name, (threads, m) in cases.items():
            p = DistancePredictor(["a"], SCALE_FACTOR, mask_distances=True, num_threads=threads)
            t_target, min_target = timed(lambda: p.create_target(gt, VOXEL_SIZE), args.repeats)
            target = p.create_target(gt, VOXEL_SIZE)
            t_weight, min_weight = timed(
                lambda: p.create_weight(gt, target, m, VOXEL_SIZE), args.repeats
            )
            results[name] = t_target + t_weight
            results_min[name] = min_target + min_weight
            print(json.dumps(dict(bench="distance_target", method=name, shape=[size] * 3,
                                  channels=1, target_s=round(t_target, 4),
                                  weight_s=round(t_weight, 4),
                                  total_s=round(t_target + t_weight, 4),
                                  total_min_s=round(min_target + min_weight, 4),
                                  repeats=args.repeats, **env)), flush=True)
        t_target, min_target = timed(
            lambda: original_process(gt, VOXEL_SIZE, SCALE_FACTOR), args.repeats
        )
        target = original_process(gt, VOXEL_SIZE, SCALE_FACTOR)

        def weight():
            w = original_balance_weights(gt, 2, [np.ones_like(gt, dtype=np.float32)])
            return w * original_distance_mask(target, np.ones_like(gt, np.float32), VOXEL_SIZE,
                                              SCALE_FACTOR)

        t_weight, min_weight = timed(weight, args.repeats)
        results["scipy_2x_original"] = t_target + t_weight
        results_min["scipy_2x_original"] = min_target + min_weight
        print(json.dumps(dict(bench="distance_target", method="scipy_2x_original",
                              shape=[size] * 3, channels=1, target_s=round(t_target, 4),
                              weight_s=round(t_weight, 4), total_s=round(t_target + t_weight, 4),
                              total_min_s=round(min_target + min_weight, 4),
                              repeats=args.repeats, **env)), flush=True)
        # agreement of the two targets (they differ by design: centre-to-centre vs half-voxel)
        ours = DistancePredictor(["a"], SCALE_FACTOR).create_target(gt, VOXEL_SIZE)
        print(json.dumps(dict(bench="distance_target", shape=[size] * 3,
                              speedup_edt_vs_original=round(
                                  results["scipy_2x_original"] / results["edt"], 1),
                              speedup_min_edt_vs_original=round(
                                  results_min["scipy_2x_original"] / results_min["edt"], 1),
                              sign_agreement=float(np.mean(np.sign(ours) == np.sign(target))),
                              max_abs_target_diff=float(np.abs(ours - target).max()))),
              flush=True)


if __name__ == "__main__":
    main()
