from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, ConfigError, help_field


@attrs.frozen
class ArrayConfig(ConfigBase):
    """Base of array configs. The runtime counterpart of an array config is a lazy
    ``funlib.persistence.Array`` returned by ``array(mode)``: nothing is read until it is indexed
    with a ``Roi``. Channel axes are named with a trailing ``^`` (e.g. ``"c^"``)."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this array.")

    def array(self, mode: str = "r"):
        raise self.kind_required("array")

    def sources(self) -> list[ArrayConfig]:
        """The array configs this one is derived from (fields holding array configs, alone or
        in lists and dicts)."""
        sources = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            values = value.values() if isinstance(value, dict) else value
            for item in values if isinstance(values, (list, tuple, type({}.values()))) else [value]:
                if isinstance(item, ArrayConfig):
                    sources.append(item)
        return sources

    def verify(self) -> tuple[bool, str]:
        """Every source verifies, then this array opens; the message describes it."""
        for source in self.sources():
            ok, message = source.verify()
            if not ok:
                return ok, message
        try:
            array = self.array("r")
        except ConfigError as exc:
            return False, str(exc)
        return True, (
            f"{type(self).__name__} {self.name!r}: {array.dtype} array, shape {array.shape}, "
            f"voxel size {tuple(array.voxel_size)}, roi {array.roi}"
        )
