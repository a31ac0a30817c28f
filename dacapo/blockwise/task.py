"""``BlockwiseTask``: a picklable description of one blockwise job, run by ``run_tasks``.

A task tiles ``total_roi`` (world units, including the read context) with blocks whose ROIs are
``read_roi`` / ``write_roi`` (relative to the block, as in daisy) on a grid anchored at
``total_roi.offset + (write_roi.offset - read_roi.offset)``; with ``fit="overhang"`` the last
blocks may stick out (their writes are cropped by the task). A worker calls ``setup`` once (build
the model, open the arrays) and then ``process_block`` for every block it takes; the runner marks
a block done in the task's ``Bookkeeping`` after ``process_block`` returns, so a rerun skips it.
"""

from __future__ import annotations

import logging
from typing import Optional, Sequence

import attrs
import numpy as np
from funlib.geometry import Coordinate, Roi

logger = logging.getLogger(__name__)


@attrs.define
class WorkerContext:
    """What a worker knows about itself."""

    run_id: str
    device: object = None  # torch.device or None
    num_threads: Optional[int] = None
    worker_id: int = 0
    in_process: bool = False


def context_rois(output_roi: Roi, block_shape, context) -> dict:
    """``total_roi``, ``read_roi`` and ``write_roi`` of blocks of ``block_shape`` that tile
    ``output_roi``, each reading ``context`` around what it writes."""
    context = Coordinate(context)
    return {
        "total_roi": output_roi.grow(context, context),
        "read_roi": Roi(-context, Coordinate(block_shape) + context * 2),
        "write_roi": Roi((0,) * output_roi.dims, block_shape),
    }


class BlockwiseTask:
    #: Whether workers need torch (a device, thread settings); others never import it.
    uses_torch = False
    #: Whether a DaCapo-made output of a *different* job may be replaced (``ownership``: data
    #: DaCapo did not write is never replaced).
    overwrite = False

    """Subclasses implement ``process_block`` (and usually ``setup`` and ``fingerprint``).

    Attributes set here: ``task_id``, ``total_roi``, ``read_roi``, ``write_roi``,
    ``read_write_conflict``, ``fit``, ``max_retries``, ``timeout`` (seconds per block before
    the worker is killed and the block retried; None: ``runner.DEFAULT_BLOCK_TIMEOUT``, 6 h), ``bookkeeping`` (``Bookkeeping`` or None: not resumable), ``upstream_tasks``
    (tasks whose blocks this one reads), ``max_workers`` (None: as many as asked for)."""

    def __init__(
        self,
        task_id: str,
        total_roi: Roi,
        read_roi: Roi,
        write_roi: Roi,
        *,
        read_write_conflict: bool = False,
        fit: str = "overhang",
        max_retries: int = 2,
        timeout: Optional[float] = None,
        bookkeeping=None,
        upstream_tasks: Sequence["BlockwiseTask"] = (),
        max_workers: Optional[int] = None,
    ):
        if fit not in ("overhang", "shrink", "valid"):
            raise ValueError(f"fit must be 'overhang', 'shrink' or 'valid', got {fit!r}")
        self.task_id = str(task_id)
        self.total_roi = Roi(total_roi.offset, total_roi.shape)
        self.read_roi = Roi(read_roi.offset, read_roi.shape)
        self.write_roi = Roi(write_roi.offset, write_roi.shape)
        if not self.read_roi.contains(self.write_roi):
            raise ValueError(
                f"task {task_id}: the block read ROI {self.read_roi} must contain the write ROI "
                f"{self.write_roi}"
            )
        self.read_write_conflict = bool(read_write_conflict)
        self.fit = fit
        self.max_retries = int(max_retries)
        self.timeout = timeout
        self.bookkeeping = bookkeeping
        self.upstream_tasks = list(upstream_tasks)
        self.max_workers = max_workers

    # --- geometry --------------------------------------------------------------------------------
    @property
    def context_neg(self) -> Coordinate:
        return self.write_roi.offset - self.read_roi.offset

    @property
    def context_pos(self) -> Coordinate:
        return self.read_roi.end - self.write_roi.end

    @property
    def block_shape(self) -> Coordinate:
        """Write size of a block (world units)."""
        return self.write_roi.shape

    @property
    def grid_origin(self) -> Coordinate:
        """Offset of the first block's write ROI."""
        return self.total_roi.offset + self.context_neg

    @property
    def total_write_roi(self) -> Roi:
        """The region the blocks' write ROIs tile (``total_roi`` less the context)."""
        return self.total_roi.grow(-self.context_neg, -self.context_pos)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """Blocks per dimension (as daisy counts them for ``fit``)."""
        span = self.total_write_roi.shape
        if self.fit == "overhang":
            return tuple(-(-int(s) // int(b)) for s, b in zip(span, self.block_shape))
        if self.fit == "valid":
            return tuple(int(s) // int(b) for s, b in zip(span, self.block_shape))
        return tuple(-(-int(s) // int(b)) for s, b in zip(span, self.block_shape))

    @property
    def num_blocks(self) -> int:
        return int(np.prod(self.grid_shape))

    def block_index(self, block_or_roi) -> tuple[int, ...]:
        """Index of a block (or of its write ROI) in the block grid."""
        roi = getattr(block_or_roi, "write_roi", block_or_roi)
        return tuple(
            int(o - g) // int(b) for o, g, b in zip(roi.offset, self.grid_origin, self.block_shape)
        )

    def block_write_roi(self, index) -> Roi:
        """The (uncropped) write ROI of block ``index``."""
        return Roi(self.grid_origin + Coordinate(index) * self.block_shape, self.block_shape)

    def linear_index(self, index) -> int:
        return int(np.ravel_multi_index(tuple(int(i) for i in index), self.grid_shape))

    # --- what subclasses implement ---------------------------------------------------------------
    def fingerprint(self) -> dict:
        """What this job computes: a rerun resumes only when it is unchanged. Subclasses add
        their inputs, parameters and outputs."""
        return {
            "type": type(self).__name__,
            "task_id": self.task_id,
            "total_roi": [list(self.total_roi.offset), list(self.total_roi.shape)],
            "read_roi": [list(self.read_roi.offset), list(self.read_roi.shape)],
            "write_roi": [list(self.write_roi.offset), list(self.write_roi.shape)],
            "fit": self.fit,
        }

    def outputs(self) -> list:
        """The arrays (identifiers) this task creates, checked and locked by the runner."""
        return []

    def inputs(self) -> list:
        """The arrays (identifiers or paths) this task reads: no output may overlap them."""
        return []

    def prepare(self, resume: bool) -> Optional[bool]:
        """Called once in the submitting process before the run (create outputs here).
        ``resume``: the bookkeeping holds an earlier run of this job. Return False when the
        outputs had to be (re)created, so that its completed blocks are forgotten."""
        return None

    def setup(self, worker: WorkerContext) -> None:
        """Called once per worker before its first block."""

    def process_block(self, block) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        """Called once per worker after its last block."""

    def finish(self) -> None:
        """Called once in the submitting process after every block succeeded."""

    def __getstate__(self):
        # resident objects (models, open arrays) stay in the process that made them
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_resident")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.task_id!r}, {self.num_blocks} blocks)"
