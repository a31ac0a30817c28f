"""Parameters of one post-processing setting in a sweep."""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class PostProcessorParameters:
    """One point of a post-processor's parameter sweep. Frozen (hashable, usable as a dict key);
    ``id`` is unique within the sweep."""

    id: int = attrs.field()

    @property
    def parameter_names(self) -> list[str]:
        """Names of the parameters (attributes) other than ``id``."""
        return [f.name for f in attrs.fields(type(self)) if f.name != "id"]

    def to_dict(self) -> dict:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return "_".join(f"{n}_{getattr(self, n)}" for n in self.parameter_names) or f"id_{self.id}"
