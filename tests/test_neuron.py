"""LIF dynamics against hand-computed values, the closed form for constant input, surrogates and units."""
import ast
import math
from pathlib import Path

import pytest
import torch

from snn_core import neurons
from snn_core.neurons.lif import LIFParams, lif_sequence, lif_spikes
from snn_core.neurons.spike import SURROGATE_GRADIENTS, spike
from snn_core.neurons.units import decay_from_tau, tau_from_decay


def run(current, steps, **params):
    currents = torch.full((steps, 1, 1), current)
    return lif_sequence(currents, LIFParams(**params))


def flat(tensor):
    return [round(v, 6) for v in tensor.flatten().tolist()]


def test_hard_reset_matches_hand_computed_membrane():
    out = run(0.8, 4, decay=0.5, threshold=1.0, reset="hard", v_reset=0.0)
    assert flat(out.v_pre) == [0.8, 1.2, 0.8, 1.2]        # 0.5*0.8 + 0.8 = 1.2 crosses V_th = 1
    assert flat(out.spikes) == [0, 1, 0, 1]
    assert flat(out.v_post) == [0.8, 0.0, 0.8, 0.0]


def test_hard_reset_goes_to_v_reset():
    out = run(0.8, 3, decay=0.5, threshold=1.0, reset="hard", v_reset=-0.5)
    assert flat(out.v_pre) == [0.8, 1.2, 0.55]            # 0.5*(-0.5) + 0.8
    assert flat(out.v_post) == [0.8, -0.5, 0.55]


def test_soft_reset_subtracts_threshold():
    out = run(0.8, 5, decay=0.5, threshold=1.0, reset="soft")
    assert flat(out.v_pre) == [0.8, 1.2, 0.9, 1.25, 0.925]
    assert flat(out.spikes) == [0, 1, 0, 1, 0]
    assert flat(out.v_post) == [0.8, 0.2, 0.9, 0.25, 0.925]


@pytest.mark.parametrize("decay,current,threshold",
                         [(0.5, 0.6, 1.0), (0.9, 0.15, 1.0), (0.8, 0.5, 0.7), (1.0, 0.3, 1.0)])
def test_first_spike_and_period_follow_the_closed_form(decay, current, threshold):
    """From rest with hard reset to 0, v_pre[t] = I (1 - beta^(t+1)) / (1 - beta) (= I (t+1) without leak)."""
    def v(t):
        return current * (t + 1) if decay == 1.0 else current * (1 - decay ** (t + 1)) / (1 - decay)
    first = next(t for t in range(200) if v(t) >= threshold)
    out = run(current, 4 * (first + 1), decay=decay, threshold=threshold)
    steps = torch.nonzero(out.spikes.flatten()).flatten().tolist()
    assert steps == [first + k * (first + 1) for k in range(4)]


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_spike_cap_limits_each_neuron_to_k_spikes(cap):
    out = run(0.8, 12, decay=0.5, threshold=1.0, max_spikes=cap)
    assert flat(out.spikes) == ([0, 1] * cap + [0] * (12 - 2 * cap))


def test_spike_cap_holds_for_random_inputs():
    torch.manual_seed(0)
    currents = torch.rand(30, 8, 50) * 2
    spikes = lif_spikes(currents, LIFParams(max_spikes=2))
    assert spikes.sum(0).max() <= 2
    assert (spikes.sum(0) == 2).any()


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


def test_gradient_flows_through_the_whole_sequence():
    currents = (torch.rand(6, 4, 10) * 1.5).requires_grad_()
    lif_spikes(currents, LIFParams(surrogate="fast-sigmoid")).sum().backward()
    assert torch.isfinite(currents.grad).all() and currents.grad.abs().sum() > 0


def test_unknown_surrogate_names_allowed_values():
    with pytest.raises(ValueError, match="allowed: atan, fast-sigmoid, rectangular"):
        spike(torch.zeros(1), "relu")


def test_atan_surrogate_at_threshold_equals_one_over_width():
    assert float(SURROGATE_GRADIENTS["atan"](torch.tensor(0.0), 0.25)) == pytest.approx(4.0)
    assert float(SURROGATE_GRADIENTS["atan"](torch.tensor(0.25 / math.pi), 0.25)) == pytest.approx(2.0)


def test_spikes_only_run_equals_the_recorded_spikes_bit_for_bit():
    currents = torch.rand(10, 3, 7, generator=torch.Generator().manual_seed(1)) * 1.5    # (T, B, N)
    for params in (LIFParams(), LIFParams(reset="soft", decay=0.9, max_spikes=2)):
        spikes = lif_spikes(currents, params)
        recorded = lif_sequence(currents, params)
        assert isinstance(spikes, torch.Tensor) and torch.equal(spikes, recorded.spikes)
        assert recorded.v_pre.shape == recorded.v_post.shape == currents.shape


def test_tau_and_decay_convert_both_ways():
    assert decay_from_tau(2.0) == pytest.approx(0.6065306597)
    assert tau_from_decay(decay_from_tau(3.7)) == pytest.approx(3.7)
    assert tau_from_decay(1.0) == float("inf")


def test_neurons_import_only_each_other():
    """The neurons room is pure maths: its modules import torch and each other, never the config or the network."""
    outside = []
    for path in Path(neurons.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level > 1 or (node.module or "").startswith("snn_core")):
                outside.append(f"{path.name}: {'.' * node.level}{node.module}")
    assert outside == []
