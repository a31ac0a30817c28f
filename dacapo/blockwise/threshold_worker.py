"""A worker file for ``run_blockwise``: ``output = input > threshold`` (uint8), per block.

    dacapo run-blockwise -wf dacapo.blockwise.threshold_worker -tr "[0:800,0:800,0:800]" -dt uint8 \\
        -wr "[256,256,256]" -rr "[256,256,256]" --input_container in.zarr \\
        --input_dataset prediction --output_container out.zarr --output_dataset mask \\
        --threshold 0.0

Predictions stored as integers (``scale_factor``/``add_offset`` attributes) are decoded first,
so the threshold is in prediction units (e.g. tanh distances in [-1, 1]).
"""

from __future__ import annotations

from pathlib import Path


def setup(input_container, input_dataset, output_container, output_dataset, **_):
    from funlib.persistence import open_ds

    return {
        "input_array": open_ds(str(Path(input_container) / input_dataset), mode="r"),
        "output_array": open_ds(str(Path(output_container) / output_dataset), mode="r+"),
    }


def process_block(block, input_array, output_array, threshold: float = 0.0, **_):
    from dacapo.blockwise.functions import read

    roi = block.write_roi.intersect(output_array.roi)
    if roi.empty:
        return
    data = read(input_array, roi)
    output_array[roi] = (data > float(threshold)).astype(output_array.dtype)


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
