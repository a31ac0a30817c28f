"""TensorBoard event files written while training and validating, read back with
TensorBoard's own reader."""

import numpy as np
import pytest

from dacapo.tensorboard import board_directory, central_slice

pytestmark = pytest.mark.slow


def _events(run_name, part="train"):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(board_directory(run_name, part)),
                                   size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_training_and_validation_events(trained_run):
    pytest.importorskip("tensorboard")
    from dacapo.store.create_store import create_stats_store

    options, config = trained_run
    events = _events(config.name)
    tags = events.Tags()
    stats = create_stats_store().retrieve_training_stats(config.name).iteration_stats

    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == [0, 1, 2, 3]
    assert np.allclose([e.value for e in loss], [s.loss for s in stats], rtol=1e-6)
    lr = events.Scalars("train/learning_rate")
    assert np.allclose([e.value for e in lr], [s.learning_rate for s in stats], rtol=1e-6)

    assert set(tags["images"]) == {"snapshot/raw", "snapshot/target", "snapshot/prediction"}
    for tag in tags["images"]:
        (image,) = events.Images(tag)
        assert image.step == 2  # the batch of iteration 2, stored as snapshot 3
        assert image.width > 8 and image.height > 8

    validation = _events(config.name, "validation")
    tags = validation.Tags()["scalars"]
    assert "validation/val/cell__dice" in tags, tags
    scores = create_stats_store().retrieve_validation_iteration_scores(config.name)
    assert len(scores) == 2
    for tag in tags:
        assert [e.step for e in validation.Scalars(tag)] == [2, 4]
    best = [max(s.scores[0][p][0] for p in range(len(s.scores[0]))) for s in scores]
    assert np.allclose([e.value for e in validation.Scalars("validation/val/cell__dice")], best)


def test_background_validation_writes_its_own_events(trained_run):
    """``dacapo validate`` (what background validation runs) adds its scores to the run's board."""
    pytest.importorskip("tensorboard")
    from click.testing import CliRunner

    from dacapo.cli import cli

    options, config = trained_run
    directory = board_directory(config.name, "validation")
    before = sorted(directory.glob("events.out.tfevents.*"))
    result = CliRunner().invoke(cli, ["validate", "-r", config.name, "-i", "4"])
    assert result.exit_code == 0, result.output
    after = sorted(directory.glob("events.out.tfevents.*"))
    assert len(after) == len(before) + 1
    steps = [e.step for e in _events(config.name, "validation").Scalars("validation/val/cell__dice")]
    assert steps == [2, 4, 4]


def test_training_works_without_tensorboard(monkeypatch, caplog):
    import logging
    import sys

    import dacapo.tensorboard as board_module

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    monkeypatch.setattr(board_module, "_said_missing", False)
    monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", "/nonexistent/never/written")
    with caplog.at_level(logging.INFO, logger="dacapo.tensorboard"):
        board = board_module.RunBoard("no_board")
        board.training(None)  # no-ops
        board.snapshot(1, {"raw": np.zeros((1, 4, 4, 4))}, 3)
        board.validation(2, [[[0.5]]], ["val"], [0], ["dice"], lambda c: True)
        board_module.RunBoard("no_board_either").training(None)
    assert board.writers == {"train": None, "validation": None}
    assert [r.getMessage() for r in caplog.records].count(
        "tensorboard is not installed: no TensorBoard event files are written") == 1
    board.close()


def test_central_slice():
    volume = np.zeros((2, 1, 5, 6, 7), np.float32)  # batch, channel, z, y, x
    volume[0, 0, 2] = np.arange(42).reshape(6, 7)
    image = central_slice(volume, 3)
    assert image.shape == (6, 7)
    assert image.min() == 0.0 and image.max() == 1.0
    assert central_slice(np.full((1, 4, 4), np.nan), 2).shape == (4, 4)
    assert central_slice(np.zeros(4), 2) is None
