"""The neuron playground engine: input generators, one-neuron simulation against hand-computed values,
the f–I curve against its closed form, and argument checks."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from snn_core.experiments import playground
from snn_core.experiments.playground import INPUT_OPTIONS, INPUTS, analytic_rate, fi_curve, make_input, simulate
from snn_core.neurons.lif import LIFParams

ROOT = Path(__file__).resolve().parents[3]


def test_playground_engine_imports_no_ui_libraries():
    code = ("import sys, snn_core.experiments.playground\n"
            "print([m for m in ('streamlit', 'plotly') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_input_has_its_option_list_and_the_right_shape():
    assert set(INPUTS) == set(INPUT_OPTIONS)
    for name in INPUTS:
        current = make_input(name, 17)
        assert current.shape == (17,) and current.dtype == torch.float64


def test_step_is_zero_before_onset_and_amplitude_from_it():
    current = make_input("step", 10, amplitude=0.7, onset_step=4).tolist()
    assert current == [0.0] * 4 + [0.7] * 6


def test_ramp_rises_from_zero_to_amplitude():
    current = make_input("ramp", 25, amplitude=1.5)
    assert current[0] == 0 and current[-1] == pytest.approx(1.5)
    assert (current.diff() > 0).all()


def test_noisy_is_reproducible_from_its_seed_and_has_the_right_mean():
    a = make_input("noisy", 4000, amplitude=0.5, noise_sigma=0.3, seed=7)
    assert torch.equal(a, make_input("noisy", 4000, amplitude=0.5, noise_sigma=0.3, seed=7))
    assert not torch.equal(a, make_input("noisy", 4000, amplitude=0.5, noise_sigma=0.3, seed=8))
    assert float(a.mean()) == pytest.approx(0.5, abs=4 * 0.3 / math.sqrt(4000))
    assert float(a.std()) == pytest.approx(0.3, rel=0.05)


def test_noisy_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_input("noisy", 50, seed=1)
    make_input("poisson", 50, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_poisson_has_the_requested_rate_and_spikes_times_weight():
    current = make_input("poisson", 5000, rate_per_step=0.2, weight=0.75, seed=3)
    assert set(current.unique().tolist()) == {0.0, 0.75}
    rate = float((current > 0).double().mean())
    assert rate == pytest.approx(0.2, abs=4 * math.sqrt(0.2 * 0.8 / 5000))
    assert torch.equal(current, make_input("poisson", 5000, rate_per_step=0.2, weight=0.75, seed=3))


def test_constant_input_reproduces_hand_computed_membrane():
    run = simulate("constant", LIFParams(decay=0.5, threshold=1.0, reset="hard"), 4, amplitude=0.8)
    assert np.round(run.v_pre, 6).tolist() == [0.8, 1.2, 0.8, 1.2]     # 0.5 * 0.8 + 0.8 = 1.2 crosses V_th = 1
    assert np.round(run.v_post, 6).tolist() == [0.8, 0.0, 0.8, 0.0]
    assert run.spikes.tolist() == [False, True, False, True]
    assert (run.spike_count, run.rate_per_step, run.first_spike_step) == (2, 0.5, 1)
    assert run.current.tolist() == [0.8] * 4 and run.mean_current == pytest.approx(0.8)


def test_soft_reset_and_silent_neuron():
    soft = simulate("constant", LIFParams(decay=0.5, reset="soft"), 3, amplitude=0.8)
    assert np.round(soft.v_post, 6).tolist() == [0.8, 0.2, 0.9]
    silent = simulate("constant", LIFParams(decay=0.5), 20, amplitude=0.4)     # 0.4 / (1 - 0.5) < 1
    assert (silent.spike_count, silent.rate_per_step, silent.first_spike_step) == (0, 0.0, None)


@pytest.mark.parametrize("cap", [1, 3])
def test_spike_cap_k_limits_the_count(cap):
    run = simulate("constant", LIFParams(decay=0.5, max_spikes=cap), 30, amplitude=0.8)
    assert run.spike_count == cap
    assert fi_curve(LIFParams(max_spikes=cap), [0.8, 5.0], 30).tolist() == [cap / 30] * 2


def test_analytic_rate_matches_hand_computed_cases():
    assert analytic_rate([0.8, 0.4, 1.0, 2.0, 0.0], 0.5, 1.0).tolist() == [0.5, 0.0, 1.0, 1.0, 0.0]
    assert float(analytic_rate(0.3, 1.0, 1.0)) == 0.25            # no leak: 0.3, 0.6, 0.9, 1.2 -> every 4th step


# Irrational-looking currents: they avoid I * gain(n) == V_th exactly, where float rounding decides the step.
@pytest.mark.parametrize("decay,threshold", [(0.5, 1.0), (0.9, 1.0), (0.7, 0.4), (1.0, 1.3), (0.25, 2.0)])
def test_fi_curve_equals_the_closed_form(decay, threshold):
    currents = np.linspace(math.sqrt(2) / 100, 2.5 * threshold, 37)
    steps = 2520                                                   # a multiple of every period 1..10
    simulated = fi_curve(LIFParams(decay=decay, threshold=threshold), currents, steps)
    expected = analytic_rate(currents, decay, threshold)
    short = expected > 0.1                                         # periods 1..10: whole periods fit in T
    assert short.sum() > 5 and simulated[short] == pytest.approx(expected[short], abs=1e-12)
    periods = np.round(1 / np.where(expected > 0, expected, np.inf))  # (P,) 0 where the neuron never fires
    spikes_in_t = np.where(periods > 0, steps // np.maximum(periods, 1), 0)   # first spike at period - 1
    assert (simulated * steps).round().tolist() == spikes_in_t.tolist()


def test_fi_curve_is_one_batched_engine_call(monkeypatch):
    calls = []
    real = playground.lif_spikes
    monkeypatch.setattr(playground, "lif_spikes", lambda c, p: calls.append(c.shape) or real(c, p))
    fi_curve(LIFParams(), np.linspace(0, 2, 50), 12)
    assert calls == [(12, 50)]


@pytest.mark.parametrize("call,named", [
    (lambda: make_input("sine", 10), "input_name='sine'"),
    (lambda: make_input("constant", 0), "steps=0"),
    (lambda: make_input("step", 10, onset_step=11), "onset_step=11"),
    (lambda: make_input("noisy", 10, noise_sigma=-1.0), "noise_sigma=-1.0"),
    (lambda: make_input("poisson", 10, rate_per_step=1.5), "rate_per_step=1.5"),
    (lambda: make_input("poisson", 10, seed=-2), "seed=-2"),
    (lambda: make_input("constant", 10, amplitude=float("nan")), "amplitude=nan"),
    (lambda: make_input("constant", 10, frequency=3), "frequency=3"),
    (lambda: simulate("constant", LIFParams(decay=1.5), 10), "decay"),
    (lambda: simulate("constant", LIFParams(reset="zero"), 10), "reset"),
    (lambda: fi_curve(LIFParams(), [], 10), "currents"),
    (lambda: analytic_rate(1.0, 0.0, 1.0), "decay=0.0"),
    (lambda: analytic_rate(1.0, 0.5, -1.0), "threshold=-1.0"),
])
def test_bad_arguments_raise_value_errors_that_name_them(call, named):
    with pytest.raises(ValueError, match="allowed") as error:
        call()
    assert named in str(error.value)
