"""``apply``: predict a volume with a run's chosen weights and post-process it, blockwise.

The weights are those of ``iteration``, or of the best iteration by ``criterion`` on
``validation_dataset`` as recorded by validation (the weights store). The post-processing
parameters are ``parameters``, or the best ones by ``criterion`` for that iteration (the stats
store's validation scores). Prediction and post-processing are two chained daisy tasks (a
post-processing block starts as soon as the predictions it reads are written). Instance
segmentations (post-processors that declare ``produces_instances``, e.g. the mutex watershed)
are computed with the context the post-processor declares and stitched so that ids agree across
blocks (``dacapo.blockwise.segment``). Everything resumes after a
crash: rerunning computes only the missing blocks.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
from funlib.geometry import Roi

from dacapo.compat import original_arguments, removed_names

from .predict import output_identifier, parse_roi

logger = logging.getLogger(__name__)


def validation_dataset_names(run_config, run=None) -> list[str]:
    configs = getattr(run_config.datasplit_config, "validate_configs", None)
    try:
        if configs is not None:
            return [c.name for c in configs]
    except Exception:
        pass
    if run is not None and hasattr(run, "datasplit"):
        return [d.name for d in run.datasplit.validate]
    from dacapo.experiments.run import Run

    return [d.name for d in Run(run_config, load_starter_model=False).datasplit.validate]


def check_validation_dataset(run_name: str, names: list[str], name: str) -> None:
    if name not in names:
        raise ValueError(f"run {run_name!r} has no validation dataset {name!r}; known: "
                         f"{', '.join(names) or 'none'}")


def primary_criterion(evaluator) -> str:
    return list(evaluator.criteria)[0]


def known_criterion(evaluator, criterion: str) -> str:
    """``criterion``, or the evaluator's primary one for ``"best"``; a one-line error listing
    the evaluator's criteria for any other name."""
    criteria = list(evaluator.criteria)
    if criterion == "best":
        return criteria[0]
    if criterion not in criteria:
        raise ValueError(
            f"unknown criterion {criterion!r} for {type(evaluator).__name__}; known: "
            f"{', '.join(criteria)} (or 'best')"
        )
    return criterion


def best_iteration(run_name: str, validation_dataset: Optional[str], criterion: str) -> int:
    from dacapo.store.create_store import create_weights_store

    iteration = create_weights_store().retrieve_best(run_name, validation_dataset, criterion)
    if iteration is None:
        where = f" on {validation_dataset!r}" if validation_dataset else ""
        raise ValueError(
            f"run {run_name!r} has no best iteration by {criterion!r}{where}: validate it first "
            "(dacapo validate / train with validation) or pass an iteration"
        )
    return int(iteration)


def best_parameters(run, iteration: int, validation_dataset: Optional[str], criterion: str):
    """The post-processing parameters scoring best by ``criterion`` at ``iteration`` (on
    ``validation_dataset``, or averaged over the validation datasets); None without scores."""
    from dacapo.experiments.validation_scores import parameter_dict
    from dacapo.store.create_store import create_stats_store

    post_processor = run.task.post_processor
    evaluator = run.task.evaluator
    parameters = list(post_processor.enumerate_parameters())
    criteria = list(evaluator.criteria)
    criterion = known_criterion(evaluator, criterion)
    scores = create_stats_store().retrieve_validation_iteration_scores(run.name)
    entry = next((s for s in scores if s.iteration == iteration), None)
    if entry is None:
        return None
    names = validation_dataset_names(run.config, run)
    if entry.named:  # by name: the sweep may have changed since these scores were stored
        values = entry.aligned(names, [parameter_dict(p) for p in parameters], criteria)
    else:
        values = np.asarray(entry.scores, dtype=float)  # (datasets, parameters, criteria)
    if values.ndim != 3 or values.shape[1] != len(parameters):
        return None
    column = values[:, :, criteria.index(criterion)]
    if validation_dataset is not None:
        check_validation_dataset(run.name, names, validation_dataset)
        column = column[names.index(validation_dataset)]
    else:
        with np.errstate(all="ignore"):
            column = np.nanmean(column, axis=0) if np.isfinite(column).any() else column[0]
    if not np.isfinite(column).any():
        return None
    higher = evaluator.higher_is_better(criterion)
    filled = np.where(np.isfinite(column), column, -np.inf if higher else np.inf)
    index = int(np.argmax(filled) if higher else np.argmin(filled))
    return parameters[index]


def _values_equal(a: dict, b: dict) -> bool:
    if set(a) != set(b):
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, float) or isinstance(y, float):
            try:
                if not np.isclose(float(x), float(y)):
                    return False
            except (TypeError, ValueError):
                return False
        elif x != y and str(x) != str(y):
            return False
    return True


