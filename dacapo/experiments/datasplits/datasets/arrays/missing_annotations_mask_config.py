from __future__ import annotations

import attrs

from dacapo.config import help_field

from ._fields import is_groupings, is_instance, to_groupings
from .array_config import ArrayConfig

_is_array_config = is_instance(ArrayConfig, "an array config")


@attrs.frozen
class MissingAnnotationsMaskConfig(ArrayConfig):
    """A uint8 mask over a CellMap crop, one channel per group (axis ``"c^"`` first, channel
    names in ``array.attrs["channel_names"]``): 1 where the group is annotated, 0 where not.

    The ROI is the label array's ROI (outside the crop nothing is annotated). Which label ids a
    crop annotates is read from the attributes of the label dataset or of its parent groups:
    ``cellmap.annotation.class_ids_annotated`` (list of ids; a group is annotated when all its
    ids are in it) and/or ``cellmap.annotation.class_ids_unannotated`` (a group containing any
    of them is not annotated). Without such attributes the whole crop is annotated. Nothing is
    read from the label voxels: the mask is a constant per channel and costs no memory."""

    source_array_config: ArrayConfig = help_field(
        "The label array of the crop (after any resampling).",
        validator=_is_array_config,
    )
    groupings: list[tuple[str, list[int]]] = help_field(
        "Channels as (name, [label ids]) pairs, as in the matching BinarizeArrayConfig.",
        converter=to_groupings,
        validator=is_groupings,
    )

    @property
    def channel_names(self) -> list[str]:
        return [name for name, _ in self.groupings]

    def array(self, mode: str = "r"):
        from .missing_annotations_mask import missing_annotations_mask

        return missing_annotations_mask(self, mode)

