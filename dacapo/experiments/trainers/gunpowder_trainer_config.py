from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import check, help_field, non_negative, positive
from dacapo.compat import original_default

from .gp_augments import AugmentConfig
from .trainer_config import TrainerConfig

OPTIMIZERS = ("RAdam", "Adam", "AdamW", "SGD")


def _augments(value):
    if value is None:
        return []
    return list(value)


@attrs.frozen
class GunpowderTrainerConfig(TrainerConfig):
    """Trains with batches from a gunpowder pipeline that is built once and fed by
    ``num_data_fetchers`` worker processes: per dataset sources → padding → random location
    (respecting the mask, ``min_masked`` and sample points) → augments → target/weight
    creation, datasets sampled by weight, samples stacked to ``batch_size``.

    The optimizer defaults to RAdam with a linear learning-rate warm-up, like the original."""

    num_data_fetchers: int = help_field(
        "Number of worker processes producing samples (0: produce them in the training "
        "process). Capped at the number of usable CPU cores.",
        default=5,
        validator=non_negative,
    )
    augments: list[AugmentConfig] = help_field(
        "Augmentations, applied in this order.", factory=list, converter=_augments
    )
    snapshot_interval: Optional[int] = help_field(
        "Write a snapshot (raw, gt, target, weight, mask, prediction) every this many "
        "iterations (None: never).",
        default=None,
        validator=positive,
    )
    min_masked: Optional[float] = help_field(
        "Minimal fraction of the output region that must be annotated (mask > 0) for a random "
        "location to be accepted.",
        default=0.15,
        validator=check(lambda v: 0.0 <= v <= 1.0, "must be in [0, 1]"),
    )
    clip_raw: bool = help_field(
        "Use raw only around the ground truth: raw is cropped to the gt ROI grown by the "
        "network's context (zero outside), instead of reading raw anywhere it exists.",
        default=True,
        validator=original_default("GunpowderTrainerConfig", False, "raw is read only around the ground truth"),
    )
    optimizer: str = help_field(
        f"Optimizer: one of {', '.join(OPTIMIZERS)} (RAdam as in the original).",
        default="RAdam",
        validator=check(lambda v: v in OPTIMIZERS, f"must be one of {OPTIMIZERS}"),
    )
    weight_decay: float = help_field(
        "Weight decay (decoupled for RAdam and AdamW).", default=0.0, validator=non_negative
    )
    warmup_iterations: int = help_field(
        "Length of the linear learning-rate warm-up in iterations (0: none).",
        default=1000,
        validator=non_negative,
    )
    warmup_start_factor: float = help_field(
        "Learning-rate factor at the start of the warm-up.",
        default=0.01,
        validator=check(lambda v: 0.0 < v <= 1.0, "must be in (0, 1]"),
    )

    @property
    def trainer_type(self):
        from .gunpowder_trainer import GunpowderTrainer

        return GunpowderTrainer

    def verify(self) -> tuple[bool, str]:
        for augment in self.augments:
            ok, message = augment.verify()
            if not ok:
                return False, f"augment {type(augment).__name__}: {message}"
        return True, "ok"
