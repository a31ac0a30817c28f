"""Validation: predict every validation dataset with the model's eval shapes, post-process with
every parameter of the task's sweep, evaluate against gt, store the scores, and record the best
iteration (and keep its weights) per dataset and criterion."""

from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from dacapo.compat import original_arguments

logger = logging.getLogger(__name__)

BEST = "best"  # alias of the evaluator's primary criterion in the weights store


_DATASETS_CONFIG = {"datasets_config": (None, "the run's datasplit (validate a run whose datasplit holds those datasets)")}

@original_arguments(unsupported=_DATASETS_CONFIG)
def validate(run_name: str, iteration: int, progress: bool = True, baselines: bool = True):
    """Validate the stored checkpoint ``iteration`` of run ``run_name``."""
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store, create_weights_store

    run = Run(create_config_store().retrieve_run_config(run_name), load_starter_model=False)
    state = create_weights_store().retrieve_weights(run_name, iteration)
    run.model.load_state_dict(state["model"])
    return validate_run(run, iteration, progress=progress, baselines=baselines)


def format_scores(run_name: str, scores) -> str:
    """``scores`` (a ``ValidationIterationScores`` of run ``run_name``) as tables, with the best
    setting per criterion."""
    from dacapo.store.create_store import create_config_store

    task_config = create_config_store().retrieve_run_config(run_name).task_config
    return scores.format(task_config.task_type(task_config).evaluator.higher_is_better)


@original_arguments(unsupported=_DATASETS_CONFIG)
def validate_run(
    run, iteration: int, device: Optional[str] = None, board=None, progress: bool = True,
    baselines: bool = True, max_voxels: Optional[int] = None,
):
    """Validate ``run.model`` as it is now, recording the scores as those of ``iteration``
    (also in TensorBoard: on ``board``, a ``RunBoard``, else on one of this call's own).

    Each dataset is predicted once (blockwise, into the array store); the post-processor's whole
    sweep then runs on that stored prediction: in memory, or for datasets of more than
    ``max_voxels`` voxels (default: the ``validation_max_voxels`` option) blockwise, scored
    block by block (``dacapo.blockwise.validation``; criteria that need the whole volume, the
    binary distances, are NaN there). With ``baselines``, the evaluator's reference
    outputs (for instance segmentations: one segment, every voxel its own) are scored too.
    Returns the named ``ValidationIterationScores``."""
    from dacapo.experiments.datasplits.datasets.arrays.array_utils import read as read_array
    from tqdm import tqdm

    from dacapo.blockwise.validation import sweep_blockwise
    from dacapo.console import interactive
    from dacapo.options import Options
    from dacapo.experiments.validation_iteration_scores import ValidationIterationScores
    from dacapo.experiments.validation_scores import parameter_dict
    from dacapo.store.create_store import create_array_store, create_stats_store

    datasets = run.datasplit.validate
    if not datasets:
        logger.info("run %s has no validation datasets", run.name)
        return None
    stats_store = create_stats_store()
    array_store = create_array_store()
    task = run.task
    parameters = list(task.post_processor.enumerate_parameters())
    criteria = list(task.evaluator.criteria)
    if max_voxels is None:
        max_voxels = Options.instance().validation_max_voxels

    scores = []
    baseline_scores = {}
    # one step per dataset prediction and per post-processed parameter
    with tqdm(
        total=len(datasets) * (1 + len(parameters)),
        desc=f"validate {run.name} @{iteration}",
        unit="step",
        dynamic_ncols=True,
        leave=False,
        disable=not progress or not interactive(),  # no \r updates in logs
    ) as bar:
        for dataset in datasets:
            bar.set_postfix(dataset=dataset.name)
            prediction, prediction_id = _predict_dataset(run, dataset, iteration, array_store,
                                                         device)
            bar.update(1)
            voxels = int(np.prod(prediction.roi.shape / prediction.voxel_size))
            if voxels > max_voxels and task.evaluator.streams:
                per_parameter, dataset_baselines = sweep_blockwise(
                    run, dataset, prediction_id, prediction, parameters, iteration,
                    array_store, max_voxels, baselines, on_parameter=lambda: bar.update(1),
                )
                scores.append(per_parameter)
                if baselines:
                    baseline_scores[dataset.name] = dataset_baselines
                continue
            if voxels > max_voxels:
                logger.warning("%s cannot score blockwise: %s (%d voxels) is scored in memory",
                               type(task.evaluator).__name__, dataset.name, voxels)
            gt = read_array(dataset.gt, prediction.roi)
            mask = None if dataset.mask is None else read_array(dataset.mask, prediction.roi)
            prediction_data = prediction[prediction.roi]
            per_parameter = []
            for parameter in parameters:
                output = task.post_processor.process(parameter, prediction_data)
                result = task.evaluator.evaluate(
                    output, gt, voxel_size=prediction.voxel_size, mask=mask
                )
                values = result.to_dict()
                per_parameter.append([float(values[c]) for c in criteria])
                bar.update(1)
            scores.append(per_parameter)
            if baselines:
                baseline_scores[dataset.name] = {
                    name: result.to_dict()
                    for name, result in task.evaluator.baselines(
                        gt, voxel_size=prediction.voxel_size, mask=mask
                    ).items()
                }

    iteration_scores = ValidationIterationScores(
        iteration, scores,
        datasets=[d.name for d in datasets],
        parameters=[parameter_dict(p) for p in parameters],
        criteria=criteria,
        baselines=baseline_scores,
    )
    validation_scores = _validation_scores(run, stats_store, parameters, datasets)
    validation_scores.discard(iteration)  # validating an earlier checkpoint keeps later scores
    validation_scores.add_iteration_scores(iteration_scores)
    stats_store.store_validation_iteration_scores(run.name, validation_scores)
    run.validation_scores = validation_scores
    _write_board(run, iteration, scores, datasets, parameters, criteria, board)
    _record_best(run, validation_scores, datasets, criteria)
    _remove_superseded_predictions(run.name, array_store)
    return iteration_scores


