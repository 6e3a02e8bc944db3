"""Triton forward and backward loops of the fused LIF and CUBA recurrences over ``[T, N]``, for CUDA tensors.

One program owns a block of ``BLOCK`` neurons and walks t = 0..T-1 (forward) or T-1..0 (backward) with the
membrane, the synaptic current, the spike count and their gradients in registers: one kernel launch per
sequence instead of one per op per step. Each loop is ``fused_loops``'s (numba) loop with the neuron index
vectorised; the equations are in ``snn_core.neurons.fused``.

Bit-exactness with the reference loop: every scalar is read from ``consts``, a tensor of the data's dtype
(a Python float would reach the kernel as float32 and round a float64 run), in ``fused_loops``'s order;
launches pass ``enable_fp_fusion=False`` on a GPU so that ``beta v + I`` is a multiply and an add, as in the
reference, not one fused multiply-add with another rounding.

``TRITON_INTERPRET=1`` runs these kernels on CPU tensors through Triton's interpreter (NumPy): that is how
the tests check them on a machine without a GPU (``tests/core/neurons/test_fused.py``).
"""
from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

BLOCK = 128          # neurons per program: one warp group's registers hold the state of 128 neurons
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
BETA, THRESHOLD, V_RESET, PI, WIDTH, INV_WIDTH, HALF_WIDTH, ONE, TWO, ALPHA, ONE_MINUS_BETA = range(11)


@triton.jit
def _surrogate_grad(x, c_ptr, KIND: tl.constexpr):
    """sigma'(x) of ``snn_core.neurons.spike.SURROGATE_GRADIENTS`` (0 atan, 1 fast-sigmoid, 2 rectangular)."""
    width = tl.load(c_ptr + WIDTH)
    inv_width = tl.load(c_ptr + INV_WIDTH)
    one = tl.load(c_ptr + ONE)
    if KIND == 0:                                              # (1/w) / (1 + (pi x / w)^2)
        r = tl.load(c_ptr + PI) * x / width
        grad = inv_width / (one + r * r)
    elif KIND == 1:                                            # (1/w) / (1 + 2|x|/w)^2
        d = one + tl.load(c_ptr + TWO) * tl.abs(x) / width
        grad = inv_width / (d * d)
    else:                                                      # a box of height 1/w
        grad = tl.where(tl.abs(x) < tl.load(c_ptr + HALF_WIDTH), one, one - one) / width
    return grad


@triton.jit
def _lif_constants(c_ptr):
    """beta, V_th and V_reset of the LIF neuron, read from ``consts``."""
    return tl.load(c_ptr + BETA), tl.load(c_ptr + THRESHOLD), tl.load(c_ptr + V_RESET)


@triton.jit
def _lif_forward(cur_ptr, c_ptr, vpre_ptr, spk_ptr, T, N, HARD: tl.constexpr, CAP: tl.constexpr,
                 BLOCK: tl.constexpr):
    """v_pre[t] = beta v[t-1] + I[t]; s[t] = (v_pre[t] - V_th >= 0) and count < K; v[t] by the reset rule."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta, threshold, v_reset = _lif_constants(c_ptr)
    v = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    cur, vpre, spk = cur_ptr + offs, vpre_ptr + offs, spk_ptr + offs
    for _ in range(T):
        vp = beta * v + tl.load(cur, mask=live, other=0)
        tl.store(vpre, vp, mask=live)
        fire = vp - threshold >= 0
        if CAP > 0:
            fire = fire & (count < CAP)
            count += fire.to(tl.int32)
        tl.store(spk, fire.to(vpre_ptr.dtype.element_ty), mask=live)
        if HARD:
            v = tl.where(fire, v_reset, vp)
        else:
            v = tl.where(fire, vp - threshold, vp)
        cur, vpre, spk = cur + N, vpre + N, spk + N


@triton.jit
def _spike_totals(spk_ptr, offs, live, T, N, BLOCK: tl.constexpr):
    """Each neuron's spikes over the whole sequence (the backward walks the count back from it)."""
    count = tl.zeros([BLOCK], dtype=tl.int32)
    spk = spk_ptr + offs
    for _ in range(T):
        count += (tl.load(spk, mask=live, other=0) != 0).to(tl.int32)
        spk += N
    return count


