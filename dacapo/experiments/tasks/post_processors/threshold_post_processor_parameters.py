from __future__ import annotations

import attrs

from .post_processor_parameters import PostProcessorParameters


@attrs.frozen(order=True)
class ThresholdPostProcessorParameters(PostProcessorParameters):
    """Foreground where the prediction is greater than ``threshold``."""

    threshold: float = attrs.field(default=0.0, converter=float)


#: Short name.
ThresholdParameters = ThresholdPostProcessorParameters
