from __future__ import annotations

import attrs

from .post_processor_parameters import PostProcessorParameters


@attrs.frozen(order=True)
class WatershedPostProcessorParameters(PostProcessorParameters):
    """Mutex watershed on ``affinity - bias``: a higher bias splits more."""

    bias: float = attrs.field(default=0.5, converter=float)
