"""Threshold post-processing of (tanh-normalised distance) predictions."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .post_processor import PostProcessor
from .threshold_post_processor_parameters import ThresholdPostProcessorParameters

#: The default sweep, in tanh units (targets are ``tanh(d / scale_factor)`` in [-1, 1]):
#: -0.5 ... 0.5 in steps of 0.125 (exact binary fractions). 0 is the object boundary; a
#: threshold ``t`` moves it by ``scale_factor * atanh(t)`` (t = 0.5: 0.55 scale_factor inward).
#: (The original swept a single threshold of 127, meant for uint8 data: a bug for tanh output.)
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(i / 8 for i in range(-4, 5))


def threshold(prediction: np.ndarray, value: float) -> np.ndarray:
    """uint8 array, 1 where ``prediction > value`` (same shape)."""
    return (np.asarray(prediction) > value).astype(np.uint8)


class ThresholdPostProcessor(PostProcessor):
    """Binary output ``prediction > threshold`` per channel, swept over ``thresholds``."""

    def __init__(self, thresholds: Sequence[float] | None = None):
        values = DEFAULT_THRESHOLDS if thresholds is None else tuple(float(t) for t in thresholds)
        if not values:
            raise ValueError("ThresholdPostProcessor needs at least one threshold")
        if len(set(values)) != len(values):
            raise ValueError(f"duplicate thresholds in {values}")
        self.thresholds = values

    def enumerate_parameters(self) -> Iterator[ThresholdPostProcessorParameters]:
        for i, value in enumerate(self.thresholds):
            yield ThresholdPostProcessorParameters(id=i, threshold=value)

    def process(self, parameters: ThresholdPostProcessorParameters, prediction) -> np.ndarray:
        """uint8 ``prediction > parameters.threshold``: elementwise, so it can run per block
        (no context needed) and on any number of channels."""
        return threshold(prediction, parameters.threshold)
