"""`dacapo plot` (PNG and HTML of loss and validation curves, from the stats store) and
`dacapo ls` (runs with progress and best scores, configs)."""

import math

import attrs
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dacapo.cli import cli
from dacapo.experiments.training_iteration_stats import TrainingIterationStats
from dacapo.experiments.training_stats import TrainingStats
from dacapo.experiments.validation_iteration_scores import ValidationIterationScores
from dacapo.plot import PNG_SIZE, run_curves, smoothed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def second_run(trained_run):
    """A second run whose stats (200 iterations, 5 validations) are stored directly."""
    from dacapo.experiments.validation_scores import ValidationScores
    from dacapo.store.create_store import create_config_store, create_stats_store

    options, config = trained_run
    other = attrs.evolve(config, name="ux_other", num_iterations=200)
    create_config_store().store_run_config(other)
    stats = TrainingStats()
    for i in range(200):
        stats.add_iteration_stats(TrainingIterationStats(
            iteration=i, loss=1.0 / (1 + i) + 0.01 * math.sin(i), time=0.1, learning_rate=1e-3))
    store = create_stats_store()
    store.store_training_stats("ux_other", stats)
    existing = store.retrieve_validation_iteration_scores(config.name)
    shape = np.asarray(existing[0].scores).shape  # (datasets, parameters, criteria)
    scores = ValidationScores([], [], None)
    for k, iteration in enumerate((40, 80, 120, 160, 200)):
        values = np.full(shape, 0.1 * k)
        values[0, 0, 0] = 0.5 + 0.1 * k  # the best parameter of the primary criterion
        scores.add_iteration_scores(ValidationIterationScores(iteration, values.tolist()))
    store.store_validation_iteration_scores("ux_other", scores)
    return other


def test_run_curves(trained_run, second_run):
    from dacapo.store.create_store import create_stats_store

    options, config = trained_run
    curves = run_curves(config.name)
    stored = create_stats_store().retrieve_training_stats(config.name).iteration_stats
    assert list(curves.loss.iterations) == [0, 1, 2, 3]
    assert np.allclose(curves.loss.values, [s.loss for s in stored])
    (validation,) = curves.validation
    assert list(validation.iterations) == [2, 4] and validation.label.startswith("val ")
    other = run_curves(second_run.name)
    higher = "higher" in other.criterion_labels[0]
    expected = [0.5 + 0.1 * k if higher else 0.1 * k for k in range(5)]
    assert np.allclose(other.validation[0].values, expected)
    with pytest.raises(ValueError, match="unknown criterion 'nope'"):
        run_curves(config.name, "nope")


def test_smoothed():
    assert np.allclose(smoothed(np.array([1.0, 3.0, 5.0]), 2), [1.0, 2.0, 4.0])
    assert smoothed(np.array([])).size == 0


def test_plot_command_writes_png_and_html(trained_run, second_run, tmp_path):
    options, config = trained_run
    output = tmp_path / "plots" / "curves"
    result = CliRunner().invoke(cli, ["plot", config.name, second_run.name, "-o", str(output)])
    assert result.exit_code == 0, result.output
    png, html = output.with_suffix(".png"), output.with_suffix(".html")
    assert png.stat().st_size > 10_000
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == PNG_SIZE
        pixels = np.asarray(image.convert("RGB"))
    # not a blank canvas: the curves draw colours other than white, black and grey
    coloured = np.ptp(pixels.astype(int), axis=2) > 60
    assert coloured.sum() > 2000
    text = html.read_text()
    assert config.name in text and second_run.name in text
    assert "<script src=" not in text and len(text) > 1_000_000  # plotly.js embedded: opens offline
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "curves.png").write_bytes(png.read_bytes())  # for looking at


def test_plot_errors_are_one_line(trained_run, tmp_path):
    result = CliRunner().invoke(cli, ["plot", "no_such_run", "-o", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "no_such_run" in result.output
    result = CliRunner().invoke(cli, ["plot", "ux_run", "--no-png", "--no-html"])
    assert result.exit_code == 2 and "nothing to write" in result.output


def test_ls(trained_run, second_run):
    from dacapo.listing import summarize_run

    options, config = trained_run
    summary = summarize_run(config.name)
    assert (summary.trained, summary.num_iterations, summary.status) == (4, 4, "done")
    assert summary.validated == [2, 4]
    (best,) = summary.best
    assert best.dataset == "val" and best.iteration in (2, 4)
    other = summarize_run(second_run.name)
    assert (other.trained, other.status) == (0, "not started")
    assert other.best[0].iteration == (200 if "higher" in run_curves(second_run.name).criterion_labels[0] else 40)

    result = CliRunner().invoke(cli, ["ls"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["RUN", "TRAINED", "STATUS", "VALIDATED"]
    row = next(line for line in lines if line.startswith("ux_run "))
    assert "4/4" in row and "done" in row and f"val {best.criterion} {best.value:.4g} @{best.iteration}" in row
    assert any(line.startswith("ux_other ") and "0/200" in line for line in lines)
    assert any(line.startswith("task") and config.task_config.name in line for line in lines)


def test_plot_marks_the_best_checkpoint_and_shows_the_learning_rate(trained_run, second_run, tmp_path):
    from dacapo.plot import plot_runs, smoothing_window

    curves = run_curves(second_run.name)
    higher = "higher" in curves.criterion_labels[0]
    assert curves.validation[0].best() == ((200, 0.9) if higher else (40, 0.0))
    assert list(curves.learning_rate.iterations) == list(range(200))
    assert np.allclose(curves.learning_rate.values, 1e-3)
    # the loss's moving average spans a tenth of the curve (at least 10), not 1/50
    assert [smoothing_window(n) for n in (4, 120, 200, 10**6)] == [4, 12, 20, 1000]
    (html,) = plot_runs([second_run.name], html=tmp_path / "p.html")
    text = html.read_text()
    best = curves.validation[0].best()[0]
    assert f"{second_run.name}: best @{best}" in text and f"{second_run.name} learning rate" in text