def _write_board(run, iteration, scores, datasets, parameters, criteria, board) -> None:
    from dacapo.tensorboard import RunBoard

    own = board is None
    board = RunBoard(run.name) if own else board
    try:
        board.validation(iteration, scores, datasets, parameters, criteria,
                         run.task.evaluator.higher_is_better)
        board.flush()
    finally:
        if own:
            board.close()


def _validation_scores(run, stats_store, parameters, datasets):
    from dacapo.experiments.validation_scores import ValidationScores

    existing = stats_store.retrieve_validation_iteration_scores(run.name)
    return ValidationScores(parameters, datasets, run.task.evaluator, list(existing))


def _predict_dataset(run, dataset, iteration, array_store, device):
    from funlib.geometry import Coordinate

    from dacapo.blockwise.ownership import array_inputs, check_placement
    from dacapo.predict_local import BlockPredictor
    from dacapo.utils.arrays import create_array

    predictor = BlockPredictor(
        run.model,
        dataset.raw,
        device=device,
        batch_size=1,
        raw_transform=run.trainer.inference_transform,
    )
    gt_roi = dataset.gt.roi.snap_to_grid(predictor.output_voxel_size, mode="shrink")
    identifier = array_store.validation_prediction_array(run.name, iteration, dataset.name)
    # (the run's own store: replaced freely, unless a dataset of the run reads from there)
    config = getattr(run, "config", None)
    check_placement(identifier, array_inputs(getattr(config, "datasplit_config", None)))
    output = create_array(
        identifier,
        roi=gt_roi,
        voxel_size=Coordinate(predictor.output_voxel_size),
        num_channels=predictor.out_channels,
        dtype=np.float32,
        channel_names=list(run.task.predictor.channels),
    )
    predictor.predict(predictor.write_rois(gt_roi), output, clip_roi=gt_roi)
    return output, identifier


def _best_iteration(validation_scores, dataset_index: int, criterion: str, evaluator):
    """The iteration with the best score (over the parameter sweep) for one dataset/criterion."""
    data = validation_scores.to_xarray().isel(datasets=dataset_index).sel(criteria=criterion)
    values = data.values  # (iterations, parameters)
    if values.size == 0 or np.all(np.isnan(values)):
        return None, None
    higher = evaluator.higher_is_better(criterion)
    filled = np.where(np.isnan(values), -np.inf if higher else np.inf, values)
    per_iteration = filled.max(axis=1) if higher else filled.min(axis=1)
    index = int(np.argmax(per_iteration) if higher else np.argmin(per_iteration))
    return int(data.coords["iterations"].values[index]), float(per_iteration[index])


def record_best(run) -> None:
    """Recompute the best iterations of ``run`` from its stored scores."""
    from dacapo.store.create_store import create_stats_store

    parameters = list(run.task.post_processor.enumerate_parameters())
    datasets = run.datasplit.validate
    scores = _validation_scores(run, create_stats_store(), parameters, datasets)
    _record_best(run, scores, datasets, list(run.task.evaluator.criteria))


def _record_best(run, validation_scores, datasets, criteria) -> None:
    """Store the best iteration per (dataset, criterion) where the newest validation is best."""
    from dacapo.store.create_store import create_weights_store

    weights_store = create_weights_store()
    evaluator = run.task.evaluator
    for d, dataset in enumerate(datasets):
        for c, criterion in enumerate(criteria):
            best_iteration, best_value = _best_iteration(validation_scores, d, criterion, evaluator)
            current = weights_store.retrieve_best(run.name, dataset.name, criterion)
            if best_iteration is not None and best_iteration != current:
                weights_store.store_best(run.name, best_iteration, dataset.name, criterion)
                if criterion == criteria[0]:
                    weights_store.store_best(run.name, best_iteration, dataset.name, BEST)
                logger.info(
                    "run %s: new best %s on %s at iteration %d (%.4g)",
                    run.name, criterion, dataset.name, best_iteration, best_value,
                )


def _remove_superseded_predictions(run_name: str, array_store) -> None:
    """Keep the validation predictions of iterations that are best for some dataset and
    criterion; delete the others."""
    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.store.create_store import create_weights_store

    best = create_weights_store().retrieve_best_all(run_name)
    keep = {int(i) for per_dataset in best.values() for i in per_dataset.values()}
    container = array_store.validation_container(run_name).container
    if not container.exists():
        return
    for entry in container.iterdir():
        if entry.is_dir() and entry.name.isdigit() and int(entry.name) not in keep:
            array_store.remove(LocalArrayIdentifier(container, entry.name))


from dacapo.utils.callable_module import make_callable  # noqa: E402

make_callable(__name__)  # ``dacapo.validate(...)`` calls validate(); ``import dacapo.validate`` is this module
