from __future__ import annotations

from typing import Optional

import attrs


def _optional_float(value) -> Optional[float]:
    return None if value is None else float(value)


@attrs.frozen
class TrainingIterationStats:
    """The stats of one training iteration. Values are converted to Python floats so that numpy
    or torch scalars can be passed directly."""

    iteration: int = attrs.field(converter=int)
    loss: float = attrs.field(converter=float)
    time: Optional[float] = attrs.field(default=None, converter=_optional_float)
    learning_rate: Optional[float] = attrs.field(default=None, converter=_optional_float)
    # seconds of ``time`` spent waiting for the batch
    data_time: Optional[float] = attrs.field(default=None, converter=_optional_float)
