"""Threshold post-processing of the distance half of a hot-distance prediction."""

from __future__ import annotations

import numpy as np

from .threshold_post_processor import ThresholdPostProcessor, threshold


class HotDistancePostProcessor(ThresholdPostProcessor):
    """``distance channels > threshold`` (the last ``num_channels`` channels of the
    prediction), swept over the thresholds of ``ThresholdPostProcessor``."""

    def __init__(self, num_channels: int, thresholds=None):
        super().__init__(thresholds)
        self.num_channels = int(num_channels)

    def output_channels(self, num_input_channels: int) -> int:
        return self.num_channels

    def process(self, parameters, prediction) -> np.ndarray:
        prediction = np.asarray(prediction)
        return threshold(prediction[prediction.shape[0] - self.num_channels :], parameters.threshold)
