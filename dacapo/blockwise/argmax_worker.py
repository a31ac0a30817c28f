"""A worker file for ``run_blockwise``: ``output = argmax over channels of input`` (the class
index, in the output's dtype), per block.

    dacapo run-blockwise -wf dacapo.blockwise.argmax_worker -tr "[0:800,0:800,0:800]" -dt uint8 \\
        -wr "[256,256,256]" -rr "[256,256,256]" --input_container in.zarr \\
        --input_dataset prediction --output_container out.zarr --output_dataset classes
"""

from __future__ import annotations

from dacapo.blockwise.threshold_worker import setup  # noqa: F401  (same arrays)


def process_block(block, input_array, output_array, **_):
    from dacapo.blockwise.functions import read

    roi = block.write_roi.intersect(output_array.roi)
    if roi.empty:
        return
    data = read(input_array, roi)
    output_array[roi] = data.argmax(axis=0).astype(output_array.dtype)


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
