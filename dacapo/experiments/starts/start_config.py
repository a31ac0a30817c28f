from __future__ import annotations

from typing import Union

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class StartConfig(ConfigBase):
    """Start training from another run's weights: ``StartConfig("setup04", "best")`` takes that
    run's best checkpoint (by its first validation criterion), ``StartConfig("setup04", "dice")``
    its best by a named criterion, ``StartConfig("setup04", 2000)`` a given iteration."""

    run: str = help_field("The name of the run whose weights to start from.")
    criterion: Union[int, str] = help_field(
        "'best', 'latest', a validation criterion name, or an iteration number."
    )

    @property
    def start_type(self):
        from .start import Start

        return Start
