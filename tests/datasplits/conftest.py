"""Fixtures for the array / dataset / datasplit tests: small containers written with the
synthetic writers, and a chunk-read counter that proves arrays are lazy."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import zarr

from dacapo.utils.synthetic import write_tutorial_layout

_METADATA = re.compile(r"(^|/)(\.zarray|\.zattrs|\.zgroup|attributes\.json)$")


class ChunkReads:
    """Counts chunk files read through any zarr DirectoryStore (N5Store included)."""

    def __init__(self) -> None:
        self.keys: Counter = Counter()

    @property
    def count(self) -> int:
        return sum(self.keys.values())

    def reset(self) -> None:
        self.keys.clear()


@pytest.fixture
def chunk_reads(monkeypatch):
    reads = ChunkReads()
    original = zarr.storage.DirectoryStore.__getitem__

    def counting(self, key):
        value = original(self, key)
        if not _METADATA.search(key):
            reads.keys[key] += 1
        return value

    monkeypatch.setattr(zarr.storage.DirectoryStore, "__getitem__", counting)
    return reads


@pytest.fixture(scope="session")
def tutorial_layout(tmp_path_factory):
    """The seed tutorial's layout with the generator's defaults (raw s1: 160³ voxels of 16 nm;
    crops 124, 125, 145 of 640 x 704 x 768 nm at 4 nm): raw and gt in two N5 containers, as in
    the tutorial."""
    root = tmp_path_factory.mktemp("tutorial")
    return write_tutorial_layout(
        root / "jrc_mus-liver.n5",
        gt_path=root / "gt" / "jrc_mus-liver.n5",
        seed=7,
    )