def parse_parameters(post_processor, value):
    """Post-processing parameters from: a parameters object; an id (int or digits) in the
    post-processor's sweep; a dict of values; a string ``"threshold=0.25"``, ``"threshold_0.25"``
    (their ``str``) or ``"ThresholdPostProcessorParameters(threshold=0.25)"``; or a bare number
    when the parameters have a single value."""
    sweep = list(post_processor.enumerate_parameters())
    if not sweep:
        raise ValueError(f"{type(post_processor).__name__} has no parameters")
    cls = type(sweep[0])
    if isinstance(value, cls):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return post_processor.parameters_by_id(int(value))
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            return post_processor.parameters_by_id(int(text))
        for candidate in sweep:
            if str(candidate) == text:
                return candidate
        match = re.fullmatch(r"\w+\((.*)\)", text)
        if match:
            text = match.group(1)
        if "=" in text:
            values = {}
            for item in filter(None, (p.strip() for p in text.split(","))):
                key, _, raw = item.partition("=")
                values[key.strip()] = _literal(raw.strip())
            value = values
        else:
            names = sweep[0].parameter_names
            if len(names) != 1:
                raise ValueError(
                    f"cannot read parameters {value!r}: give {', '.join(f'{n}=...' for n in names)}"
                )
            value = {names[0]: _literal(text)}
    if isinstance(value, dict):
        values = {k: v for k, v in value.items() if k != "id"}
        for candidate in sweep:
            known = {k: v for k, v in candidate.to_dict().items() if k != "id"}
            if _values_equal(known, values):
                return candidate
        try:
            return cls(id=int(value.get("id", -1)), **values)
        except TypeError as exc:
            raise ValueError(f"cannot make {cls.__name__} from {values}: {exc}") from None
    raise ValueError(f"cannot read post-processing parameters from {value!r}")


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parameters_name(parameters) -> str:
    text = re.sub(r"[^A-Za-z0-9_.+=@\-]+", "_", str(parameters)).strip("_")
    return text or f"id_{parameters.id}"


@original_arguments(unsupported={"file_format": ("zarr", "zarr outputs (the only format)")})
def apply(
    run_name: str,
    input_container: Union[str, Path],
    input_dataset: str,
    output_path,
    validation_dataset: Optional[str] = None,
    criterion: str = "best",
    iteration: Optional[int] = None,
    parameters=None,
    roi: Optional[Union[Roi, str]] = None,
    num_workers: int = 1,
    output_dtype=np.uint8,
    overwrite: bool = False,
    *,
    compute_context=None,
    progress: bool = True,
    padding: Optional[str] = None,
    full_size: bool = False,
):
    """Apply run ``run_name`` to ``input_dataset`` of ``input_container``.

    Weights: ``iteration``, or the best iteration by ``criterion`` (``"best"``: the evaluator's
    primary criterion) on ``validation_dataset`` (None: the one validation dataset that recorded
    it). Parameters: ``parameters`` (see ``parse_parameters``), or the best for ``criterion``
    at that iteration from the validation scores. Writes into the container of ``output_path``
    (see ``predict.output_identifier``) the prediction ``prediction_<run>_<iteration>`` (as
    ``output_dtype``, see ``predict``) and the post-processed output
    ``output_<run>_<iteration>_<parameters>``, over ``roi`` (world units; default: the input's
    ROI less the model's context; all of it with ``full_size``; ``padding`` as in ``predict``).
    Returns the output's ``LocalArrayIdentifier``."""
    from dacapo.blockwise.postprocess_task import post_process_task
    from dacapo.blockwise.predict_task import ModelBundle, PredictTask
    from dacapo.blockwise.runner import run_tasks
    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.store.create_store import create_config_store

    run_config = create_config_store().retrieve_run_config(run_name)
    run = ModelBundle(run_config)  # task and model, without an optimizer
    post_processor = run.task.post_processor

    # everything checkable before any output exists or a worker starts: the criterion, the
    # checkpoint (it loads into the model), the parameters; then the input and outputs
    # (PredictTask.create, run_tasks)
    known_criterion(run.task.evaluator, criterion)
    if validation_dataset is not None:
        check_validation_dataset(run_name, validation_dataset_names(run_config, run),
                                 validation_dataset)
    if iteration is None:
        iteration = best_iteration(run_name, validation_dataset, criterion)
        logger.info("apply %s: best iteration by %s is %d", run_name, criterion, iteration)
    iteration = int(iteration)
    run.load_weights(iteration)
    if parameters is None:
        parameters = best_parameters(run, iteration, validation_dataset, criterion)
        if parameters is None:
            sweep = list(post_processor.enumerate_parameters())
            if len(sweep) != 1:
                raise ValueError(
                    f"run {run_name!r} has no validation scores for iteration {iteration} to "
                    f"choose post-processing parameters from; pass parameters (one of: "
                    f"{', '.join(str(p) for p in sweep[:6])}{' ...' if len(sweep) > 6 else ''})"
                )
            parameters = sweep[0]
        logger.info("apply %s: parameters %s", run_name, parameters)
    else:
        parameters = parse_parameters(post_processor, parameters)

    prediction = output_identifier(output_path, input_container, f"prediction_{run_name}_{iteration}")
    output = LocalArrayIdentifier(
        prediction.container, f"output_{run_name}_{iteration}_{parameters_name(parameters)}"
    )
    predict_task = PredictTask.create(
        run_config, iteration, input_container, input_dataset, prediction,
        output_roi=parse_roi(roi), output_dtype=np.dtype(output_dtype), overwrite=overwrite,
        run=run, padding=padding, full_size=full_size,
    )
    voxel_size = predict_task.output_voxel_size
    last = post_process_task(
        run_config.task_config, parameters, prediction, output, predict_task.output_roi,
        voxel_size, predict_task.block_shape, predict_task.num_channels, overwrite=overwrite,
        upstream_tasks=[predict_task],
    )
    summary = run_tasks([last], num_workers=num_workers, compute_context=compute_context,
                        progress=progress)
    logger.info(
        "applied %s (iteration %d, %s) to %s/%s → %s/%s in %.1f s", run_name, iteration,
        parameters, input_container, input_dataset, output.container, output.dataset,
        summary.seconds,
    )
    return output


from dacapo.utils.callable_module import make_callable  # noqa: E402

make_callable(__name__)  # ``dacapo.apply(...)`` calls apply(); ``import dacapo.apply`` is this module


__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
