"""``dacapo plot``: training loss and validation curves of one or several runs, from the stats
store, as a PNG (matplotlib) and an interactive HTML page (plotly).

The HTML embeds plotly's JavaScript (about 5 MB): a page that loads it from a CDN would be blank
when opened on a cluster node or laptop without network, and one next to a separate .js file
breaks when the page alone is copied."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import attrs
import numpy as np

from dacapo.experiments.validation_iteration_scores import stack_scores

PNG_SIZE = (1200, 800)  # pixels
_DPI = 100


@attrs.frozen
class Curve:
    label: str
    iterations: np.ndarray
    values: np.ndarray
    higher_is_better: Optional[bool] = None  # validation curves: which way is better

    def best(self) -> Optional[tuple[int, float]]:
        """``(iteration, value)`` of the best validation (the checkpoint kept as best)."""
        if self.higher_is_better is None or np.all(np.isnan(self.values)):
            return None
        index = int(np.nanargmax(self.values) if self.higher_is_better else np.nanargmin(self.values))
        return int(self.iterations[index]), float(self.values[index])


@attrs.frozen
class RunCurves:
    name: str
    loss: Curve
    validation: list[Curve]  # per (dataset, criterion): the best over the parameter sweep
    criterion_labels: list[str]  # "criterion (higher is better)" per curve
    learning_rate: Optional[Curve] = None


def run_curves(run_name: str, criterion: Optional[str] = None) -> RunCurves:
    """The curves of one run; ``criterion`` defaults to the evaluator's primary one."""
    from dacapo.listing import dataset_names
    from dacapo.store.create_store import create_config_store, create_stats_store

    config = create_config_store().retrieve_run_config(run_name)
    stats_store = create_stats_store()
    stats = stats_store.retrieve_training_stats(run_name).iteration_stats
    iterations = np.array([s.iteration for s in stats], dtype=int)
    loss = Curve("loss", iterations, np.array([s.loss for s in stats], dtype=float))
    learning_rate = Curve("learning rate", iterations,
                          np.array([s.learning_rate for s in stats], dtype=float))
    scores = stats_store.retrieve_validation_iteration_scores(run_name)
    curves, labels = [], []
    if scores:
        evaluator = config.task_config.task_type(config.task_config).evaluator
        criteria = list(evaluator.criteria)
        chosen = criterion or criteria[0]
        if chosen not in criteria:
            raise ValueError(
                f"run {run_name!r}: unknown criterion {chosen!r}; its criteria: {', '.join(criteria)}"
            )
        c = criteria.index(chosen)
        higher = evaluator.higher_is_better(chosen)
        names = dataset_names(config)
        iterations = np.array([s.iteration for s in scores], dtype=int)
        # (it, dataset, setting, criterion), each iteration placed by name
        values = stack_scores(scores, names, criteria)
        for d in range(values.shape[1]):
            column = values[:, d, :, c]
            with np.errstate(all="ignore"):
                best = np.array([
                    np.nan if np.all(np.isnan(row)) else (np.nanmax(row) if higher else np.nanmin(row))
                    for row in column
                ])
            name = names[d] if d < len(names) else f"dataset {d}"
            curves.append(Curve(f"{name} {chosen}", iterations, best, higher))
            labels.append(f"{chosen} ({'higher' if higher else 'lower'} is better)")
    return RunCurves(run_name, loss, curves, labels, learning_rate)


