"""Runtime base of datasplits."""

from __future__ import annotations


class DataSplit:
    """``train`` and ``validate``: lists of runtime datasets (``RawGTDataset``...)."""

    train: list
    validate: list

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(train={[d.name for d in self.train]}, "
            f"validate={[d.name for d in self.validate]})"
        )
