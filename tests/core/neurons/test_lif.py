"""LIF dynamics against hand-computed values, the closed form for constant input and the spike cap."""
import pytest
import torch

from snn_core.neurons.lif import LIFParams, lif_sequence, lif_spikes


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


def test_gradient_flows_through_the_whole_sequence():
    currents = (torch.rand(6, 4, 10) * 1.5).requires_grad_()
    lif_spikes(currents, LIFParams(surrogate="fast-sigmoid")).sum().backward()
    assert torch.isfinite(currents.grad).all() and currents.grad.abs().sum() > 0


def test_spikes_only_run_equals_the_recorded_spikes_bit_for_bit():
    currents = torch.rand(10, 3, 7, generator=torch.Generator().manual_seed(1)) * 1.5    # (T, B, N)
    for params in (LIFParams(), LIFParams(reset="soft", decay=0.9, max_spikes=2)):
        spikes = lif_spikes(currents, params)
        recorded = lif_sequence(currents, params)
        assert isinstance(spikes, torch.Tensor) and torch.equal(spikes, recorded.spikes)
        assert recorded.v_pre.shape == recorded.v_post.shape == currents.shape
