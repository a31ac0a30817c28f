"""CellMap Segmentation Challenge workflow (seed 004): datasplits from the challenge's data
layout or datasplit CSV, the challenge's scoring, and its submission layout."""

from .datasplit import datasplit_config, make_datasplit_csv, split_crops
from .evaluate import INSTANCE_CLASSES, combine_scores, score_instance, score_semantic, score_submission
from .layout import CropEntry, crawl, read_datasplit_csv, truth_from_layout, write_datasplit_csv
from .submission import write_submission, zip_submission

__all__ = [
    "INSTANCE_CLASSES",
    "CropEntry",
    "combine_scores",
    "crawl",
    "datasplit_config",
    "make_datasplit_csv",
    "read_datasplit_csv",
    "score_instance",
    "score_semantic",
    "score_submission",
    "split_crops",
    "truth_from_layout",
    "write_datasplit_csv",
    "write_submission",
    "zip_submission",
]
