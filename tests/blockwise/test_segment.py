"""segment_blockwise / run_blockwise with user functions: instance ids consistent across
blocks (unique ids per block, union-find over block borders, a global relabel pass)."""

import json
from pathlib import Path

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi
from funlib.persistence import open_ds, prepare_ds
from scipy import ndimage

import dacapo.blockwise
from dacapo.blockwise import Bookkeeping, run_blockwise, segment_blockwise
from dacapo.blockwise.segment import overlap_merges
from dacapo.compute_context import LocalTorch

VOXEL = Coordinate(4, 4, 4)
BLOCK = Roi((0, 0, 0), (64, 64, 64))  # 16^3 voxels
IN_PROCESS = LocalTorch(device="cpu")


def _objects(shape=(40, 44, 36)):
    """Foreground with objects that cross block borders: a bar through every block along x, a
    U whose arms meet only far from the border they cross, a ring and some blobs."""
    mask = np.zeros(shape, dtype=bool)
    mask[5:8, 5:8, :] = True  # bar through all blocks along x
    mask[20:23, 2:30, 10:13] = True  # U: two arms along y ...
    mask[20:23, 2:30, 24:27] = True
    mask[20:23, 27:30, 10:27] = True  # ... joined at y ~ 28 (other side of the y=16 border)
    zz, yy, xx = np.indices(shape)
    ring = np.abs(np.hypot(yy - 30, xx - 18) - 9) < 1.5
    mask |= ring & (np.abs(zz - 33) < 2)
    rng = np.random.default_rng(3)
    for _ in range(12):
        c = rng.integers(0, shape)
        mask |= (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 < rng.integers(4, 16)
    return mask.astype(np.float32)


def _write(path, data, offset=(8, 12, 0)):
    array = prepare_ds(str(path), shape=data.shape, offset=offset, voxel_size=VOXEL,
                       dtype=data.dtype, mode="w")
    array[array.roi] = data
    return array


def _same_partition(a, b) -> bool:
    """Equal up to renaming ids (0 stays background)."""
    if not np.array_equal(a == 0, b == 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


@pytest.mark.parametrize(
    "context, num_workers",
    [((8, 8, 8), 1), ((0, 0, 0), 1), pytest.param((8, 8, 8), 2, marks=pytest.mark.slow)],
    ids=["context", "faces", "context-2-workers"],
)
def test_objects_crossing_blocks_get_one_id(tmp_path, context, num_workers):
    data = _objects()
    source = _write(tmp_path / "in.zarr/mask", data)
    segment_blockwise(
        "dacapo.blockwise.connected_components_function", Coordinate(context), source.roi, None,
        BLOCK, num_workers=num_workers, progress=False,
        compute_context=LocalTorch(device="cpu", distribute_workers=num_workers > 1),
        input_array_identifier=(tmp_path / "in.zarr", "mask"),
        output_array_identifier=(tmp_path / "out.zarr", "seg"),
        parameters={"threshold": 0.5},
    )
    out = open_ds(str(tmp_path / "out.zarr/seg"))
    assert out.roi == source.roi and out.voxel_size == VOXEL and out.dtype == np.uint64
    labels = out[out.roi]
    reference, count = ndimage.label(data > 0.5)
    assert count > 5
    assert _same_partition(labels, reference)
    # final ids are consecutive
    assert set(np.unique(labels)) == set(range(count + 1))
    # the bar and the U each got one id although they cross several blocks
    assert len(np.unique(labels[5:8, 5:8, :])) == 1
    assert len(np.unique(labels[20:23, 2:30, 10:13])) == 1
    # fragments are removed after relabelling; the bookkeeping shows every block done
    book = Bookkeeping.for_array(tmp_path / "out.zarr", "seg")
    assert not (tmp_path / "out.zarr/.blockwise/seg__segment/fragments.zarr").exists()
    assert len(book.done_indices()) == 3 * 3 * 3


def test_overlap_rule():
    """A label seen whole by one block and in two pieces by the other joins both pieces;
    labels that only graze each other are not merged."""
    mine = np.zeros((4, 10), dtype=np.uint64)
    theirs = np.zeros((4, 10), dtype=np.uint64)
    mine[:, :] = 1
    theirs[:, :4] = 7
    theirs[:, 6:] = 8
    assert overlap_merges(mine, theirs, 0.5).tolist() == [[1, 7], [1, 8]]
    mine = np.zeros((4, 10), dtype=np.uint64)
    mine[:, :5] = 1
    mine[:, 5:] = 2
    theirs = np.zeros((4, 10), dtype=np.uint64)
    theirs[:, :6] = 7  # overlaps 2 by one column out of five
    theirs[:, 6:] = 8
    assert overlap_merges(mine, theirs, 0.5).tolist() == [[1, 7], [2, 8]]


def _fill_block(block, output_container, output_dataset, value, record):
    """A user block function (for run_blockwise)."""
    array = open_ds(f"{output_container}/{output_dataset}", mode="r+")
    roi = block.write_roi.intersect(array.roi)
    array[roi] = value + int(block.write_roi.offset[0])
    with open(record, "a") as f:
        f.write(json.dumps(list(block.write_roi.offset)) + "\n")


def test_run_blockwise_worker_file_and_function(tmp_path):
    data = np.linspace(-1, 1, 20 * 20 * 20, dtype=np.float32).reshape(20, 20, 20)
    source = _write(tmp_path / "in.zarr/x", data, offset=(0, 0, 0))
    assert run_blockwise(
        "dacapo.blockwise.threshold_worker", source.roi, BLOCK, BLOCK,
        compute_context=IN_PROCESS, progress=False, output_dtype="uint8",
        input_container=str(tmp_path / "in.zarr"), input_dataset="x",
        output_container=str(tmp_path / "out.zarr"), output_dataset="mask", threshold=0.25,
    )
    mask = open_ds(str(tmp_path / "out.zarr/mask"))
    assert mask.voxel_size == VOXEL and mask.roi == source.roi
    assert np.array_equal(mask[mask.roi], (data > 0.25).astype(np.uint8))

    scores = np.stack([data, -data, np.zeros_like(data)])
    _write(tmp_path / "in.zarr/scores", scores, offset=(0, 0, 0))
    run_blockwise(
        "dacapo.blockwise.argmax_worker", source.roi, BLOCK, BLOCK,
        compute_context=IN_PROCESS, progress=False, output_dtype="uint8",
        input_container=str(tmp_path / "in.zarr"), input_dataset="scores",
        output_container=str(tmp_path / "out.zarr"), output_dataset="classes",
    )
    classes = open_ds(str(tmp_path / "out.zarr/classes"))
    assert np.array_equal(classes[classes.roi], scores.argmax(axis=0).astype(np.uint8))

    # a function; a rerun with the same job skips the completed blocks
    record = tmp_path / "record.jsonl"
    kwargs = dict(
        compute_context=IN_PROCESS, progress=False, output_dtype="int32",
        output_container=str(tmp_path / "out.zarr"), output_dataset="filled", value=5,
        record=str(record), voxel_size=VOXEL,
    )
    run_blockwise(_fill_block, source.roi, BLOCK, BLOCK, **kwargs)
    assert len(record.read_text().splitlines()) == 2 * 2 * 2
    run_blockwise(_fill_block, source.roi, BLOCK, BLOCK, **kwargs)
    assert len(record.read_text().splitlines()) == 2 * 2 * 2
    filled = open_ds(str(tmp_path / "out.zarr/filled"))
    assert set(np.unique(filled[filled.roi])) == {5, 69}


def test_watershed_function(tmp_path):
    """Mutex watershed of affinities, blockwise: two objects separated by a boundary plane,
    each crossing block borders, get one id each."""
    pytest.importorskip("mwatershed")
    shape = (24, 24, 24)
    affinities = np.ones((3,) + shape, dtype=np.float32)
    affinities[0, 11] = 0.0  # no affinity across z = 11 | 12
    affinities[..., :2] = 0.0  # background slab (x < 2)
    source = _write(tmp_path / "in.zarr/affs", affinities, offset=(0, 0, 0))
    segment_blockwise(
        str(Path(dacapo.blockwise.__file__).parent / "watershed_function.py"), Coordinate(8, 8, 8), source.roi, None, BLOCK,
        compute_context=IN_PROCESS, progress=False,
        input_array_identifier=(tmp_path / "in.zarr", "affs"),
        output_array_identifier=(tmp_path / "out.zarr", "seg"),
        bias=0.5, threshold=0.5,
    )
    out = open_ds(str(tmp_path / "out.zarr/seg"))
    labels = out[out.roi]
    assert np.all(labels[:, :, :2] == 0)
    upper, lower = np.unique(labels[:12, :, 2:]), np.unique(labels[12:, :, 2:])
    assert len(upper) == 1 and len(lower) == 1 and upper[0] != lower[0] and 0 not in (upper[0], lower[0])


class _LabelComponents:
    """A stand-in instance post-processor: connected components of channel 0 > threshold."""

    def process(self, threshold, prediction):
        labels, _ = ndimage.label(prediction[0] > threshold)
        return labels.astype(np.uint64)


class _InstanceTaskConfig:
    """A stand-in task config whose task has that post-processor (``apply``'s instance path
    builds the post-processor from the run's task config in each worker)."""

    def task_type(self, config):
        class Task:
            post_processor = _LabelComponents()

        return Task()

    def __repr__(self):
        return "_InstanceTaskConfig()"


def test_instance_post_processing_of_an_encoded_prediction(tmp_path):
    """``apply``'s path for instance post-processors: the post-processor runs per block (with
    context) on the decoded prediction and the ids are relabelled across blocks."""
    from dacapo.blockwise import encode, encoding, run_tasks
    from dacapo.blockwise.functions import post_processor
    from dacapo.blockwise.scheduler import as_array_config, as_identifier
    from dacapo.blockwise.segment import segment_tasks

    distances = _objects() * 1.6 - 0.8  # tanh-like: +0.8 inside, -0.8 outside
    enc = encoding(np.uint8, (-1.0, 1.0))
    source = _write(tmp_path / "pred.zarr/prediction", encode(distances[None], np.uint8, enc))
    source._source_data.attrs.update(enc)
    relabel = segment_tasks(
        post_processor, as_array_config((tmp_path / "pred.zarr", "prediction")),
        as_identifier((tmp_path / "pred.zarr", "instances")), source.roi, VOXEL, BLOCK.shape,
        Coordinate(8, 8, 8), parameters={"task_config": _InstanceTaskConfig(), "parameters": 0.0},
    )
    run_tasks([relabel], compute_context=IN_PROCESS, progress=False)
    labels = open_ds(str(tmp_path / "pred.zarr/instances"))[source.roi]
    reference, count = ndimage.label(distances > 0)
    assert _same_partition(labels, reference) and labels.max() == count
