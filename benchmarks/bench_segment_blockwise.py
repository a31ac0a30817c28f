"""Blockwise vs whole-volume instance segmentation (mutex watershed of affinities) on the same
stored prediction: time, and equality (VOI split/merge and adapted Rand error of the blockwise
result against the whole-volume one, ``equal`` when they are the same partition).

Compares, per volume, block size and worker count: ``whole`` (the post-processor on the whole
array in memory), ``mutex`` (DaCapo's blockwise path: fragments per block with context, stitched
by a mutex watershed of the fragment overlap graph) and ``union`` (the previous stitching:
union-find of overlapping fragments, kept for comparison). Volumes: dense touching cells (3D,
offsets 1 and 3) and the bundled ISBI 2012 neurons (2D sections, offsets 1, 3 and 9), each with
noisy affinities derived from the labels (``noisy_affinities``).

    python benchmarks/bench_segment_blockwise.py           # 96³ cells, 2 x 256² ISBI, 1-2 workers
    python benchmarks/bench_segment_blockwise.py --quick   # smoke sizes (seconds)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ISBI = REPO.parent / "shared" / "data" / "isbi2012"


def volumes(size: int, isbi_crop: int, isbi_sections: int):
    from dacapo.experiments.tasks.post_processors.watershed_post_processor import (
        assign_to_nearest,
    )
    from dacapo.utils.synthetic import make_cells

    _, cells = make_cells((size,) * 3, seed=3, num_objects=max(8, size // 4))
    offsets = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (3, 0, 0), (0, 3, 0), (0, 0, 3)]
    yield "cells3d", assign_to_nearest(cells, cells == 0), offsets
    if ISBI.is_dir():
        from dacapo.utils.isbi import read_isbi2012, section_instances

        _, interior = read_isbi2012(ISBI, sections=range(isbi_sections))
        labels = section_instances(interior[:, :isbi_crop, :isbi_crop])
        offsets = [(0, 1, 0), (0, 0, 1), (0, 3, 0), (0, 0, 3), (0, 9, 0), (0, 0, 9)]
        yield "isbi2012", labels, offsets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes")
    parser.add_argument("--size", type=int, default=96, help="cells volume edge (voxels)")
    parser.add_argument("--isbi-crop", type=int, default=256)
    parser.add_argument("--isbi-sections", type=int, default=2)
    parser.add_argument("--blocks", type=int, nargs="+", default=[32, 64],
                        help="block edges (voxels, in-plane for ISBI)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--noise", type=float, default=0.1)
    args = parser.parse_args()
    if args.quick:
        args.size, args.isbi_crop, args.isbi_sections = 32, 96, 1
        args.blocks, args.workers = [24], [1]

    from funlib.persistence import open_ds

    from dacapo.blockwise.postprocess_task import post_process_blockwise, post_processor_of
    from dacapo.blockwise.runner import run_tasks
    from dacapo.blockwise.scheduler import as_array_config
    from dacapo.blockwise.functions import post_processor as post_processor_function
    from dacapo.blockwise.segment import segment_tasks
    from dacapo.compute_context import LocalTorch
    from dacapo.experiments.tasks import AffinitiesTaskConfig
    from dacapo.experiments.tasks.evaluators import instance_scores
    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.utils.synthetic import noisy_affinities, write_array
    from funlib.geometry import Coordinate

    tmp = Path(tempfile.mkdtemp(prefix="bench_segment_"))
    for name, labels, offsets in volumes(args.size, args.isbi_crop, args.isbi_sections):
        dims = labels.ndim
        affs = noisy_affinities(labels, offsets, noise=args.noise, seed=1)
        container = tmp / f"{name}.zarr"
        write_array(container, "prediction", affs, (1,) * dims, (0,) * dims)
        config = AffinitiesTaskConfig(name=name, neighborhood=offsets, biases=[0.5])
        post_processor = post_processor_of(config)
        parameters = post_processor.parameters_by_id(0)
        start = time.perf_counter()
        whole = post_processor.process(parameters, affs)
        whole_s = time.perf_counter() - start
        base = {"bench": "segment_blockwise", "volume": name, "shape": list(labels.shape),
                "offsets": [list(o) for o in offsets], "noise": args.noise,
                "context": list(post_processor.context(dims))}
        emit({**base, "method": "whole", "seconds": round(whole_s, 3),
              "segments": int(len(np.unique(whole)))})
        for edge in args.blocks:
            block = tuple(edge if c else labels.shape[d]
                          for d, c in enumerate(post_processor.context(dims)))
            for workers in args.workers:
                for method in ("mutex", "union"):
                    if method == "union" and workers > 1:
                        continue
                    dataset = f"seg_{method}_{edge}_{workers}"
                    context = LocalTorch(device="cpu", distribute_workers=workers > 1)
                    start = time.perf_counter()
                    if method == "mutex":
                        post_process_blockwise(config, parameters, (container, "prediction"),
                                               (container, dataset), block, num_workers=workers,
                                               compute_context=context)
                    else:
                        voxel = Coordinate((1,) * dims)
                        array = open_ds(str(container / "prediction"))
                        task = segment_tasks(
                            post_processor_function,
                            as_array_config((container, "prediction")),
                            LocalArrayIdentifier(container, dataset), array.roi, voxel,
                            Coordinate(block), Coordinate(post_processor.context(dims)),
                            parameters={"task_config": config, "parameters": parameters},
                        )
                        run_tasks([task], num_workers=workers, compute_context=context,
                                  progress=False)
                    seconds = time.perf_counter() - start
                    out = open_ds(str(container / dataset))
                    blockwise = out[out.roi]
                    scores = instance_scores(blockwise, whole)
                    sizes = np.unique(blockwise, return_counts=True)[1]
                    emit({**base, "method": method, "block": list(block), "workers": workers,
                          "seconds": round(seconds, 3),
                          "slowdown_vs_whole": round(seconds / max(whole_s, 1e-9), 2),
                          "segments": int(len(sizes)), "largest_segment": int(sizes.max()),
                          "largest_whole": int(np.unique(whole, return_counts=True)[1].max()),
                          "voi_split": round(scores.voi_split, 4),
                          "voi_merge": round(scores.voi_merge, 4),
                          "adapted_rand_error": round(scores.adapted_rand_error, 4),
                          "equal": bool(scores.voi_split + scores.voi_merge < 1e-9)})


if __name__ == "__main__":
    main()
