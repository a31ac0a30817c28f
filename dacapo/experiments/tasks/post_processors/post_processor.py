"""Base of the post-processors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

from .post_processor_parameters import PostProcessorParameters


class PostProcessor(ABC):
    """Turns a prediction into an output, for each parameter setting of a sweep. ``process`` is
    a pure function of the parameters and an array (so it can run per block)."""

    @abstractmethod
    def enumerate_parameters(self) -> Iterator[PostProcessorParameters]:
        """The parameter sweep (ids unique)."""

    @abstractmethod
    def process(self, parameters: PostProcessorParameters, prediction):
        """The output for ``prediction`` under ``parameters``."""

    def parameters_by_id(self, id: int) -> PostProcessorParameters:
        for parameters in self.enumerate_parameters():
            if parameters.id == id:
                return parameters
        raise KeyError(f"{type(self).__name__} has no parameters with id {id!r}")
