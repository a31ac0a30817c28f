"""Reading a training-sized ROI of derived arrays: ``read(array, roi)`` (what the trainer,
predictor and validation use) vs the lazy dask view ``array[roi]`` vs the bare zarr read of the
stored data underneath.

Arrays as the tutorial builds them on a generated volume: raw normalised by
``IntensitiesArrayConfig`` over uint8 zarr, gt binarised by ``BinarizeArrayConfig`` over uint64
labels, and a two-channel ``ConcatArrayConfig`` of binarised labels. Each line gives CPU ms per
read for the three ways and ``overhead_vs_zarr`` (read ÷ bare zarr; 1.0 = no overhead).

    .venv/bin/python benchmarks/bench_array_reads.py [--roi 140] [--chunks 32 64] [--repeats 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import emit


def cpu_ms(function, repeats: int) -> float:
    function()
    start = time.process_time()
    for _ in range(repeats):
        function()
    return (time.process_time() - start) / repeats * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roi", type=int, default=140, help="ROI edge (voxels)")
    parser.add_argument("--volume", type=int, default=192)
    parser.add_argument("--chunks", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)

    import numpy as np
    import zarr
    from funlib.geometry import Coordinate, Roi

    from dacapo.experiments.datasplits.datasets.arrays import (
        BinarizeArrayConfig,
        ConcatArrayConfig,
        IntensitiesArrayConfig,
        ZarrArrayConfig,
    )
    from dacapo.experiments.datasplits.datasets.arrays.array_utils import read
    from dacapo.utils.synthetic import write_cells

    voxel = Coordinate(8, 8, 8)
    with tempfile.TemporaryDirectory(prefix="dacapo-bench-") as tmp:
        for chunks in args.chunks:
            path = Path(tmp) / f"cells{chunks}.zarr"
            write_cells(path, (args.volume,) * 3, voxel_size=tuple(voxel), seed=1, chunks=chunks)
            raw = ZarrArrayConfig("raw", path, "raw")
            labels = ZarrArrayConfig("labels", path, "labels")
            cases = {
                "intensities": (IntensitiesArrayConfig("norm", raw, min=0.0, max=255.0), "raw"),
                "binarize": (BinarizeArrayConfig("gt", labels, [("cell", [])]), "labels"),
                "concat": (
                    ConcatArrayConfig("cat", ["a", "b"], {
                        "a": BinarizeArrayConfig("a", labels, [("a", [1, 2, 3])]),
                        "b": BinarizeArrayConfig("b", labels, [("b", [])]),
                    }),
                    "labels",
                ),
            }
            begin = (args.volume - args.roi) // 2
            roi = Roi(voxel * begin, voxel * args.roi)
            stored = zarr.open_group(zarr.DirectoryStore(str(path)), mode="r")  # as DaCapo opens it
            for kind, (config, dataset) in cases.items():
                array = config.array()
                sl = (slice(begin, begin + args.roi),) * 3
                zarr_array = stored[dataset]
                bare = cpu_ms(lambda: zarr_array[sl], args.repeats)
                direct = cpu_ms(lambda: read(array, roi), args.repeats)
                through_dask = cpu_ms(lambda: np.asarray(array[roi]), args.repeats)
                emit({
                    "bench": "array_reads", "array": kind, "chunks": chunks, "roi": args.roi,
                    "read_ms": round(direct, 2), "dask_view_ms": round(through_dask, 2),
                    "bare_zarr_ms": round(bare, 2),
                    "overhead_vs_zarr": round(direct / bare, 2),
                    "speedup_vs_dask": round(through_dask / direct, 1),
                })


if __name__ == "__main__":
    main()
