"""Exact event-based spike times of the current-based LIF with tau_m = 2 tau_s (Fast & Deep / BATS).

The continuous-time limit of the discrete neuron in ``snn_core.neurons.cuba`` (time in steps, C_m = 1)::

    dI/dt = -I / tau_s + sum_j w_j delta(t - t_j)          tau_m dV/dt = -V + I,   tau_m = 2 tau_s
    V reaches V_th (upward)  ->  spike at t_k, V <- V - V_th  (at most K spikes per neuron)

One input spike of weight w at t_j gives the PSP kernel (solve the ODEs; tau_m = 2 tau_s makes
1/tau_m - 1/tau_s = -1/tau_m)::

    V(t) = w (e^{-(t - t_j)/tau_m} - e^{-(t - t_j)/tau_s}),     peak w/4 at t - t_j = tau_m ln 2

so between two consecutive input spikes, with z = e^{t/tau_m} (e^{t/tau_s} = z^2)::

    V = b/z - a/z^2,   a = sum_{t_j <= t} w_j e^{t_j/tau_s},
                       b = sum_{t_j <= t} w_j e^{t_j/tau_m} - V_th sum_k e^{t_k/tau_m}

and V = V_th is the quadratic V_th z^2 - b z + a = 0. Its smaller root z = 2a / (b + sqrt(b^2 - 4 V_th a))
is the upward crossing (it needs a > 0, b > 0 and a positive discriminant); t = tau_m ln z is accepted
if it lies in the interval [t_j, t_{j+1}), after the neuron's previous spike and before ``t_max``.
After a spike b loses V_th z_k and the same interval is searched again. Everything is differentiable
torch, so autograd gives the exact spike-time gradients of shared/papers/ttfs.md §1.4, the
dependence of later spikes on earlier ones included. NaN-free gradients come from the double
``torch.where``: invalid entries are replaced by harmless values *before* sqrt, log and exp.

One discrete layer (``neurons.cuba``) is this neuron observed at the ends of its step bins: an input
in step n is the event at t = n, and with beta = e^{-1/tau_m} (alpha = beta^2) one input gives
v_pre[m] = w (beta^m - beta^{2m+1}) = V(m+1) / beta. So discrete step m fires iff V(m+1) >= beta V_th:
``continuous_threshold`` is beta V_th, and given the same input events a first spike at continuous
time t falls in the bin floor(t) the discrete engine fires in, unless the membrane crosses and falls
back below threshold inside that bin (the discrete engine then fires later or not at all). Later
spikes differ (the discrete reset acts at the bin's end), and so do later layers: the discrete engine
forwards a spike of bin [k, k+1) as an input at t = k, this engine at t. ``methods.ttfs.equivalence``
measures the per-layer agreement. beta -> 1 as the step shrinks.

Spike times are tensors ``[B, slots]`` with ``inf`` for "no spike"; computations run in float64.
"""
from __future__ import annotations

import math

import torch

from ...neurons.cuba import membrane_tau
from ...neurons.units import decay_from_tau

INF = math.inf


def continuous_threshold(threshold: float, tau_syn: float) -> float:
    """The continuous threshold beta V_th equivalent to the discrete engine's V_th (module docstring)."""
    return threshold * decay_from_tau(membrane_tau(tau_syn))


