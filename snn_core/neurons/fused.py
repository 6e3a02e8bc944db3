"""The whole LIF / CUBA recurrence as one autograd op with a hand-written backward through time.

The reference loop (``loop.spike_sequence`` over ``lif_step``) builds ~10 autograd nodes per step;
here the forward runs all T steps with no graph and saves only ``v_pre`` (one float per neuron per
step) and the spikes (bool); the cap mask is recomputed from the spike counts. Backward, derived
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
through a recorded ``v_post``). Two implementations of the loops, picked per call by ``backend_for``:
numba (``fused_loops``, float32/float64 CPU tensors; measured fastest on a 2-core CPU) and plain
PyTorch (preallocated buffers, in-place steps, a one-op-per-step linear recurrence backward) for
everything else: CUDA tensors (untested: no GPU in the session that wrote this), other dtypes, or a
machine without numba. The forward is bit-exact with the reference loop in both (tests/core/neurons/test_fused.py).
"""
from __future__ import annotations

import functools
import math

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


def check_kernel(kernel: str) -> str:
    if kernel not in KERNELS:
        raise ValueError(f"neuron kernel={kernel!r} is not known; allowed: {', '.join(KERNELS)}")
    return kernel


def backend_for(tensor: torch.Tensor) -> str:
    """"numba" for float32/float64 CPU tensors when numba imports, else "torch"."""
    numba_ok = tensor.device.type == "cpu" and compiled_loops() is not None
    return "numba" if numba_ok and tensor.dtype in (torch.float32, torch.float64) else "torch"


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


# ---------------------------------------------------------------------------------------------- LIF

def _lif_forward_torch(current, p, cap):
    v_pre = torch.empty_like(current)
    spikes = torch.empty(current.shape, dtype=torch.bool, device=current.device)
    v = torch.zeros_like(current[0])
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


def _lif_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, cap):
    """gv_pre_t = B_t + beta A_t gv_pre_{t+1}, A = dv/dv_pre + dv/ds m sigma', B = g_out m sigma' + g_vpre."""
    slope = SURROGATE_GRADIENTS[p.surrogate](v_pre - p.threshold, p.surrogate_width) * _cap_mask(spikes, cap)
    s = spikes.to(v_pre.dtype)
    if p.reset == "hard":
        a = (1.0 - s) + (p.v_reset - v_pre) * slope
    else:
        a = 1.0 - p.threshold * slope
    b = grad_spikes * slope if grad_spikes is not None else torch.zeros_like(v_pre)
    if grad_v_pre is not None:
        b = b + grad_v_pre
    return _linear_recurrence_back(p.decay * a, b)


class FusedLIF(torch.autograd.Function):
    """(currents[T, N], params) -> (spikes[T, N], v_pre[T, N]); see the module docstring for the backward."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, p):
        cap = p.max_spikes
        if backend_for(current) == "numba":
            v_pre = torch.empty_like(current)
            spikes = torch.empty(current.shape, dtype=torch.bool)
            consts = _consts(current.dtype, p, p.decay, v_reset=p.v_reset)
            compiled_loops().lif_forward(_np(current), consts, p.reset == "hard", cap, _np(v_pre), _np(spikes))
        else:
            spikes, v_pre = _lif_forward_torch(current, p, cap)
        ctx.save_for_backward(v_pre, spikes)
        ctx.p = p
        ctx.set_materialize_grads(False)
        return spikes.to(current.dtype), v_pre

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_spikes, grad_v_pre):
        v_pre, spikes = ctx.saved_tensors
        p = ctx.p
        if backend_for(v_pre) != "numba":
            return _lif_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, p.max_spikes), None
        grad_current = torch.empty_like(v_pre)
        gs = torch.zeros_like(v_pre) if grad_spikes is None else grad_spikes.contiguous()
        gp = v_pre[:0] if grad_v_pre is None else grad_v_pre.contiguous()
        consts = _consts(v_pre.dtype, p, p.decay, v_reset=p.v_reset)
        compiled_loops().lif_backward(_np(gs), _np(gp), grad_v_pre is not None, _np(v_pre), _np(spikes), consts,
                                    p.reset == "hard", p.max_spikes, SURROGATE_CODES[p.surrogate], _np(grad_current))
        return grad_current, None


def lif_fused(currents: torch.Tensor, p) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and v_pre ``[T, B, ...]`` of the LIF with ``LIFParams`` ``p`` over ``currents[T, B, ...]`` from rest,
    bit-exact with the reference loop, differentiable in both through the hand-written backward."""
    if p.reset not in ("hard", "soft"):
        raise ValueError(f"reset={p.reset!r} is not known; allowed: hard, soft")
    _check_surrogate(p)
    spikes, v_pre = FusedLIF.apply(_flat(currents), p)
    return spikes.reshape(currents.shape), v_pre.reshape(currents.shape)


