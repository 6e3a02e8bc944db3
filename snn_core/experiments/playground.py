"""One LIF neuron driven by a chosen input current: the currents, the simulation and its f–I curve.

Every input generator has the signature ``(steps, options: InputOptions) -> current[T]`` and is
listed in ``INPUTS``; ``INPUT_OPTIONS`` says which options each one reads. Randomness always
comes from a ``torch.Generator`` seeded with ``options.seed``, never from the global RNG.
The playground works in float64 so hover values read 0.8, not 0.800000011920929.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ..config.run_config import NeuronConfig
from ..neurons.lif import LIFParams, lif_sequence, lif_spikes

DTYPE = torch.float64
MAX_STEPS = 10_000


class InputOptions(NamedTuple):
    """Settings of the input generators; each generator reads only its own (see ``INPUT_OPTIONS``)."""

    amplitude: float = 0.8         # constant / step / ramp end / noisy mean, in membrane-potential units per step
    onset_step: int = 5            # step: the first time step at which the current is on
    noise_sigma: float = 0.2       # noisy: standard deviation of the Gaussian noise added on every step
    rate_per_step: float = 0.3     # poisson: probability of an input spike on each step (spikes per step)
    weight: float = 0.6            # poisson: current injected by one input spike (synaptic weight)
    seed: int = 0                  # noisy / poisson: seed of the torch.Generator


def constant_input(steps: int, o: InputOptions) -> torch.Tensor:
    """The same current ``amplitude`` on every step."""
    return torch.full((steps,), float(o.amplitude), dtype=DTYPE)                  # (T,)


def step_input(steps: int, o: InputOptions) -> torch.Tensor:
    """Zero before ``onset_step``, then ``amplitude`` from that step on."""
    on = torch.arange(steps) >= o.onset_step                                    # (T,) bool
    return on.to(DTYPE) * float(o.amplitude)                                    # (T,)


def ramp_input(steps: int, o: InputOptions) -> torch.Tensor:
    """A straight line from 0 on the first step to ``amplitude`` on the last (one step: just ``amplitude``)."""
    if steps == 1:
        return torch.full((1,), float(o.amplitude), dtype=DTYPE)
    return torch.linspace(0.0, float(o.amplitude), steps, dtype=DTYPE)          # (T,)


def noisy_input(steps: int, o: InputOptions) -> torch.Tensor:
    """``amplitude`` plus independent Gaussian noise of standard deviation ``noise_sigma`` on every step."""
    generator = torch.Generator().manual_seed(int(o.seed))
    noise = torch.randn(steps, generator=generator, dtype=DTYPE)                # (T,)
    return float(o.amplitude) + float(o.noise_sigma) * noise


def poisson_input(steps: int, o: InputOptions) -> torch.Tensor:
    """Input spikes arriving with probability ``rate_per_step`` on each step, each injecting ``weight``."""
    generator = torch.Generator().manual_seed(int(o.seed))
    arrivals = torch.rand(steps, generator=generator, dtype=DTYPE) < o.rate_per_step   # (T,) bool
    return arrivals.to(DTYPE) * float(o.weight)                                 # (T,)


INPUTS: dict[str, Callable[[int, InputOptions], torch.Tensor]] = {
    "constant": constant_input,
    "step": step_input,
    "ramp": ramp_input,
    "noisy": noisy_input,
    "poisson": poisson_input,
}
INPUT_OPTIONS: dict[str, tuple[str, ...]] = {
    "constant": ("amplitude",),
    "step": ("amplitude", "onset_step"),
    "ramp": ("amplitude",),
    "noisy": ("amplitude", "noise_sigma", "seed"),
    "poisson": ("rate_per_step", "weight", "seed"),
}


def _fail(name: str, value, allowed: str) -> None:
    raise ValueError(f"{name}={value!r} is not allowed; allowed: {allowed}")


def check_steps(steps) -> int:
    """The number of time steps, or ValueError naming it."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not 1 <= int(steps) <= MAX_STEPS:
        _fail("steps", steps, f"an integer 1..{MAX_STEPS}")
    return int(steps)


def _option_rule(name: str, steps: int) -> tuple[Callable[[float], bool], str]:
    """What an input option must satisfy: a test of its value and the text saying what is allowed."""
    if name in ("onset_step", "seed"):
        hi = steps if name == "onset_step" else 2**63 - 1
        return (lambda v: isinstance(v, numbers.Integral) and 0 <= v <= hi), f"an integer 0..{hi}"
    finite = lambda v: isinstance(v, numbers.Real) and math.isfinite(v)     # noqa: E731
    if name == "noise_sigma":
        return (lambda v: finite(v) and v >= 0), "a finite number >= 0"
    if name == "rate_per_step":
        return (lambda v: finite(v) and 0 <= v <= 1), "a probability 0..1 (spikes per step)"
    return finite, "a finite number"


def input_options(input_name: str, steps: int, **options) -> InputOptions:
    """Validated ``InputOptions``; ValueError names the first bad option the input uses and what is allowed."""
    unknown = sorted(set(options) - set(InputOptions._fields))
    if unknown:
        _fail(unknown[0], options[unknown[0]], f"options {', '.join(InputOptions._fields)}")
    o = InputOptions(**options)
    for name in INPUT_OPTIONS[input_name]:
        ok, allowed = _option_rule(name, steps)
        value = getattr(o, name)
        if isinstance(value, bool) or not ok(value):
            _fail(name, value, allowed)
    return o


