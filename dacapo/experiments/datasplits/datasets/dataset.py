"""Runtime base of datasets."""

from __future__ import annotations

from typing import Any, Optional


class Dataset:
    """A named dataset: ``raw``, ``gt`` and ``mask`` are lazy ``funlib.persistence.Array``s
    (``mask`` None means everything is valid), ``weight`` its relative sampling weight and
    ``sample_points`` optional world coordinates to centre training samples on."""

    name: str
    weight: int
    raw: Any
    gt: Any
    mask: Optional[Any]
    sample_points: Optional[list]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and type(self) is type(other) and self.name == other.name

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __lt__(self, other: "Dataset") -> bool:
        return self.name < other.name
