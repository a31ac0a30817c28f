"""A blockwise task that records, per block, the GPUs its worker process sees (and touches no
GPU): run by daisy worker processes, so it lives in an importable module."""

from __future__ import annotations

import os
import time
from pathlib import Path

from funlib.geometry import Roi

from dacapo.blockwise.task import BlockwiseTask


class GpuProbeTask(BlockwiseTask):
    uses_torch = True

    def __init__(self, directory: Path, blocks: int = 4):
        super().__init__("gpu_probe", Roi((0, 0), (10 * blocks, 10)), Roi((0, 0), (10, 10)),
                         Roi((0, 0), (10, 10)))
        self.directory = str(directory)

    def setup(self, worker) -> None:
        self.device = str(worker.device)

    def process_block(self, block) -> None:
        seen = os.environ.get("CUDA_VISIBLE_DEVICES")
        name = Path(self.directory) / f"block{block.write_roi.offset[0]}"
        name.write_text(f"{seen} {self.device} {os.getpid()}")
        time.sleep(0.3)  # long enough for both workers to take blocks