def make_input(input_name: str, steps: int, **options) -> torch.Tensor:
    """The input current ``[T]`` of the named generator, after validating every argument."""
    if input_name not in INPUTS:
        _fail("input_name", input_name, ", ".join(INPUTS))
    steps = check_steps(steps)
    return INPUTS[input_name](steps, input_options(input_name, steps, **options))


def check_params(params: LIFParams) -> LIFParams:
    """The neuron parameters, validated against the config's neuron specs (same bounds and messages)."""
    if not isinstance(params, LIFParams):
        _fail("params", params, "an LIFParams")
    NeuronConfig(**params._asdict())
    return params


class NeuronRun(NamedTuple):
    """One neuron over T steps: every array is 1-D ``(T,)`` numpy, potentials before and after reset."""

    current: np.ndarray
    v_pre: np.ndarray
    v_post: np.ndarray
    spikes: np.ndarray            # bool
    spike_count: int
    rate_per_step: float          # spikes per time step over the whole run
    mean_current: float
    first_spike_step: int | None  # None when the neuron never fired


def simulate(input_name: str, params: LIFParams, steps: int, **options) -> NeuronRun:
    """Drive one LIF neuron from rest with the named input for ``steps`` steps and record everything."""
    current = make_input(input_name, steps, **options)                          # (T,)
    out = lif_sequence(current[:, None], check_params(params))                  # each (T, 1)
    spikes = out.spikes[:, 0].numpy() > 0                                       # (T,)
    count = int(spikes.sum())
    first = int(np.argmax(spikes)) if count else None
    return NeuronRun(current.numpy(), out.v_pre[:, 0].numpy(), out.v_post[:, 0].numpy(), spikes,
                     count, count / len(spikes), float(current.mean()), first)


def fi_curve(params: LIFParams, currents, steps: int) -> np.ndarray:
    """Firing rate (spikes per step over ``steps`` steps from rest) for each constant current, in one batch."""
    steps, params = check_steps(steps), check_params(params)
    drive = torch.as_tensor(np.asarray(currents, dtype=np.float64))             # (B,)
    if drive.ndim != 1 or drive.numel() == 0 or not torch.isfinite(drive).all():
        _fail("currents", currents, "a non-empty 1-D sequence of finite numbers")
    spikes = lif_spikes(drive.expand(steps, -1), params)                       # (T, B)
    return (spikes.sum(0) / steps).numpy()                                      # (B,)


class FICurve(NamedTuple):
    """Simulated rates on a grid of constant currents, and the closed form on a finer grid when it applies."""

    currents: np.ndarray              # (P,)
    rates: np.ndarray                 # (P,) spikes per step over ``steps`` steps from rest
    steps: int
    analytic_currents: np.ndarray | None
    analytic_rates: np.ndarray | None


def fi_summary(params: LIFParams, steps: int, operating_current: float, points: int = 121) -> FICurve:
    """The f–I curve from 0 past the threshold (a hard-reset neuron then fires every step) and this input."""
    top = max(1.25 * params.threshold, 1.1 * operating_current)
    currents = np.linspace(0.0, top, points)                                    # (P,)
    rates = fi_curve(params, currents, steps)
    if not analytic_applies(params):
        return FICurve(currents, rates, steps, None, None)
    fine = np.linspace(0.0, top, 8 * points)                                    # (8P,)
    return FICurve(currents, rates, steps, fine, analytic_rate(fine, params.decay, params.threshold))


def analytic_applies(params: LIFParams) -> bool:
    """``analytic_rate`` holds for hard reset to 0 without a spike cap."""
    return params.reset == "hard" and params.v_reset == 0.0 and params.max_spikes == 0


def analytic_rate(current, decay: float, threshold: float) -> np.ndarray:
    """Long-run firing rate (spikes per step) under constant input, hard reset to 0, no cap.

    From rest ``v_pre[t] = I * gain(t + 1)`` with ``gain(n) = (1 - beta**n) / (1 - beta)`` (``n`` when
    beta = 1); the first spike is at the smallest t with ``v_pre[t] >= V_th`` and then repeats every
    ``t_first + 1`` steps, so the rate is ``1 / (t_first + 1)``; 0 when ``I / (1 - beta) <= V_th``.
    """
    if not 0 < decay <= 1:
        _fail("decay", decay, "a number in (0, 1]")
    if not threshold > 0:
        _fail("threshold", threshold, "a number > 0")
    amps = np.asarray(current, dtype=np.float64)
    if decay == 1.0:
        reaches = amps > 0
        estimate = threshold / np.where(reaches, amps, 1.0)
    else:
        reaches = amps / (1.0 - decay) > threshold
        ratio = 1.0 - threshold * (1.0 - decay) / np.where(reaches, amps, np.inf)
        estimate = np.log(np.where(reaches, ratio, 0.5)) / math.log(decay)
    period = np.maximum(np.ceil(estimate), 1.0)                                 # steps from rest to the first spike
    period -= (period > 1) & (amps * _gain(period - 1, decay) >= threshold)     # float error is at most one step
    period += amps * _gain(period, decay) < threshold
    return np.where(reaches, 1.0 / period, 0.0)


def _gain(n: np.ndarray, decay: float) -> np.ndarray:
    """Membrane of a resting neuron after ``n`` steps of unit current: sum of decay**k for k < n."""
    return n if decay == 1.0 else -np.expm1(n * math.log(decay)) / (1.0 - decay)
