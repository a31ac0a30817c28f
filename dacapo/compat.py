"""What dacapo-ml 0.3.5 code finds here: its moved modules, its removed names and modules (each
fails with a one-line error naming what replaces it) and its defaults that differ on purpose.

``install()`` (run by ``import dacapo``) adds a finder at the end of ``sys.meta_path``: a module
of the original that has moved imports as its successor; one that is gone raises
``ModuleNotFoundError`` saying what to use instead. Modules that lost single names end with
``__getattr__ = removed_names(__name__)``. The migration page (docs/migration.md) lists all of it.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any

#: original module -> the module that replaces it here (imported under both names)
MOVED_MODULES = {
    "dacapo.experiments.datasplits.simple_config": "dacapo.experiments.datasplits.simple_datasplit_config",
    "dacapo.experiments.datasplits.datasets.simple": "dacapo.experiments.datasplits.datasets.simple_dataset",
}

#: original module -> what replaces it (the one-line error of importing it)
REMOVED_MODULES = {
    "dacapo.blockwise.blockwise_task": "dacapo.blockwise.task (DaCapo's daisy tasks)",
    "dacapo.blockwise.predict_worker": "dacapo.blockwise.predict_task (daisy workers start themselves)",
    "dacapo.blockwise.segment_worker": "dacapo.blockwise.segment",
    "dacapo.blockwise.relabel_worker": "dacapo.blockwise.segment (relabelling across blocks)",
    "dacapo.blockwise.empanada_function": "nothing: empanada segmentation is not supported",
    "dacapo.experiments.arraytypes": "nothing: arrays carry axis names and dtypes; tasks describe their outputs",
    "dacapo.experiments.datasplits.datasets.arrays.dvid_array_config": "nothing: export DVID volumes to zarr and use ZarrArrayConfig",
    "dacapo.experiments.datasplits.datasets.graphstores": "nothing: graph (point) sources are not supported",
    "dacapo.experiments.datasplits.keys": "nothing: datasets expose raw, gt, mask and weight directly",
    "dacapo.experiments.tasks.evaluators.dummy_evaluator": "dacapo.experiments.tasks.dummy_task (DummyTaskConfig)",
    "dacapo.experiments.tasks.evaluators.dummy_evaluation_scores": "dacapo.experiments.tasks.dummy_task (DummyTaskConfig)",
    "dacapo.experiments.tasks.post_processors.dummy_post_processor": "dacapo.experiments.tasks.dummy_task (DummyTaskConfig)",
    "dacapo.experiments.tasks.post_processors.dummy_post_processor_parameters": "dacapo.experiments.tasks.dummy_task (DummyTaskConfig)",
    "dacapo.experiments.tasks.predictors.dummy_predictor": "dacapo.experiments.tasks.dummy_task.DummyPredictor",
    "dacapo.ext": "nothing (an internal helper)",
    "dacapo.gp": "gunpowder's own nodes (gp.DeformAugment, gp.IntensityAugment, gp.RejectIfEmpty...) "
    "through GunpowderTrainerConfig's augments",
    "dacapo.store.conversion_hooks": "dacapo.store.converter (structure / unstructure)",
    "dacapo.utils.affinities": "dacapo.experiments.tasks.affinities_task (AffinitiesTaskConfig)",
    "dacapo.utils.array_utils": "funlib.persistence.Array (array[roi] reads and writes)",
    "dacapo.utils.balance_weights": "dacapo.experiments.tasks.predictors.distance_predictor.balance_weights",
    "dacapo.utils.pipeline": "dacapo.utils.synthetic (synthetic volumes)",
    "dacapo.utils.view": "dacapo.view (`dacapo view`: neuroglancer links for runs and arrays)",
    "dacapo.utils.voi": "dacapo.experiments.tasks.evaluators.instance_evaluator (InstanceEvaluator)",
}

#: original module -> {name: what replaces it} for single names that are gone
REMOVED_NAMES: dict[str, dict[str, str]] = {
    "dacapo.apply": {"apply_run": "dacapo.apply (apply(run_name, ...))"},
    "dacapo.blockwise": {"DaCapoBlockwiseTask": "dacapo.blockwise.BlockwiseTask"},
    "dacapo.experiments.datasplits.datasets.arrays": {
        "DVIDArrayConfig": "nothing: export DVID volumes to zarr and use ZarrArrayConfig",
    },
    "dacapo.experiments.tasks.evaluators": {
        "DummyEvaluator": "DummyTaskConfig (its task evaluates with a BinarySegmentationEvaluator)",
        "DummyEvaluationScores": "DummyTaskConfig (BinarySegmentationEvaluationScores)",
    },
    "dacapo.experiments.tasks.post_processors": {
        "DummyPostProcessor": "DummyTaskConfig (its task post-processes with ThresholdPostProcessor)",
        "DummyPostProcessorParameters": "ThresholdPostProcessorParameters",
    },
    "dacapo.cli": {
        name: "the `dacapo` command line (see `dacapo --help`)"
        for name in (
            "prompt_with_choices", "config", "generate_dacapo_yaml", "generate_config",
            "unpack_ctx", "get_rois",
        )
    },
    "dacapo.plot": {
        "smooth_values": "dacapo.plot.smoothed",
        "get_runs_info": "dacapo.plot.run_curves",
        "bokeh_plot_runs": "dacapo.plot (plot_runs, with plotly)",
    },
    "dacapo.blockwise.argmax_worker": {
        name: "dacapo.apply (post-processing runs as a daisy task)"
        for name in ("cli", "start_worker", "start_worker_fn", "spawn_worker")
    },
    "dacapo.blockwise.threshold_worker": {
        name: "dacapo.apply (post-processing runs as a daisy task)"
        for name in ("cli", "start_worker", "start_worker_fn", "spawn_worker")
    },
    "dacapo.experiments.datasplits.datasplit_generator": {
        name: "DataSplitGenerator (its methods)"
        for name in (
            "is_zarr_group", "resize_if_needed", "limit_validation_crop_size",
            "get_right_resolution_array_config", "CustomEnumMeta", "format_class_name",
        )
    },
    "dacapo.experiments.tasks.evaluators.instance_evaluator": {
        "relabel": "InstanceEvaluator.evaluate", "voi": "InstanceEvaluator.evaluate",
    },
    "dacapo.experiments.tasks.evaluators.binary_segmentation_evaluator": {
        "ArrayEvaluator": "BinarySegmentationEvaluator.evaluate",
        "CremiEvaluator": "BinarySegmentationEvaluator.evaluate",
    },
    "dacapo.experiments.architectures.cnnectome_unet": {
        "Downsample": "torch.nn.MaxPool2d/MaxPool3d (inside CNNectomeUNet)",
    },
    "dacapo.experiments.starts.start": {"match_heads": "Start.initialize_weights"},
    "dacapo.experiments.starts.cosem_start": {"get_model_setup": "CosemStart.initialize_weights"},
    "dacapo.store.weights_store": {"Weights": "WeightsStore (state dicts in checkpoints)"},
    "dacapo.store.converter": {"TypedConverter": "dacapo.store.converter.converter (one cattrs converter)"},
}


def _message(name: str, replacement: str) -> str:
    return f"{name} (dacapo-ml 0.3.5) does not exist in DaCapo; use {replacement} (see docs/migration.md)"


def _removed_module(name: str):
    for prefix, replacement in REMOVED_MODULES.items():
        if name == prefix or name.startswith(prefix + "."):
            return replacement
    return None


class _OriginalModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the original's moved and removed modules; last on ``sys.meta_path``, so that a
    module that exists here always wins."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED_MODULES or _removed_module(fullname) is not None:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        if spec.name in MOVED_MODULES:
            return importlib.import_module(MOVED_MODULES[spec.name])
        raise ModuleNotFoundError(_message(spec.name, _removed_module(spec.name)), name=spec.name)

    def exec_module(self, module):
        pass


def install() -> None:
    if not any(isinstance(f, _OriginalModules) for f in sys.meta_path):
        sys.meta_path.append(_OriginalModules())


class RemovedNameError(ImportError):
    """A name of dacapo-ml 0.3.5 that is gone. An ImportError, not an AttributeError, so that
    ``from module import name`` shows this message instead of Python's generic one."""


