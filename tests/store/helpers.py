"""Minimal objects satisfying the protocols of ``dacapo.experiments.validation_scores``."""

import attrs

from dacapo.experiments import TrainingIterationStats, TrainingStats


@attrs.frozen
class Parameters:
    id: int
    threshold: float

    @property
    def parameter_names(self):
        return ["threshold"]


@attrs.frozen
class Dataset:
    name: str


class Scores:
    criteria = ["dice", "voi"]

    @staticmethod
    def higher_is_better(criterion):
        return criterion == "dice"


PARAMETERS = [Parameters(0, 0.1), Parameters(1, 0.5), Parameters(2, 0.9)]
DATASETS = [Dataset("a"), Dataset("b")]


def training_stats(n, start=0):
    stats = TrainingStats()
    for i in range(start, start + n):
        stats.add_iteration_stats(TrainingIterationStats(i, 1.0 / (i + 1), 0.5))
    return stats
