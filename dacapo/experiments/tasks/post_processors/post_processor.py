"""Base of the post-processors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Optional

import numpy as np

from .post_processor_parameters import PostProcessorParameters


class PostProcessor(ABC):
    """Turns a prediction into an output, for each parameter setting of a sweep. ``process`` is
    a pure function of the parameters and an array (so it can run per block).

    What blockwise jobs need to know about the output is declared, never found by running
    ``process`` on made-up data: ``output_dtype``, ``output_channels``, ``context`` and
    ``produces_instances``."""

    #: dtype of ``process``'s output.
    output_dtype: np.dtype = np.dtype(np.uint8)
    #: whether the output are instance ids (which must agree across blocks).
    produces_instances: bool = False

    @abstractmethod
    def enumerate_parameters(self) -> Iterator[PostProcessorParameters]:
        """The parameter sweep (ids unique)."""

    @abstractmethod
    def process(self, parameters: PostProcessorParameters, prediction):
        """The output for ``prediction`` under ``parameters``."""

    def process_at(self, parameters: PostProcessorParameters, prediction, origin):
        """``process`` of a part of a larger prediction whose first voxel is at ``origin``
        (voxels from the world origin): blockwise jobs call this, so that a post-processor
        whose result depends on the position (e.g. how ties are broken) agrees across blocks
        and with the whole volume. Default: ``process``."""
        return self.process(parameters, prediction)

    def output_channels(self, num_input_channels: int) -> Optional[int]:
        """Channels of the output for a prediction with ``num_input_channels``; None: the
        output has no channel axis. Default: one output channel per input channel."""
        return int(num_input_channels)

    def context(self, dims: int) -> tuple[int, ...]:
        """Voxels per side that a block must read around the region it writes so that the
        output there is what the whole volume would give (or as close as the method allows)."""
        return (0,) * dims

    def parameters_by_id(self, id: int) -> PostProcessorParameters:
        for parameters in self.enumerate_parameters():
            if parameters.id == id:
                return parameters
        raise KeyError(f"{type(self).__name__} has no parameters with id {id!r}")