def removed_names(module_name: str):
    """A module ``__getattr__`` raising a one-line ``RemovedNameError`` for the original's
    names that ``module_name`` no longer has."""
    names = REMOVED_NAMES.get(module_name, {})

    def __getattr__(name: str) -> Any:
        if name in names:
            raise RemovedNameError(_message(f"{module_name}.{name}", names[name]), name=name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


# --- keyword arguments of the original's functions -------------------------------------------
def original_arguments(renamed: dict[str, str] | None = None, unsupported: dict | None = None):
    """A decorator that takes dacapo-ml 0.3.5's keyword arguments: ``renamed`` maps an
    original name to this function's; ``unsupported`` maps a name to ``(the value accepted,
    what replaces it)``, and any other value fails in one line."""
    import functools

    renamed, unsupported = renamed or {}, unsupported or {}

    def decorate(function):
        where = f"{function.__module__}.{function.__name__}"

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{where}() got both {old}= (dacapo-ml 0.3.5) and {new}=")
                    kwargs[new] = kwargs.pop(old)
            for name, (accepted, replacement) in unsupported.items():
                if name in kwargs and kwargs.pop(name) != accepted:
                    raise ValueError(_message(f"{where}({name}=...)", replacement))
            return function(*args, **kwargs)

        return wrapper

    return decorate


# --- defaults that differ from the original on purpose ---------------------------------------
class DefaultChangedWarning(UserWarning):
    """A config field kept a default that differs from dacapo-ml 0.3.5's."""


_WARNED: set[str] = set()

#: Fields that the stored document being structured names (``store.converter``): a value read
#: back from a document that names it was chosen (or written by DaCapo), so it is no default.
stored_fields: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "stored_fields", default=frozenset()
)


def original_default(config_class: str, original: Any, why: str):
    """An attrs validator that warns once per process and field when a ``config_class`` (by
    name: subclasses had their own defaults in the original) holds this field's (new) default
    value, which differs from the original's ``original``."""

    def validator(instance: Any, attribute: Any, value: Any) -> None:
        key = f"{type(instance).__name__}.{attribute.name}"
        if type(instance).__name__ != config_class or key in _WARNED:
            return
        if value != attribute.default or value == original or attribute.name in stored_fields.get():
            return
        _WARNED.add(key)
        warnings.warn(
            f"{key} is {value!r} (dacapo-ml 0.3.5 defaulted to {original!r}): {why} "
            "(shown once; docs/migration.md)",
            DefaultChangedWarning,
            stacklevel=3,  # the code that made the config (past attrs' __init__)
        )

    return validator