@triton.jit
def _lif_backward(gs_ptr, gp_ptr, vpre_ptr, spk_ptr, spk_first, c_ptr, out_ptr, T, N, HAS_GS: tl.constexpr,
                  HAS_GP: tl.constexpr, HARD: tl.constexpr, CAP: tl.constexpr, KIND: tl.constexpr,
                  BLOCK: tl.constexpr):
    """gs = g_out + gv dv/ds; gv_pre = gv dv/dv_pre + gs m sigma'(v_pre - V_th) [+ g_v_pre]; dI = gv_pre;
    gv[t-1] = beta gv_pre. Hard: dv/ds = V_reset - v_pre, dv/dv_pre = 1 - s; soft: -V_th, 1."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta, threshold, v_reset = _lif_constants(c_ptr)
    gv = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    if CAP > 0:
        count = _spike_totals(spk_first, offs, live, T, N, BLOCK)
    g_s, g_p, vpre, spk, out = gs_ptr + offs, gp_ptr + offs, vpre_ptr + offs, spk_ptr + offs, out_ptr + offs
    for _ in range(T):
        s = tl.load(spk, mask=live, other=0) != 0
        if CAP > 0:
            count -= s.to(tl.int32)
        vp = tl.load(vpre, mask=live, other=0)
        g_out = tl.load(g_s, mask=live, other=0) if HAS_GS else gv - gv
        if HARD:
            gs = g_out + gv * (v_reset - vp)
            gp = tl.where(s, gv - gv, gv)
        else:
            gs = g_out - gv * threshold
            gp = gv
        slope = _surrogate_grad(vp - threshold, c_ptr, KIND)
        if CAP > 0:
            slope = tl.where(count < CAP, slope, slope - slope)
        gp += gs * slope
        if HAS_GP:
            gp += tl.load(g_p, mask=live, other=0)
        tl.store(out, gp, mask=live)
        gv = beta * gp
        g_s, g_p, vpre, spk, out = g_s - N, g_p - N, vpre - N, spk - N, out - N


@triton.jit
def _cuba_constants(c_ptr):
    """alpha, beta, 1 - beta and V_th of the CUBA neuron, read from ``consts``."""
    return tl.load(c_ptr + ALPHA), tl.load(c_ptr + BETA), tl.load(c_ptr + ONE_MINUS_BETA), tl.load(c_ptr + THRESHOLD)


@triton.jit
def _cuba_forward(cur_ptr, c_ptr, vpre_ptr, spk_ptr, T, N, CAP: tl.constexpr, BLOCK: tl.constexpr):
    """i[t] = alpha i[t-1] + x[t]; v_pre[t] = beta v[t-1] + (1 - beta) i[t]; spike as LIF; v[t] = v_pre - V_th s."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    alpha, beta, one_minus_beta, threshold = _cuba_constants(c_ptr)
    i = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    v = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    cur, vpre, spk = cur_ptr + offs, vpre_ptr + offs, spk_ptr + offs
    for _ in range(T):
        i = alpha * i + tl.load(cur, mask=live, other=0)
        vp = beta * v + one_minus_beta * i
        tl.store(vpre, vp, mask=live)
        fire = vp - threshold >= 0
        if CAP > 0:
            fire = fire & (count < CAP)
            count += fire.to(tl.int32)
        tl.store(spk, fire.to(vpre_ptr.dtype.element_ty), mask=live)
        v = tl.where(fire, vp - threshold, vp)
        cur, vpre, spk = cur + N, vpre + N, spk + N


