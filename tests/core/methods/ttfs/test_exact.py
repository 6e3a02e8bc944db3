"""The exact event-based TTFS engine: closed-form spike times, exact gradients, the discrete limit, bumping."""
from __future__ import annotations

import json
import math

import pytest
import torch

from snn_core.cli import main
from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_hooks, build_model
from snn_core.methods.ttfs.exact import (
    binned_spikes,
    continuous_threshold,
    grid_states,
    input_spike_times,
    layer_spike_times,
)
from snn_core.methods.ttfs.exact_network import build_exact_model
from snn_core.methods.ttfs.weight_bump import WeightBump
from snn_core.neurons.cuba import CUBAParams, cuba_sequence
from snn_core.training.trainer import Trainer

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1}


def one_input(w: float, t0: float, tau_syn: float, cap: int, t_max: float = 50.0) -> list[float]:
    """Spike times of one neuron (V_th = 1) driven by one input spike of weight ``w`` at ``t0``."""
    times = torch.tensor([[t0]], dtype=torch.float64)
    out = layer_spike_times(times, torch.tensor([0]), torch.tensor([[w]], dtype=torch.float64),
                            tau_syn, 1.0, cap, t_max)
    return out[0, 0].tolist()


def test_single_input_spike_time_is_the_analytic_root():
    # V(t) = w (u - u^2) with u = e^{-(t - t0)/tau_m}; V = 1 at the larger root u = (1 + sqrt(1 - 4/w)) / 2
    # w = 5, tau_s = 2 (tau_m = 4): u = (1 + sqrt(0.2)) / 2 = 0.7236068, t - t0 = -4 ln u = 1.29403
    u = (1 + math.sqrt(1 - 4 / 5)) / 2
    assert one_input(5.0, 3.0, 2.0, 1) == pytest.approx([3.0 - 4 * math.log(u)], abs=1e-12)
    assert one_input(5.0, 3.0, 2.0, 1)[0] == pytest.approx(4.29403, abs=1e-5)
    # the PSP peaks at w/4: w = 4 only touches V_th (no crossing), w = 3.9 never reaches it
    assert one_input(3.9, 0.0, 2.0, 1) == [math.inf]


def test_second_and_third_spikes_after_reset_by_subtraction():
    # after spikes at u_1..u_k the potential is w (u - u^2) - sum_k u / u_k, so spike k+1 solves
    # w u^2 - (w - sum_k 1/u_k) u + 1 = 0 (larger root). w = 20, tau_m = 4, t0 = 0:
    # u1 = 0.9472136 (t1 = 0.21692), u2 = 0.8911027 (t2 = 0.46118)
    w, roots = 20.0, []
    for _ in range(3):
        b = w - sum(1 / r for r in roots)
        roots.append((b + math.sqrt(b * b - 4 * w)) / (2 * w))
    expected = [-4 * math.log(r) for r in roots]
    assert expected[:2] == pytest.approx([0.21692, 0.46118], abs=1e-5)
    assert one_input(w, 0.0, 2.0, 3) == pytest.approx(expected, abs=1e-12)
    assert one_input(w, 0.0, 2.0, 2) == pytest.approx(expected[:2], abs=1e-12)
    # the window ends at t_max: a spike after it is not accepted
    assert one_input(w, 0.0, 2.0, 3, t_max=0.4) == pytest.approx([expected[0], math.inf, math.inf])


def test_silent_neuron_first_spike_time_is_T():
    cfg = RunConfig().with_values({**EXACT, "hidden": (3,), "T": 6})
    net = build_exact_model(cfg, (4,), 2)
    with torch.no_grad():
        net.layers[0].synapse.weight.fill_(5.0)
        net.layers[1].synapse.weight.copy_(torch.tensor([[5.0, 5.0, 5.0], [-1.0, -1.0, -1.0]]))
    frames = torch.zeros(6, 1, 4)
    frames[1, 0, :2] = 1                                                    # two inputs spike at t = 1
    out = net(frames)
    assert torch.isinf(out.spike_times[-1][0, 1, 0])                         # output 1 is silent ...
    assert out.logits[0, 1].item() == pytest.approx(-6 / cfg.model.tau_loss)  # ... so t_first = T
    assert out.logits[0, 0].item() > out.logits[0, 1].item() and out.predictions.tolist() == [0]
    assert out.spikes[-1][:, 0, 1].sum() == 0 and out.spikes[-1][:, 0, 0].sum() == 1


@pytest.mark.parametrize("cap", [1, 2, 3, 5])
def test_no_neuron_exceeds_K_and_spikes_are_ordered(cap):
    gen = torch.Generator().manual_seed(cap)
    times = torch.rand(8, 30, generator=gen, dtype=torch.float64) * 10
    times[torch.rand(8, 30, generator=gen) < 0.3] = math.inf                 # some inputs never spike
    weight = torch.randn(12, 30, generator=gen, dtype=torch.float64) + 0.8
    out = layer_spike_times(times, torch.arange(30), weight, 1.5, 1.0, cap, 15.0)  # (B, N, K)
    fired = torch.isfinite(out)
    assert out.shape == (8, 12, cap) and fired.sum(-1).max() == cap          # the cap is reached, never passed
    assert (out[fired] < 15.0).all() and (out.diff(dim=-1)[fired[..., 1:]] > 0).all()
    assert (fired[..., 1:] <= fired[..., :-1]).all()                        # no gap before a spike
    assert binned_spikes(out, 15).sum(0).max() <= cap