# --------------------------------------------------------------------------------------------- CUBA

def _cuba_forward_torch(current, p, cap):
    alpha, beta = p.alpha, p.beta
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


def _cuba_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, cap):
    """gv_pre_t = B_t + A_t gv_t with A = 1 - V_th m sigma', B = g_out m sigma' + g_vpre; then the i chain."""
    slope = SURROGATE_GRADIENTS[p.surrogate](v_pre - p.threshold, p.surrogate_width) * _cap_mask(spikes, cap)
    a = 1.0 - p.threshold * slope
    b = grad_spikes * slope if grad_spikes is not None else torch.zeros_like(v_pre)
    if grad_v_pre is not None:
        b = b + grad_v_pre
    alpha, beta = p.alpha, p.beta
    gv_pre = _linear_recurrence_back(beta * a, b)            # gv_t = beta gv_pre_{t+1}
    return _linear_recurrence_back(torch.full_like(b, alpha), (1.0 - beta) * gv_pre)


class FusedCUBA(torch.autograd.Function):
    """(currents[T, N], params) -> (spikes[T, N], v_pre[T, N]); see the module docstring for the backward."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, p):
        cap = p.max_spikes
        if backend_for(current) == "numba":
            v_pre = torch.empty_like(current)
            spikes = torch.empty(current.shape, dtype=torch.bool)
            consts = _consts(current.dtype, p, p.beta, alpha=p.alpha)
            compiled_loops().cuba_forward(_np(current), consts, cap, _np(v_pre), _np(spikes))
        else:
            spikes, v_pre = _cuba_forward_torch(current, p, cap)
        ctx.save_for_backward(v_pre, spikes)
        ctx.p = p
        ctx.set_materialize_grads(False)
        return spikes.to(current.dtype), v_pre

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_spikes, grad_v_pre):
        v_pre, spikes = ctx.saved_tensors
        p = ctx.p
        if backend_for(v_pre) != "numba":
            return _cuba_backward_torch(grad_spikes, grad_v_pre, v_pre, spikes, p, p.max_spikes), None
        grad_current = torch.empty_like(v_pre)
        gs = torch.zeros_like(v_pre) if grad_spikes is None else grad_spikes.contiguous()
        gp = v_pre[:0] if grad_v_pre is None else grad_v_pre.contiguous()
        consts = _consts(v_pre.dtype, p, p.beta, alpha=p.alpha)
        compiled_loops().cuba_backward(_np(gs), _np(gp), grad_v_pre is not None, _np(v_pre), _np(spikes), consts,
                                     p.max_spikes, SURROGATE_CODES[p.surrogate], _np(grad_current))
        return grad_current, None


def cuba_fused(currents: torch.Tensor, p) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and v_pre ``[T, B, ...]`` of the CUBA neuron with ``CUBAParams`` ``p``, as ``lif_fused``."""
    _check_surrogate(p)
    spikes, v_pre = FusedCUBA.apply(_flat(currents), p)
    return spikes.reshape(currents.shape), v_pre.reshape(currents.shape)