def smoothing_window(size: int) -> int:
    """Iterations averaged by the loss's moving average: a tenth of the curve, from 10 (or the
    whole curve when shorter) to 1000."""
    return max(1, min(size, max(10, size // 10), 1000))


def smoothed(values: np.ndarray, window: Optional[int] = None) -> np.ndarray:
    """A trailing moving average (window: ``smoothing_window``)."""
    if values.size == 0:
        return values
    window = window or smoothing_window(values.size)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values, dtype=float)
    for i in range(values.size):
        start = max(0, i + 1 - window)
        out[i] = (cumulative[i + 1] - cumulative[start]) / (i + 1 - start)
    return out


def _require(module: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise RuntimeError(f"{what} needs the {package} package: pip install {package}") from None


def write_png(runs: Sequence[RunCurves], path: os.PathLike | str) -> Path:
    _require("matplotlib", "the PNG plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(PNG_SIZE[0] / _DPI, PNG_SIZE[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    loss_axes, lr_axes, score_axes = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1, 3]})
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for run, color in zip(runs, colors):
        loss = run.loss
        if loss.values.size:
            loss_axes.plot(loss.iterations, loss.values, color=color, alpha=0.25, linewidth=0.8)
            loss_axes.plot(loss.iterations, smoothed(loss.values), color=color, label=run.name)
        if run.learning_rate is not None and run.learning_rate.values.size:
            lr_axes.plot(run.learning_rate.iterations, run.learning_rate.values, color=color)
        styles = ["-", "--", ":", "-."]
        for k, curve in enumerate(run.validation):
            score_axes.plot(curve.iterations, curve.values, styles[k % 4], color=color, marker="o",
                            markersize=3, label=f"{run.name}: {curve.label}")
            best = curve.best()
            if best is not None:
                score_axes.plot(*best, marker="*", markersize=14, color=color,
                                markeredgecolor="black", linestyle="none")
                score_axes.annotate(f"best @{best[0]}", best, textcoords="offset points",
                                    xytext=(-8, 8), ha="right", fontsize="small", color=color)
    if all(r.loss.values.size and np.all(r.loss.values > 0) for r in runs):
        loss_axes.set_yscale("log")
    loss_axes.set_ylabel("training loss")
    windows = sorted({smoothing_window(r.loss.values.size) for r in runs if r.loss.values.size})
    loss_axes.set_title("training loss (faint: per iteration; solid: moving average over "
                        f"{'/'.join(map(str, windows)) or '-'} iterations)")
    lr_axes.set_ylabel("learning rate")
    labels = sorted({label for r in runs for label in r.criterion_labels})
    score_axes.set_ylabel("validation score")
    score_axes.set_title("validation: best over post-processing parameters"
                         + (f" - {'; '.join(labels)}" if labels else " (no validation scores)"))
    score_axes.set_xlabel("iteration")
    score_axes.set_title(score_axes.get_title() + " - star: best checkpoint", fontsize="medium")
    for axes in (loss_axes, lr_axes, score_axes):
        axes.grid(True, alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    return _atomic(path, lambda f: figure.savefig(f, format="png", dpi=_DPI))


def write_html(runs: Sequence[RunCurves], path: os.PathLike | str) -> Path:
    _require("plotly", "the HTML plot")
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                           row_heights=[0.4, 0.2, 0.4],
                           subplot_titles=("training loss", "learning rate",
                                           "validation (best over parameters; star: best checkpoint)"))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    for i, run in enumerate(runs):
        color = palette[i % len(palette)]
        loss = run.loss
        figure.add_trace(go.Scatter(x=loss.iterations, y=loss.values, name=f"{run.name} loss",
                                    line={"color": color, "width": 1}, opacity=0.3,
                                    legendgroup=run.name), row=1, col=1)
        figure.add_trace(go.Scatter(x=loss.iterations, y=smoothed(loss.values),
                                    name=f"{run.name} loss (moving average)",
                                    line={"color": color}, legendgroup=run.name), row=1, col=1)
        if run.learning_rate is not None:
            figure.add_trace(go.Scatter(x=run.learning_rate.iterations, y=run.learning_rate.values,
                                        name=f"{run.name} learning rate", line={"color": color},
                                        legendgroup=run.name), row=2, col=1)
        for k, curve in enumerate(run.validation):
            figure.add_trace(go.Scatter(x=curve.iterations, y=curve.values, mode="lines+markers",
                                        name=f"{run.name}: {curve.label}", legendgroup=run.name,
                                        line={"color": color, "dash": ["solid", "dash", "dot"][k % 3]}),
                             row=3, col=1)
            best = curve.best()
            if best is not None:
                figure.add_trace(go.Scatter(x=[best[0]], y=[best[1]], mode="markers",
                                            name=f"{run.name}: best @{best[0]}", legendgroup=run.name,
                                            marker={"color": color, "symbol": "star", "size": 14,
                                                    "line": {"color": "black", "width": 1}}),
                                 row=3, col=1)
    figure.update_xaxes(title_text="iteration", row=3, col=1)
    figure.update_yaxes(title_text="loss", row=1, col=1)
    figure.update_yaxes(title_text="learning rate", row=2, col=1)
    figure.update_yaxes(title_text="score", row=3, col=1)
    figure.update_layout(title=f"DaCapo: {', '.join(r.name for r in runs)}", height=800)
    html = figure.to_html(include_plotlyjs=True, full_html=True)
    return _atomic(path, lambda f: f.write(html.encode()))


def plot_runs(run_names: Sequence[str], png: Optional[os.PathLike | str] = None,
              html: Optional[os.PathLike | str] = None, criterion: Optional[str] = None) -> list[Path]:
    if not run_names:
        raise ValueError("plot: name at least one run")
    runs = [run_curves(name, criterion) for name in run_names]
    written = []
    if png is not None:
        written.append(write_png(runs, png))
    if html is not None:
        written.append(write_html(runs, html))
    return written


def _atomic(path: os.PathLike | str, write) -> Path:
    from dacapo.store._files import atomic_write

    path = Path(path)
    atomic_write(path, write)
    return path


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