def test_exact_gradients_match_finite_differences():
    gen = torch.Generator().manual_seed(3)
    times = torch.tensor([[0.0, 0.7, 1.3, 2.2, 3.1]], dtype=torch.float64).repeat(2, 1)
    times[1] = times[1].flip(0)
    weight = (torch.rand(3, 5, generator=gen, dtype=torch.float64) * 4 + 1).requires_grad_()
    pre = times.clone().requires_grad_()

    def spike_times(t, w):
        out = layer_spike_times(t, torch.arange(5), w, 1.0, 1.0, 3, 20.0)
        return torch.where(torch.isfinite(out), out, 20.0)

    assert torch.isfinite(spike_times(pre, weight)).all() and (spike_times(pre, weight) < 20).sum() >= 12
    assert torch.autograd.gradcheck(spike_times, (pre, weight), eps=1e-7, atol=1e-5)


def test_continuous_threshold_is_beta_v_th_with_tau_m_twice_tau_s():
    assert continuous_threshold(2.0, 4.0) == 2.0 * math.exp(-1 / 8)               # beta = e^{-1/tau_m}, tau_m = 8


def discrete_and_exact(fine: int, steps: int, cap: int, seed: int = 0):
    """Spike steps of the discrete engine and exact spike times on the same weights and inputs, with
    tau_s = 2 and the input times scaled by ``fine`` (one fine step = 1/fine of a coarse one)."""
    gen = torch.Generator().manual_seed(seed)
    weight = torch.rand(16, 10, generator=gen, dtype=torch.float64) * 3.0
    input_steps = torch.randint(0, 6, (4, 10), generator=gen)                # (B, F) coarse steps
    frames = torch.zeros(steps * fine, 4, 10, dtype=torch.float64)
    frames.scatter_(0, (input_steps * fine).unsqueeze(0), 1.0)
    times, source = input_spike_times(frames)
    tau_syn = 2.0 * fine
    exact = layer_spike_times(times, source, weight, tau_syn, continuous_threshold(1.0, tau_syn), cap,
                              float(steps * fine))                           # (B, N, K)
    discrete = cuba_sequence(frames @ weight.t(), CUBAParams(tau_syn=tau_syn, threshold=1.0, max_spikes=cap))
    return exact, discrete, (times, source, weight, tau_syn)


