"""Validation's post-processing sweep in memory vs blockwise (``validation_max_voxels``): time,
peak memory and the scores, on the same stored prediction.

A generated 3D volume of touching cells and noisy affinities derived from its labels (offsets 1
and 3) is stored once; then, each in its own process (so that the peak RSS is its own), the
sweep (mutex watershed biases) runs ``in_memory`` (read everything, post-process and evaluate
each bias: what ``validate_run`` does below the budget) or ``blockwise`` (post-process each bias
blockwise into the array store and score it from per-block contingency tables:
``dacapo.blockwise.validation.sweep_blockwise``). ``max_abs_difference`` compares the VOI and
adapted Rand scores of the two (not 0 where blockwise stitching differs from the whole volume).

    python benchmarks/bench_validation_sweep.py            # 128³, blocks of at most 64³
    python benchmarks/bench_validation_sweep.py --quick    # 40³, blocks of at most 20³
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_bytes, use_temporary_stores  # noqa: E402

OFFSETS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (3, 0, 0), (0, 3, 0), (0, 0, 3)]
BIASES = [0.3, 0.5, 0.7]


def write_volume(directory: Path, size: int) -> Path:
    from dacapo.experiments.tasks.post_processors.watershed_post_processor import (
        assign_to_nearest,
    )
    from dacapo.utils.synthetic import make_cells, noisy_affinities, write_array

    _, cells = make_cells((size,) * 3, seed=3, num_objects=max(8, size**3 // 20000))
    labels = assign_to_nearest(cells, cells == 0)
    container = directory / "volume.zarr"
    write_array(container, "labels", labels.astype(np.uint64), (1, 1, 1), (0, 0, 0))
    write_array(container, "prediction", noisy_affinities(labels, OFFSETS, noise=0.1, seed=1),
                (1, 1, 1), (0, 0, 0))
    return container


def sweep(container: Path, mode: str, max_voxels: int) -> dict:
    from funlib.persistence import open_ds

    from dacapo.blockwise.validation import sweep_blockwise
    from dacapo.experiments.tasks import AffinitiesTaskConfig
    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.store.create_store import create_array_store

    config = AffinitiesTaskConfig(name="bench", neighborhood=OFFSETS, biases=BIASES)
    task = config.task_type(config)
    parameters = list(task.post_processor.enumerate_parameters())
    prediction = open_ds(str(container / "prediction"))
    gt = open_ds(str(container / "labels"))
    start = time.perf_counter()
    if mode == "in_memory":
        data, labels = prediction[prediction.roi], gt[gt.roi]
        scores = []
        for p in parameters:
            result = task.evaluator.evaluate(task.post_processor.process(p, data), labels,
                                             voxel_size=(1, 1, 1)).to_dict()
            scores.append([result[c] for c in task.evaluator.criteria])
    else:
        run = SimpleNamespace(name="bench", task=task, config=SimpleNamespace(task_config=config))
        dataset = SimpleNamespace(name="val", gt=gt, mask=None)
        scores, _ = sweep_blockwise(run, dataset, LocalArrayIdentifier(container, "prediction"),
                                    prediction, parameters, 0, create_array_store(), max_voxels,
                                    baselines=False)
    return {"seconds": round(time.perf_counter() - start, 3), "scores": scores,
            "peak_rss_mb": round(peak_rss_bytes() / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes")
    parser.add_argument("--size", type=int, default=128, help="volume edge (voxels)")
    parser.add_argument("--max-voxels", type=int, default=64**3)
    parser.add_argument("--child", nargs=2, metavar=("CONTAINER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.size, args.max_voxels = 40, 20**3
    if args.child:
        print(json.dumps(sweep(Path(args.child[0]), args.child[1], args.max_voxels)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench_validation_sweep_"))
    use_temporary_stores(tmp)
    container = write_volume(tmp, args.size)
    results = {}
    for mode in ("in_memory", "blockwise"):
        out = subprocess.run([sys.executable, __file__, "--child", str(container), mode,
                              "--max-voxels", str(args.max_voxels)],
                             capture_output=True, text=True, check=True)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        emit({"bench": "validation_sweep", "mode": mode, "volume": [args.size] * 3,
              "max_voxels": args.max_voxels, "biases": BIASES,
              "seconds": results[mode]["seconds"], "peak_rss_mb": results[mode]["peak_rss_mb"]})
    difference = np.abs(np.asarray(results["in_memory"]["scores"], dtype=float)
                        - np.asarray(results["blockwise"]["scores"], dtype=float))
    emit({"bench": "validation_sweep", "what": "comparison",
          "max_abs_difference": float(np.nanmax(difference)),
          "blockwise_over_in_memory_time": round(results["blockwise"]["seconds"]
                                                 / max(results["in_memory"]["seconds"], 1e-9), 2)})


if __name__ == "__main__":
    main()
