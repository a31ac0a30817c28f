from __future__ import annotations

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class ArrayConfig(ConfigBase):
    """Base of array configs. The runtime counterpart of an array config is a lazy
    ``funlib.persistence.Array`` returned by ``array(mode)``: nothing is read until it is indexed
    with a ``Roi``. Channel axes are named with a trailing ``^`` (e.g. ``"c^"``)."""

    name: str = help_field("A unique name for this array.")

    def array(self, mode: str = "r"):
        raise NotImplementedError(f"{type(self).__name__}.array")
