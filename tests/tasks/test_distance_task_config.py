import subprocess
import sys

import pytest

from dacapo.config import ConfigError
from dacapo.experiments.tasks import DistanceTaskConfig, TaskConfig
from dacapo.store.converter import structure, unstructure


def tutorial_config():
    # verbatim from the seed tutorial
    return DistanceTaskConfig(
        name="example_distances_8nm_peroxisome",
        channels=["peroxisome"],
        clip_distance=80.0,
        tol_distance=80.0,
        scale_factor=160.0,
        mask_distances=True,
    )


def test_tutorial_config_and_defaults():
    cfg = tutorial_config()
    assert cfg.channels == ["peroxisome"]
    assert cfg.scale_factor == 160.0 and cfg.mask_distances is True
    assert (cfg.clipmin, cfg.clipmax) == (0.05, 0.95)
    minimal = DistanceTaskConfig(name="t", channels=["a"], clip_distance=1, tol_distance=0)
    assert minimal.scale_factor == 1.0 and minimal.mask_distances is False
    assert isinstance(minimal.clip_distance, float)
    help_texts = {f.name: f.metadata.get("help_text") for f in DistanceTaskConfig.__attrs_attrs__}
    assert all(help_texts.values()), help_texts


def test_round_trip():
    for cfg in (
        tutorial_config(),
        DistanceTaskConfig(
            name="multi", channels=["mito", "er"], clip_distance=40, tol_distance=8, clipmin=0.1
        ),
    ):
        data = unstructure(cfg)
        assert data["__type__"] == "DistanceTaskConfig"
        assert structure(data, TaskConfig) == cfg


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(channels=[]),
        dict(channels="mito"),
        dict(channels=["a", "a"]),
        dict(clip_distance=0),
        dict(tol_distance=-1),
        dict(scale_factor=0),
        dict(clipmin=0.0),
        dict(clipmin=0.6, clipmax=0.4),
        dict(mask_distances="yes"),
    ],
)
def test_invalid(kwargs):
    base = dict(name="bad", channels=["a"], clip_distance=80.0, tol_distance=80.0)
    base.update(kwargs)
    with pytest.raises(ConfigError) as info:
        DistanceTaskConfig(**base)
    assert "\n" not in str(info.value) and "bad" in str(info.value)


def test_task_type_builds_task():
    from dacapo.experiments.tasks import DistanceTask, Task
    from dacapo.experiments.tasks.evaluators import BinarySegmentationEvaluator
    from dacapo.experiments.tasks.losses import MSELoss
    from dacapo.experiments.tasks.post_processors import ThresholdPostProcessor
    from dacapo.experiments.tasks.predictors import DistancePredictor

    cfg = tutorial_config()
    assert cfg.task_type is DistanceTask
    task = cfg.task_type(cfg)
    assert isinstance(task, Task)
    assert isinstance(task.predictor, DistancePredictor)
    assert task.predictor.scale_factor == 160.0 and task.predictor.mask_distances
    assert isinstance(task.loss, MSELoss)
    assert isinstance(task.post_processor, ThresholdPostProcessor)
    assert isinstance(task.evaluator, BinarySegmentationEvaluator)
    assert task.evaluator.clip_distance == 80.0 and task.evaluator.tol_distance == 80.0
    assert task.channels == ["peroxisome"]
    assert len(task.parameters) == len(set(task.parameters)) > 1
    assert task.evaluation_scores.criteria == task.evaluator.criteria
    assert "peroxisome__dice" in task.evaluator.criteria


def test_import_is_light():
    code = (
        "import sys, time; t = time.perf_counter();"
        "import dacapo.experiments.tasks as t_;"
        "from dacapo.experiments.tasks import DistanceTaskConfig;"
        "c = DistanceTaskConfig(name='x', channels=['a'], clip_distance=1, tol_distance=1);"
        "task = c.task_type(c);"
        "assert 'torch' not in sys.modules and 'edt' not in sys.modules, 'heavy import';"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
