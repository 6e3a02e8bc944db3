"""The spike function and its surrogate gradients: unit area, peak at threshold, finite gradients, names."""
import math

import pytest
import torch

from snn_core.neurons.spike import SURROGATE_GRADIENTS, spike


@pytest.mark.parametrize("name", list(SURROGATE_GRADIENTS))
def test_surrogates_have_unit_area_and_peak_at_threshold(name):
    x = torch.linspace(-200, 200, 800_001)
    grad = SURROGATE_GRADIENTS[name](x, 0.5)
    area = float(torch.trapezoid(grad, x))
    assert area == pytest.approx(1.0, abs=0.01)
    assert float(SURROGATE_GRADIENTS[name](torch.tensor(0.0), 0.5)) == pytest.approx(2.0)   # 1 / width at V_th


@pytest.mark.parametrize("name", list(SURROGATE_GRADIENTS))
def test_spike_gradient_is_finite_and_nonzero_near_threshold(name):
    x = torch.linspace(-0.2, 0.2, 9, requires_grad=True)
    spike(x, name, 1.0).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad > 0).all()
    assert spike(x.detach(), name).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_unknown_surrogate_names_allowed_values():
    with pytest.raises(ValueError, match="allowed: atan, fast-sigmoid, rectangular"):
        spike(torch.zeros(1), "relu")


def test_atan_surrogate_at_threshold_equals_one_over_width():
    assert float(SURROGATE_GRADIENTS["atan"](torch.tensor(0.0), 0.25)) == pytest.approx(4.0)
    assert float(SURROGATE_GRADIENTS["atan"](torch.tensor(0.25 / math.pi), 0.25)) == pytest.approx(2.0)
