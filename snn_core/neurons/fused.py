"""The whole LIF / CUBA recurrence as one autograd op with a hand-written backward through time.

The reference loop (``loop.spike_sequence`` over ``lif_step``) builds ~10 autograd nodes per step;
here the forward runs all T steps with no graph and saves only ``v_pre`` (one float per neuron per
step) and the spikes it returns (0/1 in the data's dtype: the next layer's synapse holds that tensor for
its own backward anyway, so keeping it adds no memory; a bool copy would add a byte per neuron per step);
the cap mask is recomputed from the spike counts. Backward, derived
from the reference step by the chain rule (the cap mask m and the spike count are not differentiated)::

    LIF   v_pre_t = beta v_{t-1} + I_t,  s_t = H(v_pre_t - V_th) m_t,
          v_t = v_pre_t (1 - s_t) + V_reset s_t  (hard)  |  v_pre_t - V_th s_t  (soft)
          gs_t     = g_out_t + gv_t dv_t/ds_t             (hard: V_reset - v_pre_t, soft: -V_th)
          gv_pre_t = gv_t dv_t/dv_pre_t + gs_t m_t sigma'(v_pre_t - V_th) + g_vpre_t   (hard: 1 - s_t, soft: 1)
          dI_t = gv_pre_t,   gv_{t-1} = beta gv_pre_t
    CUBA  i_t = alpha i_{t-1} + x_t,  v_pre_t = beta v_{t-1} + (1 - beta) i_t,  v_t = v_pre_t - V_th s_t
          gs_t = g_out_t - V_th gv_t,  gv_pre_t = gv_t + gs_t m_t sigma'(v_pre_t - V_th) + g_vpre_t
          dx_t = gi_t + (1 - beta) gv_pre_t,  gi_{t-1} = alpha dx_t,  gv_{t-1} = beta gv_pre_t

The op returns both spikes and ``v_pre`` (g_vpre is the gradient reaching ``v_pre`` from outside, e.g.
through a recorded ``v_post``). Three implementations of the loops, picked per call by ``backend_for``:
numba (``fused_loops``, float32/float64 CPU tensors; measured fastest on a 2-core CPU), Triton
(``fused_triton``, CUDA tensors when Triton imports: one kernel per sequence) and plain PyTorch
(preallocated buffers, in-place steps, a one-op-per-step linear recurrence backward) for everything else:
other dtypes, or a machine without numba or Triton. The forward is bit-exact with the reference loop in all
three (tests/core/neurons/test_fused.py; the Triton loops there run in Triton's interpreter on a CPU).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from .spike import SURROGATE_GRADIENTS

KERNELS = ("fused", "reference")
SURROGATE_CODES = {"atan": 0, "fast-sigmoid": 1, "rectangular": 2}     # the codes of fused_loops.surrogate_grad


@functools.cache
def compiled_loops():
    """The numba loops module, imported on first use (numba costs ~0.2 s to import, and a cached compile ~0.3 s
    to load at the first call; a cold compile of all loops ~2 s, once per machine); None without numba,
    which comes with tonic -> librosa (the torch loops run then)."""
    try:
        from . import fused_loops
    except ImportError:                   # pragma: no cover - numba is installed where the tests run
        return None
    return fused_loops


@functools.cache
def compiled_triton():
    """The Triton loops module, imported on first use; None without Triton (CPU builds of torch do not ship it)."""
    try:
        from . import fused_triton
    except ImportError:
        return None
    return fused_triton


def check_kernel(kernel: str) -> str:
    if kernel not in KERNELS:
        raise ValueError(f"neuron kernel={kernel!r} is not known; allowed: {', '.join(KERNELS)}")
    return kernel


def backend_for(tensor: torch.Tensor) -> str:
    """"numba" for float32/float64 CPU tensors when numba imports, "triton" for float32/float64 CUDA tensors when
    Triton imports, else "torch"."""
    if tensor.dtype not in (torch.float32, torch.float64):
        return "torch"
    if tensor.device.type == "cpu" and compiled_loops() is not None:
        return "numba"
    if tensor.device.type == "cuda" and compiled_triton() is not None:
        return "triton"
    return "torch"


def _consts(dtype: torch.dtype, p, beta: float, alpha: float = 0.0, v_reset: float = 0.0) -> np.ndarray:
    """The scalars of ``fused_loops`` in the tensors' dtype (see its docstring for the order)."""
    width = p.surrogate_width
    values = [beta, p.threshold, v_reset, math.pi, width, 1.0 / width, width / 2, 1.0, 2.0, alpha, 1.0 - beta]
    return np.array(values, dtype=torch.empty(0, dtype=dtype).numpy().dtype)


