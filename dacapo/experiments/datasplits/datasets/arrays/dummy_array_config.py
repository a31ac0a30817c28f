from __future__ import annotations

import attrs

from .array_config import ArrayConfig


@attrs.frozen
class DummyArrayConfig(ArrayConfig):
    """A float32 array of zeros, 100 x 100 x 100 voxels of 1 nm at the origin (axes z, y, x),
    for tests and dummy runs. Nothing is allocated until a region is read."""

    def array(self, mode: str = "r"):
        from .constant_array import dummy_array

        return dummy_array(self)

    def verify(self) -> tuple[bool, str]:
        return True, f"{type(self).__name__} {self.name!r}: zeros, shape (100, 100, 100)"
