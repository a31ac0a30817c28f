from __future__ import annotations

import attrs

from .start_config import StartConfig


@attrs.frozen
class CosemStartConfig(StartConfig):
    """Start from a published COSEM pretrained network: ``run`` is the COSEM setup name (e.g.
    ``"setup04"``) and ``criterion`` the checkpoint (an iteration, e.g. ``"1820500"``). The
    weights are downloaded once into ``~/.cache/dacapo/cosem/<run>/<criterion>`` (put the file
    there by hand on offline machines); output channels are matched by name where the published
    setup lists them."""

    @property
    def start_type(self):
        from .cosem_start import CosemStart

        return CosemStart


