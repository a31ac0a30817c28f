import math

import numpy as np
import pytest

from dacapo.experiments import (
    TrainingIterationStats,
    TrainingStats,
    ValidationIterationScores,
    ValidationScores,
)

from .helpers import DATASETS, PARAMETERS, Parameters, Scores, training_stats


def test_training_stats():
    stats = training_stats(3)
    assert stats.trained_until() == 3
    with pytest.raises(ValueError, match="iteration 2 added after"):
        stats.add_iteration_stats(TrainingIterationStats(2, 0.1, 0.1))
    array = stats.to_xarray()
    assert array.dims == ("iterations",)
    assert list(array.iterations.values) == [0, 1, 2]
    assert np.allclose(array.values, [1.0, 0.5, 1 / 3])
    assert np.isnan(stats.to_xarray("learning_rate").values).all()
    stats.delete_after(1)
    assert [s.iteration for s in stats.iteration_stats] == [0]
    stats.delete_after(0)
    assert stats.trained_until() == 0
    assert TrainingStats().to_xarray().shape == (0,)


def test_training_iteration_stats_converts_scalars():
    import torch

    stats = TrainingIterationStats(np.int64(3), torch.tensor(0.25), np.float32(1.5), learning_rate=1e-4)
    assert type(stats.iteration) is int and type(stats.loss) is float and type(stats.time) is float
    assert stats == TrainingIterationStats(3, 0.25, 1.5, 1e-4)
    assert TrainingIterationStats(0, 0.1).time is None  # the seed's examples omit time


def test_validation_iteration_scores():
    scores = ValidationIterationScores(5, np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    assert type(scores.scores[1][2][1]) is float and scores.scores[1][2][1] == 11.0
    with_nan = ValidationIterationScores(1, [[[float("nan"), None]]])
    assert math.isnan(with_nan.scores[0][0][1])
    assert with_nan == ValidationIterationScores(1, [[[np.nan, np.nan]]])
    assert with_nan != ValidationIterationScores(1, [[[np.nan, 1.0]]])
    assert with_nan != ValidationIterationScores(2, [[[np.nan, np.nan]]])
    with pytest.raises(ValueError, match="nested"):
        ValidationIterationScores(1, [1.0, 2.0])


def validation_scores(iterations=(10, 20, 30), seed=0):
    rng = np.random.default_rng(seed)
    scores = ValidationScores(PARAMETERS, DATASETS, Scores())
    for iteration in iterations:
        scores.add_iteration_scores(ValidationIterationScores(iteration, rng.random((2, 3, 2))))
    return scores


def test_validation_scores_bookkeeping():
    scores = validation_scores((20, 10))
    assert [s.iteration for s in scores.scores] == [10, 20]  # kept ordered
    with pytest.raises(ValueError, match="iteration 10 already"):
        scores.add_iteration_scores(ValidationIterationScores(10, np.zeros((2, 3, 2))))
    assert scores.validated_until() == 21
    assert scores.criteria == ["dice", "voi"]
    assert scores.parameter_names == ["threshold"]
    sub = scores.subscores(scores.scores[:1])
    assert sub.validated_until() == 11 and sub.datasets is scores.datasets
    assert scores.compare([]) == (False, 0)
    assert scores.compare(validation_scores((10, 20, 30)).scores) == (True, 20)
    assert scores.compare(validation_scores((10,)).scores) == (False, 10)
    scores.delete_after(20)
    assert [s.iteration for s in scores.scores] == [10]
    assert ValidationScores([], [], Scores()).validated_until() == 0


def test_validation_scores_to_xarray():
    scores = validation_scores()
    array = scores.to_xarray()
    assert array.dims == ("iterations", "datasets", "parameters", "criteria")
    assert array.shape == (3, 2, 3, 2)
    assert list(array.iterations.values) == [10, 20, 30]
    assert list(array.datasets.values) == DATASETS
    assert list(array.parameters.values) == PARAMETERS
    assert array.sel(iterations=20, datasets=DATASETS[1], parameters=PARAMETERS[2], criteria="voi").item() == (
        scores.scores[1].scores[1][2][1]
    )
    assert ValidationScores(PARAMETERS, DATASETS, Scores()).to_xarray().shape == (0, 2, 3, 2)
    scores.scores.append(ValidationIterationScores(40, [[[1.0]]]))
    with pytest.raises(ValueError, match="iteration 40 have shape"):
        scores.to_xarray()


def test_get_best_honours_the_direction_of_each_criterion():
    scores = validation_scores()
    array = scores.to_xarray()
    array[1, 0, 0, 0] = np.nan  # an undefined score never wins
    index, value = scores.get_best(array, "iterations")
    assert index.dims == value.dims == ("criteria", "datasets", "parameters")
    values = array.values
    for d in range(2):
        for p in range(3):
            dice = values[:, d, p, 0]
            voi = values[:, d, p, 1]
            assert index.sel(criteria="dice").values[d, p] == [10, 20, 30][np.nanargmax(dice)]
            assert value.sel(criteria="dice").values[d, p] == np.nanmax(dice)
            assert index.sel(criteria="voi").values[d, p] == [10, 20, 30][np.argmin(voi)]
            assert value.sel(criteria="voi").values[d, p] == voi.min()
    assert index.dtype == np.int64

    best_parameters, _ = scores.get_best(array.sel(datasets=DATASETS[0]), "parameters")
    assert isinstance(best_parameters.sel(criteria="dice", iterations=10).item(), Parameters)

    one_index, one_value = scores.get_best(array.sel(criteria="voi"), "iterations")
    assert (one_value == value.sel(criteria="voi")).all()

    array[:, 0, 0, 0] = np.nan
    index, value = scores.get_best(array.sel(datasets=DATASETS[0], parameters=PARAMETERS[0]), "iterations")
    assert math.isnan(value.sel(criteria="dice").item())

    with pytest.raises(ValueError, match="criteria"):
        scores.get_best(array.drop_vars("criteria"), "iterations")