@triton.jit
def _cuba_backward(gs_ptr, gp_ptr, vpre_ptr, spk_ptr, spk_first, c_ptr, out_ptr, T, N, HAS_GS: tl.constexpr,
                   HAS_GP: tl.constexpr, CAP: tl.constexpr, KIND: tl.constexpr, BLOCK: tl.constexpr):
    """gs = g_out - V_th gv; gv_pre = gv + gs m sigma' [+ g_v_pre]; dx = gi + (1 - beta) gv_pre;
    gi[t-1] = alpha dx; gv[t-1] = beta gv_pre."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    alpha, beta, one_minus_beta, threshold = _cuba_constants(c_ptr)
    gv = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    gi = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    if CAP > 0:
        count = _spike_totals(spk_first, offs, live, T, N, BLOCK)
    g_s, g_p, vpre, spk, out = gs_ptr + offs, gp_ptr + offs, vpre_ptr + offs, spk_ptr + offs, out_ptr + offs
    for _ in range(T):
        if CAP > 0:
            count -= (tl.load(spk, mask=live, other=0) != 0).to(tl.int32)
        vp = tl.load(vpre, mask=live, other=0)
        g_out = tl.load(g_s, mask=live, other=0) if HAS_GS else gv - gv
        gs = g_out - gv * threshold
        slope = _surrogate_grad(vp - threshold, c_ptr, KIND)
        if CAP > 0:
            slope = tl.where(count < CAP, slope, slope - slope)
        gp = gv + gs * slope
        if HAS_GP:
            gp += tl.load(g_p, mask=live, other=0)
        g_all = gi + one_minus_beta * gp
        tl.store(out, g_all, mask=live)
        gi = alpha * g_all
        gv = beta * gp
        g_s, g_p, vpre, spk, out = g_s - N, g_p - N, vpre - N, spk - N, out - N


def _launch(kernel, n: int, *args, **constants) -> None:
    grid = (triton.cdiv(n, BLOCK),)
    options = {} if INTERPRETED else {"enable_fp_fusion": False}
    kernel[grid](*args, BLOCK=BLOCK, **constants, **options)


def _outputs(current: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Empty v_pre and spikes (0/1) like ``current``."""
    return torch.empty_like(current), torch.empty_like(current)


def _grads(grad_spikes, grad_v_pre, v_pre):
    """The upstream gradients as contiguous tensors (``v_pre`` stands in for an absent one: never read).
    The backward kernels walk each ``[T, N]`` tensor from its last row back: they are handed ``tensor[-1]``."""
    gs = v_pre if grad_spikes is None else grad_spikes.contiguous()
    gp = v_pre if grad_v_pre is None else grad_v_pre.contiguous()
    return gs, gp, {"HAS_GS": grad_spikes is not None, "HAS_GP": grad_v_pre is not None}


def lif_forward(current: torch.Tensor, consts: torch.Tensor, hard: bool, cap: int):
    """(spikes, v_pre) of the LIF over a contiguous ``current[T, N]``."""
    v_pre, spikes = _outputs(current)
    steps, n = current.shape
    _launch(_lif_forward, n, current, consts, v_pre, spikes, steps, n, HARD=hard, CAP=cap)
    return spikes, v_pre


def lif_backward(grad_spikes, grad_v_pre, v_pre, spikes, consts, hard: bool, cap: int, kind: int) -> torch.Tensor:
    """dL/dI ``[T, N]`` of the LIF from the gradients reaching its spikes and v_pre (either may be None)."""
    grad_current = torch.empty_like(v_pre)
    steps, n = v_pre.shape
    gs, gp, present = _grads(grad_spikes, grad_v_pre, v_pre)
    _launch(_lif_backward, n, gs[-1], gp[-1], v_pre[-1], spikes[-1], spikes, consts, grad_current[-1], steps, n,
            HARD=hard, CAP=cap, KIND=kind, **present)
    return grad_current


def cuba_forward(current: torch.Tensor, consts: torch.Tensor, cap: int):
    """(spikes, v_pre) of the CUBA neuron over a contiguous ``current[T, N]``."""
    v_pre, spikes = _outputs(current)
    steps, n = current.shape
    _launch(_cuba_forward, n, current, consts, v_pre, spikes, steps, n, CAP=cap)
    return spikes, v_pre


def cuba_backward(grad_spikes, grad_v_pre, v_pre, spikes, consts, cap: int, kind: int) -> torch.Tensor:
    """dL/dx ``[T, N]`` of the CUBA neuron from the gradients reaching its spikes and v_pre (either may be None)."""
    grad_current = torch.empty_like(v_pre)
    steps, n = v_pre.shape
    gs, gp, present = _grads(grad_spikes, grad_v_pre, v_pre)
    _launch(_cuba_backward, n, gs[-1], gp[-1], v_pre[-1], spikes[-1], spikes, consts, grad_current[-1], steps, n,
            CAP=cap, KIND=kind, **present)
    return grad_current
