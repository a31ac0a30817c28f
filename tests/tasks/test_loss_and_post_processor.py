import math

import numpy as np
import pytest
import torch

from dacapo.experiments.tasks.losses import Loss, MSELoss
from dacapo.experiments.tasks.post_processors import (
    PostProcessorParameters,
    ThresholdParameters,
    ThresholdPostProcessor,
    ThresholdPostProcessorParameters,
)


def test_mse_weighted_value():
    p = torch.tensor([[1.0, 2.0, 0.5, -1.0]])
    t = torch.zeros(1, 4)
    w = torch.tensor([[1.0, 0.5, 0.0, 2.0]])
    loss = MSELoss().compute(p, t, w)
    assert isinstance(MSELoss(), Loss)
    assert loss.ndim == 0
    assert loss.item() == pytest.approx((1 * 1 + 0.5 * 4 + 0 + 2 * 1) / 4)
    assert MSELoss().compute(p, t).item() == pytest.approx((1 + 4 + 0.25 + 1) / 4)


def test_mse_zero_weights_no_nan():
    p = torch.randn(2, 3, 4, 4, 4, requires_grad=True)
    t = torch.randn(2, 3, 4, 4, 4)
    loss = MSELoss().compute(p, t, torch.zeros_like(t))
    assert loss.item() == 0.0 and not math.isnan(loss.item())
    loss.backward()
    assert torch.isfinite(p.grad).all() and (p.grad == 0).all()


def test_mse_gradient_and_dtype():
    p = torch.zeros(1, 1, 2, 2, requires_grad=True)
    t = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    w = torch.full((1, 1, 2, 2), 2.0)
    loss = MSELoss().compute(p, t, w)
    loss.backward()
    # d/dp mean(w (p - t)^2) = 2 w (p - t) / n
    assert torch.allclose(p.grad, torch.full_like(p, 2 * 2 * -1 / 4))
    with pytest.raises(ValueError, match="shape"):
        MSELoss().compute(p, torch.zeros(1, 1, 2, 3), None)


def test_threshold_sweep():
    pp = ThresholdPostProcessor()
    params = list(pp.enumerate_parameters())
    assert ThresholdParameters is ThresholdPostProcessorParameters
    assert all(isinstance(p, PostProcessorParameters) for p in params)
    thresholds = [p.threshold for p in params]
    assert min(thresholds) >= -1 and max(thresholds) <= 1
    assert min(thresholds) == -0.5 and max(thresholds) == 0.5 and 0.0 in thresholds
    assert thresholds == sorted(thresholds) and len(params) >= 5
    ids = [p.id for p in params]
    assert len(set(ids)) == len(ids)
    assert len(set(params)) == len(params)  # hashable, distinct
    assert {p: i for i, p in enumerate(params)}[params[3]] == 3
    assert params[0].parameter_names == ["threshold"]
    assert params[0] == ThresholdPostProcessorParameters(id=0, threshold=-0.5)
    assert sorted(reversed(params)) == params
    assert pp.parameters_by_id(2) == params[2]
    assert list(pp.enumerate_parameters()) == params  # repeatable


def test_threshold_process():
    pp = ThresholdPostProcessor(thresholds=[-0.25, 0.0, 0.25])
    pred = np.array([[[-1.0, -0.25, 0.0, 0.1, 0.3, 1.2]]], dtype=np.float32)
    params = list(pp.enumerate_parameters())
    out = pp.process(params[1], pred)
    assert out.dtype == np.uint8 and out.shape == pred.shape
    assert out.tolist() == [[[0, 0, 0, 1, 1, 1]]]
    assert pp.process(params[0], pred).tolist() == [[[0, 0, 1, 1, 1, 1]]]
    assert pp.process(params[2], pred).tolist() == [[[0, 0, 0, 0, 1, 1]]]
    # blockwise == whole
    big = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 8)).astype(np.float32)
    whole = pp.process(params[1], big)
    halves = np.concatenate([pp.process(params[1], big[:, :4]), pp.process(params[1], big[:, 4:])], 1)
    assert (whole == halves).all()
    with pytest.raises(ValueError):
        ThresholdPostProcessor(thresholds=[0.1, 0.1])