def spike_gaps(exact: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:
    """exact time - discrete step of the k-th spike, over every neuron and k (same counts required)."""
    assert torch.equal(spikes.sum(0), torch.isfinite(exact).sum(-1).to(spikes.dtype))
    batch, neurons = spikes.shape[1:]
    return torch.cat([exact[b, n][torch.isfinite(exact[b, n])] - torch.nonzero(spikes[:, b, n]).flatten()
                      for b in range(batch) for n in range(neurons)])


def test_exact_spike_times_agree_with_the_discrete_engine_at_fine_steps():
    exact, discrete, _ = discrete_and_exact(20, 12, 3)
    gaps = spike_gaps(exact, discrete.spikes)
    assert len(gaps) > 100 and gaps.abs().max() <= 1.0                      # within one fine step
    first = spike_gaps(exact[..., :1], discrete.spikes * (discrete.spikes.cumsum(0) <= 1))
    assert (first > 0).all() and (first <= 1).all()                          # first spikes: the same bin
    # the plain V_th (beta -> 1, the continuum limit) is off by a few fine steps, not by one
    plain = layer_spike_times(*discrete_and_exact(20, 12, 1)[2][:3], 40.0, 1.0, 1, 240.0)
    assert (plain[..., 0] - exact[..., 0]).abs().max() > 1.0


def test_first_spikes_fall_in_the_discrete_engines_bin_even_at_coarse_steps():
    exact, discrete, _ = discrete_and_exact(1, 12, 1, seed=5)
    assert torch.equal(binned_spikes(exact, 12).double(), discrete.spikes)


def test_grid_states_are_the_discrete_engines_values():
    # before any spike, v_pre and the current equal the discrete engine's exactly (module docstring)
    exact, discrete, (times, source, weight, tau_syn) = discrete_and_exact(1, 12, 1, seed=5)
    current, v_pre, v_post = grid_states(times, source, weight, exact, tau_syn, 1.0, 12)
    quiet = discrete.spikes.cumsum(0) == 0                                     # (T, B, N) no spike yet
    assert torch.allclose(v_pre[quiet], discrete.v_pre[quiet], atol=1e-12)
    assert torch.allclose(v_post[quiet], discrete.v_post[quiet], atol=1e-12)
    assert torch.allclose(current, discrete_current(times, weight, 12), atol=1e-12)
    spiked = binned_spikes(exact, 12) > 0                                       # a spike at t_k in bin m drops
    drop = v_pre[spiked] - v_post[spiked]                                       # V by e^{-(m+1-t_k)/tau_m}
    assert spiked.sum() > 10 and (drop > math.exp(-1 / 4)).all() and (drop <= 1).all()


def discrete_current(times: torch.Tensor, weight: torch.Tensor, steps: int) -> torch.Tensor:
    """I[m] = alpha I[m-1] + W s[m] with alpha = e^{-1/2}, run step by step."""
    current, out = torch.zeros(times.shape[0], weight.shape[0], dtype=torch.float64), []
    for m in range(steps):
        current = math.exp(-0.5) * current + (times == m).double() @ weight.t()
        out.append(current)
    return torch.stack(out)


def test_network_output_feeds_the_trainer_records():
    cfg = RunConfig().with_values({**EXACT, "hidden": (6,), "T": 8, "max-spikes": 2})
    net = build_model(cfg, (1, 3, 3), 3)
    assert net.layer_names == ["fc1", "out"] and all(layer.synapse.bias is None for layer in net.layers)
    frames = torch.zeros(8, 5, 1, 3, 3)
    frames[torch.randint(0, 8, (5, 9)).T.reshape(-1), torch.arange(5).repeat(9), 0,
           torch.arange(9).repeat_interleave(5) // 3, torch.arange(9).repeat_interleave(5) % 3] = 1
    out = net(frames, torch.tensor([1, 3]))
    assert [s.shape for s in out.spikes] == [(8, 5, 6), (8, 5, 3)]
    assert out.output_potential.shape == (8, 5, 3) and out.logits.shape == (5, 3)
    assert [layer.name for layer in out.trace.layers] == ["fc1", "out"] and out.trace.logits.shape == (8, 2, 3)
    hidden = out.trace.layers[0]
    assert hidden.v_pre.shape == (8, 2, 6) and torch.equal(hidden.spikes, out.spikes[0][:, [1, 3]] > 0)
    assert torch.equal(out.trace.logits[-1], out.logits[[1, 3]].detach())


@pytest.mark.parametrize("change, field", [
    ({"arch": "conv"}, "model.arch"), ({"encoding": "direct"}, "data.encoding"),
    ({"neuron": "lif"}, "neuron.model"), ({"readout": "rate"}, "model.readout"),
    ({"max-spikes": 0}, "neuron.max_spikes"), ({"max-spikes": 11}, "neuron.max_spikes"),
    ({"hidden": (300,)}, "model.hidden"), ({"hidden": (8, 8, 8)}, "model.hidden"),
    ({"dataset": "events-shape"}, "data.dataset"), ({"hidden": (256, 256), "max-spikes": 3}, "model.hidden"),
])
def test_config_errors_name_the_field(change, field):
    cfg = RunConfig().with_values({**EXACT, "hidden": (8,), **change})
    with pytest.raises(ValueError, match=f"engine exact: {field}.*allowed"):
        build_model(cfg, (64,), 10)


def test_weight_bumping_is_a_hook_of_the_exact_engine_only():
    exact = RunConfig().with_values({**EXACT, "hidden": (8,)})
    discrete = exact.with_values({"engine": "discrete"})
    assert type(build_model(discrete, (64,), 10)).__name__ == "SpikingNetwork"
    data = Trainer(exact, "cpu").dataset
    assert [type(h) for h in build_hooks(exact, build_model(exact, (64,), 10), data)] == [WeightBump]
    assert build_hooks(discrete, build_model(discrete, (64,), 10), data) == []
    no_bump = exact.with_values({"weight-bump": 0})
    assert build_hooks(no_bump, build_model(no_bump, (64,), 10), data) == []


def test_training_steps_change_the_weights_and_learn_something():
    cfg = RunConfig().with_values({**EXACT, "hidden": (16,), "T": 10, "train-samples": 256, "test-samples": 20,
                                   "batch-size": 64, "lr": 0.01, "tau-loss": 2.0})
    trainer = Trainer(cfg, "cpu")
    before = [p.detach().clone() for p in trainer.model.parameters()]
    losses = [trainer.step().loss for _ in range(8)]                  # two epochs of 4 batches
    assert all(math.isfinite(loss) for loss in losses) and losses[-1] < losses[0] - 0.05
    assert all(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))


def test_cli_train_exact_reports_decision_metrics(capsys):
    assert main(["train", "--engine", "exact", "--encoding", "latency", "--neuron", "cuba", "--readout",
                 "first-spike", "--max-spikes", "2", "--T", "8", "--hidden", "8", "--epochs", "1",
                 "--train-samples", "40", "--test-samples", "20", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = result["config"]["model"]["engine"], result["metrics"]
    assert metrics[0] == "exact" and len(metrics[1]["accuracy_vs_tcut"]) == 8
    assert 0.0 <= metrics[1]["no_decision_fraction"] <= 1.0 and "out" in metrics[1]["layer_firing_rates"]
    assert main(["train", "--engine", "exact", "--encoding", "latency", "--neuron", "cuba", "--readout", "rate",
                 "--max-spikes", "2", "--quiet"]) == 2
    assert "engine exact: model.readout" in capsys.readouterr().err
