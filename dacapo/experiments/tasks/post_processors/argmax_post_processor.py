"""Argmax post-processing of class scores (no sweep)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .argmax_post_processor_parameters import ArgmaxPostProcessorParameters
from .post_processor import PostProcessor


def argmax_one_hot(prediction) -> np.ndarray:
    """uint8 ``(C, *spatial)``: 1 in the channel with the highest score (first on ties)."""
    prediction = np.asarray(prediction)
    winner = np.argmax(prediction, axis=0)
    out = np.zeros(prediction.shape, dtype=np.uint8)
    for c in range(prediction.shape[0]):
        out[c] = winner == c
    return out


class ArgmaxPostProcessor(PostProcessor):
    """The class of every voxel is the channel with the highest score, returned one-hot
    (``(C, *spatial)`` uint8) so that each class is scored as a binary segmentation."""

    def enumerate_parameters(self) -> Iterator[ArgmaxPostProcessorParameters]:
        yield ArgmaxPostProcessorParameters(id=0)

    def process(self, parameters, prediction) -> np.ndarray:
        return argmax_one_hot(prediction)