def _check_surrogate(p) -> None:
    if p.surrogate not in SURROGATE_CODES:
        raise ValueError(f"surrogate={p.surrogate!r} is not known; allowed: {', '.join(SURROGATE_CODES)}")


def _flat(currents: torch.Tensor) -> torch.Tensor:
    """``currents`` as a contiguous ``[T, N]`` that keeps its autograd link (reshape is differentiable)."""
    if currents.dim() < 2:
        raise ValueError(f"currents of shape {tuple(currents.shape)}; allowed: [T, B, ...] (at least 2 dims)")
    return currents.reshape(currents.shape[0], -1).contiguous()                      # (T, N)


def _np(tensor: torch.Tensor) -> np.ndarray:
    """A zero-copy NumPy view of a CPU tensor for the numba loops."""
    return tensor.detach().numpy()


def _cap_mask(spikes: torch.Tensor, cap: int) -> torch.Tensor | float:
    """m_t = [count_{t-1} < K], count_{t-1} the spikes before step t; 1 without a cap."""
    if cap <= 0:
        return 1.0
    before = spikes.to(torch.int32).cumsum(0) - spikes.to(torch.int32)
    return before < cap


def _linear_recurrence_back(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """y_t = b_t + a_t y_{t+1} (y_{T-1} = b_{T-1}) backwards over t, one op per step."""
    y = torch.empty_like(b)
    y[-1] = b[-1]
    for t in range(b.shape[0] - 2, -1, -1):
        torch.addcmul(b[t], a[t], y[t + 1], out=y[t])
    return y


class NeuronKernels(NamedTuple):
    """One neuron model's loops over ``[T, N]``: the plain-PyTorch pair, the numba pair (``fused_loops``) and
    the Triton pair (``fused_triton``)."""

    torch_forward: Callable      # (current, p) -> (spikes bool, v_pre); the others give spikes in the data's dtype
    torch_backward: Callable     # (grad_spikes | None, grad_v_pre | None, v_pre, spikes, p) -> grad_current
    numba_forward: Callable      # (loops, current, consts, p, v_pre out, spikes out) -> None
    numba_backward: Callable     # (loops, grad_spikes, grad_v_pre, has_grad_v_pre, v_pre, spikes, consts, p,
                                 #  grad_current out) -> None
    triton_forward: Callable     # (loops, current, consts tensor, p) -> (spikes, v_pre)
    triton_backward: Callable    # (loops, grad_spikes | None, grad_v_pre | None, v_pre, spikes, consts tensor, p)
                                 #  -> grad_current
    consts: Callable             # (dtype, p) -> the scalars of fused_loops in that dtype


class FusedNeuron(torch.autograd.Function):
    """(currents[T, N], params, kernels) -> (spikes[T, N], v_pre[T, N]); the backward is in the module docstring.
    One op for every model: ``kernels`` says which loops run, ``backend_for`` whether numba or PyTorch's."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, p, kernels: NeuronKernels):
        backend = backend_for(current)
        if backend == "numba":
            v_pre, spikes = torch.empty_like(current), torch.empty_like(current)
            kernels.numba_forward(compiled_loops(), _np(current), kernels.consts(current.dtype, p), p, _np(v_pre),
                                  _np(spikes))
        elif backend == "triton":
            ctx.consts = _device_consts(kernels, current, p)        # on the device since the first call
            spikes, v_pre = kernels.triton_forward(compiled_triton(), current, ctx.consts, p)
        else:
            spikes, v_pre = kernels.torch_forward(current, p)
            spikes = spikes.to(current.dtype)
        ctx.save_for_backward(v_pre, spikes)          # spikes: the op's own output, alive anyway for the next layer
        ctx.p, ctx.kernels = p, kernels
        ctx.set_materialize_grads(False)
        return spikes, v_pre

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_spikes, grad_v_pre):
        v_pre, spikes = ctx.saved_tensors
        p, kernels = ctx.p, ctx.kernels
        backend = backend_for(v_pre)
        if backend == "triton":
            return kernels.triton_backward(compiled_triton(), grad_spikes, grad_v_pre, v_pre, spikes, ctx.consts,
                                           p), None, None
        if backend != "numba":
            return kernels.torch_backward(grad_spikes, grad_v_pre, v_pre, spikes, p), None, None
        grad_current = torch.empty_like(v_pre)
        gs = torch.zeros_like(v_pre) if grad_spikes is None else grad_spikes.contiguous()
        gp = v_pre[:0] if grad_v_pre is None else grad_v_pre.contiguous()
        kernels.numba_backward(compiled_loops(), _np(gs), _np(gp), grad_v_pre is not None, _np(v_pre), _np(spikes),
                               kernels.consts(v_pre.dtype, p), p, _np(grad_current))
        return grad_current, None, None


def _device_consts(kernels: NeuronKernels, like: torch.Tensor, p) -> torch.Tensor:
    """The loops' scalars as a tensor of ``like``'s dtype on its device (what the Triton kernels read)."""
    return _consts_on(like.device, like.dtype, kernels.consts(like.dtype, p).tobytes())


@functools.lru_cache(maxsize=256)
def _consts_on(device: torch.device, dtype: torch.dtype, values: bytes) -> torch.Tensor:
    """``values`` copied to ``device`` once and kept (read only by the kernels): a copy per forward would be a
    host-to-device transfer, after which torch waits for the stream, so the CPU could not queue the next kernels
    while the GPU runs the current ones."""
    return torch.frombuffer(bytearray(values), dtype=dtype).to(device)


def _run(currents: torch.Tensor, p, kernels: NeuronKernels) -> tuple[torch.Tensor, torch.Tensor]:
    """The op over ``currents[T, B, ...]`` flattened to ``[T, N]``, and its outputs in the input's shape."""
    _check_surrogate(p)
    spikes, v_pre = FusedNeuron.apply(_flat(currents), p, kernels)
    return spikes.reshape(currents.shape), v_pre.reshape(currents.shape)


def _backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, a_of_slope) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B) of the membrane's reverse recurrence gv_pre_t = B_t + beta A_t gv_pre_{t+1}: ``a_of_slope(slope)``
    gives A (dv_t/dv_pre_t + dv_t/ds_t m sigma'), B = g_out m sigma' + g_vpre."""
    slope = SURROGATE_GRADIENTS[p.surrogate](v_pre - p.threshold, p.surrogate_width) * _cap_mask(spikes, p.max_spikes)
    b = grad_spikes * slope if grad_spikes is not None else torch.zeros_like(v_pre)
    if grad_v_pre is not None:
        b = b + grad_v_pre
    return a_of_slope(slope), b


# ---------------------------------------------------------------------------------------------- LIF

def _lif_forward_torch(current, p):
    v_pre = torch.empty_like(current)
    spikes = torch.empty(current.shape, dtype=torch.bool, device=current.device)
    v = torch.zeros_like(current[0])
    cap = p.max_spikes
    count = torch.zeros(current.shape[1:], dtype=torch.int32, device=current.device) if cap > 0 else None
    for t in range(current.shape[0]):
        torch.mul(v, p.decay, out=v_pre[t])
        v_pre[t].add_(current[t])
        torch.ge(v_pre[t] - p.threshold, 0, out=spikes[t])
        if count is not None:
            spikes[t].logical_and_(count < cap)
            count += spikes[t]
        if p.reset == "hard":
            v = torch.where(spikes[t], torch.full_like(v, p.v_reset), v_pre[t])
        else:
            v = torch.where(spikes[t], v_pre[t] - p.threshold, v_pre[t])
    return spikes, v_pre


def _lif_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p):
    """A = (1 - s) + (V_reset - v_pre) m sigma' (hard) or 1 - V_th m sigma' (soft); dI = gv_pre."""
    s = spikes.to(v_pre.dtype)
    hard = p.reset == "hard"
    a, b = _backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p,
                           lambda slope: (1.0 - s) + (p.v_reset - v_pre) * slope if hard else 1.0 - p.threshold * slope)
    return _linear_recurrence_back(p.decay * a, b)


LIF_KERNELS = NeuronKernels(
    _lif_forward_torch, _lif_backward_torch,
    lambda loops, current, c, p, v_pre, spikes: loops.lif_forward(current, c, p.reset == "hard", p.max_spikes,
                                                                  v_pre, spikes),
    lambda loops, gs, gp, has_gp, v_pre, spikes, c, p, out: loops.lif_backward(
        gs, gp, has_gp, v_pre, spikes, c, p.reset == "hard", p.max_spikes, SURROGATE_CODES[p.surrogate], out),
    lambda loops, current, c, p: loops.lif_forward(current, c, p.reset == "hard", p.max_spikes),
    lambda loops, gs, gp, v_pre, spikes, c, p: loops.lif_backward(
        gs, gp, v_pre, spikes, c, p.reset == "hard", p.max_spikes, SURROGATE_CODES[p.surrogate]),
    lambda dtype, p: _consts(dtype, p, p.decay, v_reset=p.v_reset))


def lif_fused(currents: torch.Tensor, p) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and v_pre ``[T, B, ...]`` of the LIF with ``LIFParams`` ``p`` over ``currents[T, B, ...]`` from rest,
    bit-exact with the reference loop, differentiable in both through the hand-written backward."""
    if p.reset not in ("hard", "soft"):
        raise ValueError(f"reset={p.reset!r} is not known; allowed: hard, soft")
    return _run(currents, p, LIF_KERNELS)


# --------------------------------------------------------------------------------------------- CUBA

def _cuba_forward_torch(current, p):
    alpha, beta, cap = p.alpha, p.beta, p.max_spikes
    v_pre = torch.empty_like(current)
    spikes = torch.empty(current.shape, dtype=torch.bool, device=current.device)
    i = torch.zeros_like(current[0])
    v = torch.zeros_like(current[0])
    count = torch.zeros(current.shape[1:], dtype=torch.int32, device=current.device) if cap > 0 else None
    for t in range(current.shape[0]):
        i = alpha * i + current[t]
        torch.mul(v, beta, out=v_pre[t])
        v_pre[t].add_((1.0 - beta) * i)
        torch.ge(v_pre[t] - p.threshold, 0, out=spikes[t])
        if count is not None:
            spikes[t].logical_and_(count < cap)
            count += spikes[t]
        v = torch.where(spikes[t], v_pre[t] - p.threshold, v_pre[t])
    return spikes, v_pre


def _cuba_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p):
    """A = 1 - V_th m sigma' (reset by subtraction), then the current's chain
    gi_t = (1 - beta) gv_pre_t + alpha gi_{t+1}."""
    a, b = _backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, lambda slope: 1.0 - p.threshold * slope)
    gv_pre = _linear_recurrence_back(p.beta * a, b)            # gv_t = beta gv_pre_{t+1}
    return _linear_recurrence_back(torch.full_like(b, p.alpha), (1.0 - p.beta) * gv_pre)


CUBA_KERNELS = NeuronKernels(
    _cuba_forward_torch, _cuba_backward_torch,
    lambda loops, current, c, p, v_pre, spikes: loops.cuba_forward(current, c, p.max_spikes, v_pre, spikes),
    lambda loops, gs, gp, has_gp, v_pre, spikes, c, p, out: loops.cuba_backward(
        gs, gp, has_gp, v_pre, spikes, c, p.max_spikes, SURROGATE_CODES[p.surrogate], out),
    lambda loops, current, c, p: loops.cuba_forward(current, c, p.max_spikes),
    lambda loops, gs, gp, v_pre, spikes, c, p: loops.cuba_backward(
        gs, gp, v_pre, spikes, c, p.max_spikes, SURROGATE_CODES[p.surrogate]),
    lambda dtype, p: _consts(dtype, p, p.beta, alpha=p.alpha))


def cuba_fused(currents: torch.Tensor, p) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and v_pre ``[T, B, ...]`` of the CUBA neuron with ``CUBAParams`` ``p``, as ``lif_fused``."""
    return _run(currents, p, CUBA_KERNELS)
