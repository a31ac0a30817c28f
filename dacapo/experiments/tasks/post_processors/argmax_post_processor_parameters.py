from __future__ import annotations

import attrs

from .post_processor_parameters import PostProcessorParameters


@attrs.frozen(order=True)
class ArgmaxPostProcessorParameters(PostProcessorParameters):
    """The argmax has no parameter: the sweep is this single point (``id`` 0)."""
