"""Blockwise instance segmentation with ids that agree across blocks.

Three chained tasks:

1. ``SegmentTask`` (blocks read their write ROI grown by ``context``; neighbouring blocks never
   run at the same time, daisy's ``read_write_conflict``): the segment function labels the read
   ROI; the labels inside the write ROI get ids unique to the block
   (``block's linear index * voxels per block + 1, 2, ...``) and are written to a fragments
   array. The block then records which of its fragments continue in neighbouring blocks that are
   already done (earlier in this run or in an earlier run):
   - with context: where its own labels (computed into the neighbour's write ROI) overlap the
     neighbour's fragments there; a pair is merged when the overlap covers at least
     ``min_overlap`` of the smaller of the two in that region (so that an object seen whole by
     one block and in pieces by the other is joined, and labels that only graze are not);
   - without context: fragments touching across the shared face are merged
     (connected-components semantics).
   Neighbours done later do the same with this block, so every touching pair is looked at once.
   With ``mutex`` (segmentations that are not transitive, e.g. the mutex watershed) the block
   records instead every overlap fraction and which of its own fragments touch, and the merge
   is a mutex watershed of that fragment graph (``fragment_graph``).
2. ``MergeTask`` (one block covering everything, after all of 1.): union-find (connected
   components of the merge graph) over every fragment, or the mutex watershed of the fragment
   graph → consecutive final ids (1, 2, ..., ordered by each object's smallest fragment id),
   saved as a lookup table.
3. ``RelabelTask`` (blocks without context): fragments → final ids, written to the output.

All three record completed blocks, so the whole chain resumes after a crash.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Optional

import numpy as np
from funlib.geometry import Coordinate, Roi

from dacapo.experiments.datasplits.datasets.arrays.array_utils import read as read_array

from .arrays import array_exists, crop, open_output, prepare_output, write_cropped
from .bookkeeping import Bookkeeping, atomic_write_bytes
from .fragment_graph import agglomerate, touching_pairs
from .loading import describe, load_function
from .task import BlockwiseTask, WorkerContext, context_rois

logger = logging.getLogger(__name__)

SEGMENT_FUNCTION_NAMES = ("segment_function", "segment", "process")


def _npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def overlaps(mine: np.ndarray, theirs: np.ndarray):
    """``(pairs uint64 (n, 2) of (mine, theirs) ids that overlap, the fraction of the smaller
    of the two (voxels in this region) that the overlap covers, the overlap in voxels)``."""
    both = (mine > 0) & (theirs > 0)
    if not both.any():
        return np.zeros((0, 2), dtype=np.uint64), np.zeros(0), np.zeros(0)
    pairs, counts = np.unique(np.stack([mine[both], theirs[both]]), axis=1, return_counts=True)
    ids_a, sizes_a = np.unique(mine[mine > 0], return_counts=True)
    ids_b, sizes_b = np.unique(theirs[theirs > 0], return_counts=True)
    size_a = sizes_a[np.searchsorted(ids_a, pairs[0])]
    size_b = sizes_b[np.searchsorted(ids_b, pairs[1])]
    return pairs.T.astype(np.uint64), counts / np.minimum(size_a, size_b), counts.astype(float)


def overlap_merges(mine: np.ndarray, theirs: np.ndarray, min_overlap: float) -> np.ndarray:
    """Pairs ``(mine, theirs)`` of ids whose overlap covers at least ``min_overlap`` of the
    smaller of the two (voxels in this region)."""
    pairs, fractions, _ = overlaps(mine, theirs)
    return pairs[fractions >= min_overlap]


def touching_merges(mine_face: np.ndarray, their_face: np.ndarray) -> np.ndarray:
    """Pairs of nonzero ids facing each other across a block face."""
    both = (mine_face > 0) & (their_face > 0)
    if not both.any():
        return np.zeros((0, 2), dtype=np.uint64)
    return np.unique(np.stack([mine_face[both], their_face[both]]), axis=1).T.astype(np.uint64)


class SegmentTask(BlockwiseTask):
    """Segment ``input`` with ``segment_function(input_array, block, **parameters)`` (labels
    of ``block.read_roi``) into per-block fragments, recording merges with done neighbours (or,
    with ``mutex``, the edges of the fragment graph, see ``fragment_graph``)."""

    def __init__(
        self,
        segment_function,
        input_array_config,
        output,
        output_roi: Roi,
        voxel_size: Coordinate,
        block_shape: Coordinate,
        context: Coordinate,
        parameters: Optional[dict] = None,
        min_overlap: float = 0.5,
        mutex: bool = False,
        task_id: str = "segment",
        upstream_tasks=(),
        max_retries: int = 2,
        timeout: Optional[float] = None,
    ):
        context = Coordinate(context)
        super().__init__(
            task_id,
            **context_rois(output_roi, block_shape, context),
            read_write_conflict=True,
            # beside (not inside) the output's own bookkeeping, which the relabel task owns
            bookkeeping=Bookkeeping.for_array(output.container, output.dataset.strip("/") + "__segment"),
            upstream_tasks=upstream_tasks,
            max_retries=max_retries,
            timeout=timeout,
        )
        if not 0 < min_overlap <= 1:
            raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")
        self.segment_function = segment_function
        self.mutex = bool(mutex)
        self.input_array_config = input_array_config
        self.output = output
        self.output_roi = output_roi
        self.voxel_size = Coordinate(voxel_size)
        self.context = context
        self.parameters = dict(parameters or {})
        self.min_overlap = float(min_overlap)
        self.block_voxels = int(np.prod(Coordinate(block_shape) / self.voxel_size))

    # fragments live in the bookkeeping, next to the final output
    @property
    def fragments(self):
        from dacapo.store.array_store import LocalArrayIdentifier

        return LocalArrayIdentifier(self.bookkeeping.path("fragments.zarr"), "fragments")

    def fingerprint(self) -> dict:
        fingerprint = super().fingerprint()
        fingerprint.update(
            function=describe(self.segment_function),
            mutex=self.mutex,
            input=repr(self.input_array_config),
            parameters=repr(sorted(self.parameters.items())),
            min_overlap=self.min_overlap,
            output=[str(Path(self.output.container).resolve()), self.output.dataset],
        )
        return fingerprint

    def inputs(self) -> list:
        from .ownership import array_inputs

        return array_inputs(self.input_array_config)

    def prepare(self, resume: bool) -> bool:
        return prepare_output(
            self.fragments, self.output_roi, self.voxel_size, None, np.uint64, self.block_shape,
            resume=resume and array_exists(self.fragments), overwrite=True,
        )

    def setup(self, worker: WorkerContext) -> None:
        function, _ = load_function(self.segment_function, SEGMENT_FUNCTION_NAMES)
        self._resident_function = function
        self._resident_input = self.input_array_config.array("r")
        self._resident_fragments = open_output(self.fragments, "r+")

    def process_block(self, block) -> None:
        index = self.block_index(block)
        write = block.write_roi.intersect(self.output_roi)
        labels = np.asarray(
            self._resident_function(self._resident_input, block, **self.parameters)
        )
        expected = tuple(block.read_roi.shape / self.voxel_size)
        if labels.shape != expected:
            raise ValueError(
                f"the segment function returned shape {labels.shape} for block {index}, expected "
                f"{expected} (the block's read ROI {block.read_roi} in voxels)"
            )
        # ids unique to this block for the labels found in its write ROI
        core = crop(labels, block.read_roi, write, self.voxel_size)
        local_ids = np.unique(core)
        local_ids = local_ids[local_ids != 0]
        offset = np.uint64(self.linear_index(index)) * np.uint64(self.block_voxels)
        global_ids = offset + np.arange(1, len(local_ids) + 1, dtype=np.uint64)
        relabelled = np.zeros(labels.shape, dtype=np.uint64)
        if len(local_ids):
            positions = np.searchsorted(local_ids, labels)
            positions = np.clip(positions, 0, len(local_ids) - 1)
            found = local_ids[positions] == labels
            relabelled[found] = global_ids[positions[found]]
        write_cropped(
            self._resident_fragments, block.read_roi, relabelled, clip_roi=write
        )
        if self.mutex:
            pairs, weights, sizes, mutexes = self._graph(index, block, relabelled)
            record = _npz_bytes(ids=global_ids, pairs=pairs, weights=weights, sizes=sizes,
                                mutexes=mutexes)
        else:
            record = _npz_bytes(ids=global_ids, merges=self._merges(index, block, relabelled))
        atomic_write_bytes(self.bookkeeping.block_file(index), record)

    def _graph(self, index, block, relabelled: np.ndarray):
        """``(pairs, weights, sizes, mutexes)``: overlap fractions - 1/2 (and overlaps in
        voxels) of this block's fragments (computed into the write ROIs of done neighbours) with
        the neighbours' fragments there, and the pairs of this block's own fragments that
        touch."""
        own = crop(relabelled, block.read_roi, block.write_roi.intersect(self.output_roi),
                   self.voxel_size)
        pairs, weights, sizes = [np.zeros((0, 2), dtype=np.uint64)], [np.zeros(0)], [np.zeros(0)]
        for neighbour, _ in self._neighbours(index):
            if not self.bookkeeping.is_done(neighbour):
                continue  # it compares itself with this block when it runs
            region = block.read_roi.intersect(self.block_write_roi(neighbour)).intersect(
                self.output_roi
            )
            if region.empty:
                continue
            mine = crop(relabelled, block.read_roi, region, self.voxel_size)
            found, fractions, overlap = overlaps(mine, read_array(self._resident_fragments, region))
            pairs.append(found)
            weights.append(fractions - 0.5)
            sizes.append(overlap)
        return (np.concatenate(pairs), np.concatenate(weights), np.concatenate(sizes),
                touching_pairs(own))

    def _neighbours(self, index):
        grid = self.grid_shape
        for delta in itertools.product((-1, 0, 1), repeat=len(index)):
            if not any(delta):
                continue
            neighbour = tuple(i + d for i, d in zip(index, delta))
            if all(0 <= n < g for n, g in zip(neighbour, grid)):
                yield neighbour, delta

    def _merges(self, index, block, relabelled: np.ndarray) -> np.ndarray:
        merges = []
        fragments = self._resident_fragments
        own_write = block.write_roi.intersect(self.output_roi)
        for neighbour, delta in self._neighbours(index):
            if not self.bookkeeping.is_done(neighbour):
                continue  # it runs later and looks at this block then
            their_write = self.block_write_roi(neighbour).intersect(self.output_roi)
            if any(self.context):
                region = block.read_roi.intersect(their_write)
                if region.empty:
                    continue
                mine = crop(relabelled, block.read_roi, region, self.voxel_size)
                theirs = np.asarray(fragments[region])
                merges.append(overlap_merges(mine, theirs, self.min_overlap))
            elif sum(1 for d in delta if d) == 1:
                axis = next(i for i, d in enumerate(delta) if d)
                step = self.voxel_size[axis]
                if delta[axis] > 0:
                    mine_roi = _slab(own_write, axis, own_write.end[axis] - step, step)
                    their_roi = _slab(their_write, axis, their_write.begin[axis], step)
                else:
                    mine_roi = _slab(own_write, axis, own_write.begin[axis], step)
                    their_roi = _slab(their_write, axis, their_write.end[axis] - step, step)
                if mine_roi.empty or their_roi.empty:
                    continue
                mine = crop(relabelled, block.read_roi, mine_roi, self.voxel_size)
                theirs = read_array(fragments, their_roi)
                merges.append(touching_merges(mine, theirs))
        if not merges:
            return np.zeros((0, 2), dtype=np.uint64)
        return np.concatenate(merges).astype(np.uint64)


def _slab(roi: Roi, axis: int, begin: int, thickness: int) -> Roi:
    offset = list(roi.offset)
    shape = list(roi.shape)
    offset[axis] = begin
    shape[axis] = thickness
    return Roi(offset, shape)


class MergeTask(BlockwiseTask):
    """One block after every segment block: union-find over the recorded merges → the lookup
    table from fragment ids to consecutive final ids."""

    def __init__(self, segment: SegmentTask, task_id: str = "merge"):
        super().__init__(
            task_id,
            total_roi=segment.output_roi,
            read_roi=segment.output_roi,
            write_roi=segment.output_roi,
            bookkeeping=Bookkeeping(segment.bookkeeping.path("merge")),
            upstream_tasks=[segment],
            max_workers=1,
        )
        self.segment = segment

    @property
    def lut_path(self) -> Path:
        return self.segment.bookkeeping.path("lut.npz")

    def process_block(self, block) -> None:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        ids, merges, weights, sizes, mutexes = [], [], [], [], []
        for index in np.ndindex(*self.segment.grid_shape):
            with np.load(self.segment.bookkeeping.block_file(index)) as data:
                ids.append(data["ids"])
                merges.append(data["pairs"] if self.segment.mutex else data["merges"])
                if self.segment.mutex:
                    weights.append(data["weights"])
                    sizes.append(data["sizes"])
                    mutexes.append(data["mutexes"])
        ids = np.unique(np.concatenate(ids).astype(np.uint64)) if ids else np.zeros(0, np.uint64)
        merges = np.concatenate(merges).astype(np.uint64) if merges else np.zeros((0, 2), np.uint64)
        n = len(ids)
        if self.segment.mutex:
            components = agglomerate(
                ids, merges, np.concatenate(weights), np.concatenate(sizes),
                np.concatenate(mutexes).astype(np.uint64),
            )
        elif len(merges):
            a = np.searchsorted(ids, merges[:, 0])
            b = np.searchsorted(ids, merges[:, 1])
            graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
            _, components = connected_components(graph, directed=False)
        else:
            components = np.arange(n)
        # connected_components numbers components in order of their smallest member
        labels = components.astype(np.uint64) + np.uint64(1)
        atomic_write_bytes(self.lut_path, _npz_bytes(fragments=ids, labels=labels))
        logger.info("merge: %d fragments → %d objects (%d merges)", n, len(np.unique(labels)), len(merges))


class RelabelTask(BlockwiseTask):
    """Fragments → final ids (the merge's lookup table), into the output array."""

    def __init__(self, merge: MergeTask, output, overwrite: bool = False,
                 keep_fragments: bool = False, task_id: str = "relabel"):
        segment = merge.segment
        super().__init__(
            task_id,
            total_roi=segment.output_roi,
            read_roi=Roi((0,) * segment.output_roi.dims, segment.block_shape),
            write_roi=Roi((0,) * segment.output_roi.dims, segment.block_shape),
            bookkeeping=Bookkeeping.for_array(output.container, output.dataset),
            upstream_tasks=[merge],
            max_retries=segment.max_retries,
            timeout=segment.timeout,
        )
        self.merge = merge
        self.output = output
        self.overwrite = overwrite
        self.keep_fragments = keep_fragments

    def fingerprint(self) -> dict:
        fingerprint = super().fingerprint()
        fingerprint["output"] = [str(Path(self.output.container).resolve()), self.output.dataset]
        return fingerprint

    def outputs(self) -> list:
        return [self.output]

    def prepare(self, resume: bool) -> bool:
        segment = self.merge.segment
        return prepare_output(
            self.output, segment.output_roi, segment.voxel_size, None, np.uint64,
            segment.block_shape, resume=resume, overwrite=self.overwrite, job=self.fingerprint(),
        )

    def setup(self, worker: WorkerContext) -> None:
        self._resident_output = open_output(self.output, "r+")
        self._resident_lut = None  # loaded with the first block (after the merge)

    def process_block(self, block) -> None:
        if self._resident_lut is None:
            with np.load(self.merge.lut_path) as data:
                self._resident_lut = (data["fragments"], data["labels"])
            self._resident_fragments = open_output(self.merge.segment.fragments, "r")
        fragments_ids, labels = self._resident_lut
        write = block.write_roi.intersect(self.merge.segment.output_roi)
        if write.empty:
            return
        fragments = np.asarray(self._resident_fragments[write])
        values, inverse = np.unique(fragments, return_inverse=True)
        mapped = np.zeros(len(values), dtype=np.uint64)
        nonzero = values != 0
        if nonzero.any():
            positions = np.searchsorted(fragments_ids, values[nonzero])
            positions = np.clip(positions, 0, max(len(fragments_ids) - 1, 0))
            if len(fragments_ids) == 0 or not np.all(fragments_ids[positions] == values[nonzero]):
                raise RuntimeError(
                    f"relabel: block {self.block_index(block)} holds fragments the merge did not "
                    "see; rerun to recompute the segmentation"
                )
            mapped[nonzero] = labels[positions]
        self._resident_output[write] = mapped[inverse].reshape(fragments.shape)

    def finish(self) -> None:
        if not self.keep_fragments:
            import shutil

            shutil.rmtree(self.merge.segment.fragments.container, ignore_errors=True)


def segment_tasks(
    segment_function,
    input_array_config,
    output,
    output_roi: Roi,
    voxel_size: Coordinate,
    block_shape: Coordinate,
    context: Coordinate,
    parameters: Optional[dict] = None,
    min_overlap: float = 0.5,
    overwrite: bool = False,
    keep_fragments: bool = False,
    mutex: bool = False,
    upstream_tasks=(),
    max_retries: int = 2,
    timeout: Optional[float] = None,
    prefix: str = "",
) -> RelabelTask:
    """The segment → merge → relabel chain writing ``output``; returns the last task."""
    segment = SegmentTask(
        segment_function, input_array_config, output, output_roi, voxel_size, block_shape,
        context, parameters=parameters, min_overlap=min_overlap, mutex=mutex,
        task_id=f"{prefix}segment",
        upstream_tasks=upstream_tasks, max_retries=max_retries, timeout=timeout,
    )
    merge = MergeTask(segment, task_id=f"{prefix}merge")
    return RelabelTask(merge, output, overwrite=overwrite, keep_fragments=keep_fragments,
                       task_id=f"{prefix}relabel")


def chain_complete(relabel: RelabelTask) -> bool:
    """Whether an earlier run of exactly this chain completed (nothing to do)."""
    from .runner import fingerprint_of

    book = relabel.bookkeeping
    if not book.matches(fingerprint_of(relabel, {})) or not array_exists(relabel.output):
        return False
    return bool(book.done_mask(relabel.grid_shape).all())