def input_spike_times(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Time-major 0/1 frames ``[T, B, F]`` -> spike times ``[B, F * R]`` and their input index ``[F * R]``.

    A spike in frame t is an event at time t (the start of step bin [t, t+1)); R is the most spikes
    any input emits in the batch (1 for latency coding); missing spikes are ``inf``."""
    if not bool(((frames == 0) | (frames == 1)).all()):
        raise ValueError("engine exact needs 0/1 spike frames; got other values (use --encoding latency)")
    steps, batch, features = frames.shape
    spikes = frames.to(torch.float64)
    rank = spikes.cumsum(0) * spikes                                           # (T, B, F) k-th spike -> k
    repeats = max(1, int(spikes.sum(0).max()))
    grid = torch.arange(steps, dtype=torch.float64, device=frames.device).view(-1, 1, 1)
    slots = []
    for k in range(1, repeats + 1):
        hit = rank == k                                                        # (T, B, F)
        slots.append(torch.where(hit.any(0), (grid * hit).sum(0), INF))        # (B, F)
    times = torch.stack(slots, -1).reshape(batch, features * repeats)          # (B, F*R)
    source = torch.arange(features, device=frames.device).repeat_interleave(repeats)
    return times, source


def layer_spike_times(times: torch.Tensor, source: torch.Tensor, weight: torch.Tensor, tau_syn: float,
                      threshold: float, max_spikes: int, t_max: float) -> torch.Tensor:
    """Spike times ``[B, N, K]`` (ascending, ``inf`` = none) of N neurons with input weights ``weight[N, F]``
    driven by presynaptic spikes ``times[B, M]`` from inputs ``source[M]`` (see the module docstring)."""
    tau_m = membrane_tau(tau_syn)
    t_sorted, order = times.sort(dim=1, stable=True)                           # (B, M), inf last
    w = weight.t()[source[order]]                                              # (B, M, N)
    present = torch.isfinite(t_sorted)                                         # (B, M)
    t_safe = torch.where(present, t_sorted, 0.0)
    a = (w * torch.where(present, torch.exp(t_safe / tau_syn), 0.0).unsqueeze(-1)).cumsum(1)   # (B, M, N)
    b_in = (w * torch.where(present, torch.exp(t_safe / tau_m), 0.0).unsqueeze(-1)).cumsum(1)  # (B, M, N)
    start = t_sorted.detach().unsqueeze(-1)                                    # (B, M, 1) interval start
    end = torch.cat([t_sorted.detach()[:, 1:], torch.full_like(t_sorted[:, :1], INF)], 1)
    end = end.clamp(max=t_max).unsqueeze(-1)                                   # (B, M, 1) next input or t_max
    batch, neurons = times.shape[0], weight.shape[0]
    reset = torch.zeros(batch, 1, neurons, dtype=a.dtype, device=a.device)     # V_th sum_k z_k
    last = torch.full((batch, 1, neurons), -INF, dtype=a.dtype, device=a.device)
    spikes = []
    for _ in range(max_spikes):
        b = b_in - reset                                                       # (B, M, N)
        disc = b * b - 4.0 * threshold * a
        real = (a > 0) & (b > 0) & (disc > 0)
        z = 2.0 * torch.where(real, a, 1.0) / (torch.where(real, b, 1.0) + torch.where(real, disc, 1.0).sqrt())
        t = tau_m * torch.log(z)                                               # (B, M, N)
        t_fixed = t.detach()
        valid = real & (t_fixed >= start) & (t_fixed < end) & (t_fixed > last)
        first = torch.where(valid, t, INF).min(1, keepdim=True).values        # (B, 1, N)
        fired = torch.isfinite(first)
        spikes.append(first.squeeze(1))
        if not bool(fired.any()):
            break
        reset = reset + torch.where(fired, threshold * torch.exp(torch.where(fired, first, 0.0) / tau_m), 0.0)
        last = torch.where(fired, first.detach(), last)
    spikes += [torch.full_like(spikes[0], INF)] * (max_spikes - len(spikes))
    return torch.stack(spikes, -1)                                             # (B, N, K)


def as_presynaptic(spike_times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's ``[B, N, K]`` spike times -> presynaptic ``times[B, M]`` and ``source[M]`` for the next
    layer, dropping the slots that are empty for the whole batch (they add nothing to a or b)."""
    batch, neurons, cap = spike_times.shape
    times = spike_times.reshape(batch, neurons * cap)                          # (B, N*K)
    source = torch.arange(neurons, device=times.device).repeat_interleave(cap)
    used = torch.isfinite(times).any(0)
    return times[:, used], source[used]


def binned_spikes(spike_times: torch.Tensor, steps: int) -> torch.Tensor:
    """``[B, N, K]`` spike times -> spike counts ``[T, B, N]`` per step bin [t, t+1) (no gradient)."""
    batch, neurons, _ = spike_times.shape
    times = spike_times.detach()
    fired = torch.isfinite(times)
    bins = torch.where(fired, times, 0.0).floor().long().clamp(0, steps - 1)    # (B, N, K)
    out = torch.zeros(steps, batch, neurons, dtype=torch.float32, device=times.device)
    index = bins.permute(2, 0, 1)                                              # (K, B, N)
    out.scatter_add_(0, index, fired.permute(2, 0, 1).to(out.dtype))
    return out


@torch.no_grad()
def grid_states(times: torch.Tensor, source: torch.Tensor, weight: torch.Tensor, spike_times: torch.Tensor,
                tau_syn: float, threshold: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Current, membrane before and after reset on the step grid, each ``[T, B, N]``, in the discrete
    engine's units (``threshold`` is its V_th, ``spike_times`` come from ``continuous_threshold``).

    Step m shows what the discrete engine's step m holds: the current I(m) (inputs at t <= m) and the
    membrane V(m+1) / beta at the end of the bin. ``v_pre`` leaves out the resets of the spikes inside
    bin m (as the discrete v_pre does), ``v_post`` includes them; each reset is V_th e^{-(t - t_k)/tau_m}."""
    tau_m = membrane_tau(tau_syn)
    w = weight.detach().t()[source]                                            # (M, N)
    own = spike_times.detach()                                                 # (B, N, K)
    fired = torch.isfinite(own)
    current, v_pre, v_post = [], [], []
    for m in range(steps):
        now = m + 1.0
        lag = now - times.detach()                                             # (B, M)
        seen = lag > 0
        lag = torch.where(seen, lag, 0.0)
        current.append(torch.where(lag >= 1.0, torch.exp((1.0 - lag) / tau_syn), 0.0) @ w)      # (B, N)
        psp = torch.where(seen, torch.exp((1.0 - lag) / tau_m) - torch.exp((0.5 - lag) / tau_syn), 0.0) @ w
        decay = threshold * torch.exp(-torch.where(fired, now - own, 0.0) / tau_m)              # (B, N, K)
        v_pre.append(psp - torch.where(own < m, decay, 0.0).sum(-1))
        v_post.append(psp - torch.where(own < now, decay, 0.0).sum(-1))
    return torch.stack(current), torch.stack(v_pre), torch.stack(v_post)
