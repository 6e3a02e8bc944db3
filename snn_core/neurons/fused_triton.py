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
# steps whose rows each loop iteration loads at once: a step's work is a few instructions, its load ~0.5 µs of
# memory latency, so one row at a time would cost T latencies per sequence; ``_rows`` spells out the four loads
UNROLL = tl.constexpr(4)
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
# positions in ``consts`` (``fused._consts``'s order); tl.constexpr, the only globals a compiled kernel may read
BETA, THRESHOLD, V_RESET, PI, WIDTH, INV_WIDTH, HALF_WIDTH, ONE, TWO, ALPHA, ONE_MINUS_BETA = map(tl.constexpr,
                                                                                          range(11))


@triton.jit
def _surrogate_constants(c_ptr):
    """pi, width, 1/width, width/2, 1 and 2, read once before a loop: a load inside it would be repeated every
    step, since a store to ``out`` could alias ``consts`` as far as the compiler knows."""
    return (tl.load(c_ptr + PI), tl.load(c_ptr + WIDTH), tl.load(c_ptr + INV_WIDTH), tl.load(c_ptr + HALF_WIDTH),
            tl.load(c_ptr + ONE), tl.load(c_ptr + TWO))


@triton.jit
def _surrogate_grad(x, pi, width, inv_width, half_width, one, two, KIND: tl.constexpr):
    """sigma'(x) of ``snn_core.neurons.spike.SURROGATE_GRADIENTS`` (0 atan, 1 fast-sigmoid, 2 rectangular)."""
    if KIND == 0:                                              # (1/w) / (1 + (pi x / w)^2)
        r = pi * x / width
        grad = inv_width / (one + r * r)
    elif KIND == 1:                                            # (1/w) / (1 + 2|x|/w)^2
        d = one + two * tl.abs(x) / width
        grad = inv_width / (d * d)
    else:                                                      # a box of height 1/w
        grad = tl.where(tl.abs(x) < half_width, one, one - one) / width
    return grad


@triton.jit
def _live_at(live, t, T):
    """``live`` where step t exists (t < T), as a block: Triton's interpreter takes no scalar in a mask."""
    return live & (tl.zeros_like(live.to(tl.int32)) + t < T)


@triton.jit
def _rows(ptr, stride, t, T, live):
    """The ``UNROLL`` = 4 rows ``ptr``, ``ptr + stride``, ... of steps t..t+3 (masked past the sequence's end),
    loaded together: their memory latencies overlap instead of adding up step after step."""
    return (tl.load(ptr, mask=live, other=0),
            tl.load(ptr + stride, mask=_live_at(live, t + 1, T), other=0),
            tl.load(ptr + 2 * stride, mask=_live_at(live, t + 2, T), other=0),
            tl.load(ptr + 3 * stride, mask=_live_at(live, t + 3, T), other=0))


@triton.jit
def _fire(vp, threshold, count, CAP: tl.constexpr):
    """s = (v_pre - V_th >= 0) and count < K; the count after this step."""
    fire = vp - threshold >= 0
    if CAP > 0:
        fire = fire & (count < CAP)
        count += fire.to(tl.int32)
    return fire, count


@triton.jit
def _lif_forward_step(x, v, count, beta, threshold, v_reset, vpre, spk, mask, HARD: tl.constexpr,
                      CAP: tl.constexpr):
    """v_pre = beta v + I; spike; v by the reset rule; v_pre and s stored under ``mask``."""
    vp = beta * v + x
    tl.store(vpre, vp, mask=mask)
    fire, count = _fire(vp, threshold, count, CAP)
    tl.store(spk, fire.to(vp.dtype), mask=mask)
    if HARD:
        v = tl.where(fire, v_reset, vp)
    else:
        v = tl.where(fire, vp - threshold, vp)
    return v, count


@triton.jit
def _lif_forward(cur_ptr, c_ptr, vpre_ptr, spk_ptr, T, N, HARD: tl.constexpr, CAP: tl.constexpr,
                 BLOCK: tl.constexpr):
    """v_pre[t] = beta v[t-1] + I[t]; s[t] = (v_pre[t] - V_th >= 0) and count < K; v[t] by the reset rule."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta, threshold, v_reset = tl.load(c_ptr + BETA), tl.load(c_ptr + THRESHOLD), tl.load(c_ptr + V_RESET)
    v = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    cur, vpre, spk = cur_ptr + offs, vpre_ptr + offs, spk_ptr + offs
    for t in range(0, T, UNROLL):
        x0, x1, x2, x3 = _rows(cur, N, t, T, live)
        v, count = _lif_forward_step(x0, v, count, beta, threshold, v_reset, vpre, spk, live, HARD, CAP)
        v, count = _lif_forward_step(x1, v, count, beta, threshold, v_reset, vpre + N, spk + N,
                                     _live_at(live, t + 1, T), HARD, CAP)
        v, count = _lif_forward_step(x2, v, count, beta, threshold, v_reset, vpre + 2 * N, spk + 2 * N,
                                     _live_at(live, t + 2, T), HARD, CAP)
        v, count = _lif_forward_step(x3, v, count, beta, threshold, v_reset, vpre + 3 * N, spk + 3 * N,
                                     _live_at(live, t + 3, T), HARD, CAP)
        cur, vpre, spk = cur + UNROLL * N, vpre + UNROLL * N, spk + UNROLL * N


@triton.jit
def _spike_totals(spk_ptr, offs, live, T, N, BLOCK: tl.constexpr):
    """Each neuron's spikes over the whole sequence (the backward walks the count back from it)."""
    count = tl.zeros([BLOCK], dtype=tl.int32)
    spk = spk_ptr + offs
    for t in range(0, T, UNROLL):
        s0, s1, s2, s3 = _rows(spk, N, t, T, live)
        count += (s0 != 0).to(tl.int32) + (s1 != 0).to(tl.int32) + (s2 != 0).to(tl.int32) + (s3 != 0).to(tl.int32)
        spk += UNROLL * N
    return count


@triton.jit
def _optional_rows(ptr, stride, t, T, live, like, PRESENT: tl.constexpr):
    """``_rows`` of an upstream gradient, or four zero rows (shaped as ``like``) where none reached the op."""
    if PRESENT:
        r0, r1, r2, r3 = _rows(ptr, stride, t, T, live)
    else:
        r0 = tl.zeros_like(like)
        r1, r2, r3 = r0, r0, r0
    return r0, r1, r2, r3


@triton.jit
def _lif_backward_step(g_out, g_vpre, vp, spiked, gv, count, beta, threshold, v_reset, pi, width, inv_width,
                       half_width, one, two, out, mask, HARD: tl.constexpr, CAP: tl.constexpr, KIND: tl.constexpr):
    """gs = g_out + gv dv/ds; gv_pre = gv dv/dv_pre + gs m sigma' + g_vpre, stored as dI under ``mask``;
    returns gv[t-1] = beta gv_pre and the spikes before this step."""
    s = spiked != 0
    if CAP > 0:
        count -= s.to(tl.int32)
    if HARD:
        gs = g_out + gv * (v_reset - vp)
        gp = tl.where(s, gv - gv, gv)
    else:
        gs = g_out - gv * threshold
        gp = gv
    slope = _surrogate_grad(vp - threshold, pi, width, inv_width, half_width, one, two, KIND)
    if CAP > 0:
        slope = tl.where(count < CAP, slope, slope - slope)
    gp += gs * slope
    gp += g_vpre
    tl.store(out, gp, mask=mask)
    return beta * gp, count


@triton.jit
def _lif_backward(gs_ptr, gp_ptr, vpre_ptr, spk_ptr, spk_first, c_ptr, out_ptr, T, N, HAS_GS: tl.constexpr,
                  HAS_GP: tl.constexpr, HARD: tl.constexpr, CAP: tl.constexpr, KIND: tl.constexpr,
                  BLOCK: tl.constexpr):
    """gs = g_out + gv dv/ds; gv_pre = gv dv/dv_pre + gs m sigma'(v_pre - V_th) [+ g_v_pre]; dI = gv_pre;
    gv[t-1] = beta gv_pre. Hard: dv/ds = V_reset - v_pre, dv/dv_pre = 1 - s; soft: -V_th, 1. Walks t = T-1..0:
    every pointer starts at the last row and steps back by N."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    beta, threshold, v_reset = tl.load(c_ptr + BETA), tl.load(c_ptr + THRESHOLD), tl.load(c_ptr + V_RESET)
    pi, width, inv_width, half_width, one, two = _surrogate_constants(c_ptr)
    gv = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    if CAP > 0:
        count = _spike_totals(spk_first, offs, live, T, N, BLOCK)
    g_s, g_p, vpre, spk, out = gs_ptr + offs, gp_ptr + offs, vpre_ptr + offs, spk_ptr + offs, out_ptr + offs
    for t in range(0, T, UNROLL):
        v0, v1, v2, v3 = _rows(vpre, -N, t, T, live)
        s0, s1, s2, s3 = _rows(spk, -N, t, T, live)
        o0, o1, o2, o3 = _optional_rows(g_s, -N, t, T, live, v0, HAS_GS)
        p0, p1, p2, p3 = _optional_rows(g_p, -N, t, T, live, v0, HAS_GP)
        gv, count = _lif_backward_step(o0, p0, v0, s0, gv, count, beta, threshold, v_reset, pi, width, inv_width,
                                       half_width, one, two, out, live, HARD, CAP, KIND)
        gv, count = _lif_backward_step(o1, p1, v1, s1, gv, count, beta, threshold, v_reset, pi, width, inv_width,
                                       half_width, one, two, out - N, _live_at(live, t + 1, T), HARD, CAP, KIND)
        gv, count = _lif_backward_step(o2, p2, v2, s2, gv, count, beta, threshold, v_reset, pi, width, inv_width,
                                       half_width, one, two, out - 2 * N, _live_at(live, t + 2, T), HARD, CAP, KIND)
        gv, count = _lif_backward_step(o3, p3, v3, s3, gv, count, beta, threshold, v_reset, pi, width, inv_width,
                                       half_width, one, two, out - 3 * N, _live_at(live, t + 3, T), HARD, CAP, KIND)
        g_s, g_p, vpre, spk, out = (g_s - UNROLL * N, g_p - UNROLL * N, vpre - UNROLL * N, spk - UNROLL * N,
                                    out - UNROLL * N)


@triton.jit
def _cuba_constants(c_ptr):
    """alpha, beta, 1 - beta and V_th of the CUBA neuron, read from ``consts``."""
    return tl.load(c_ptr + ALPHA), tl.load(c_ptr + BETA), tl.load(c_ptr + ONE_MINUS_BETA), tl.load(c_ptr + THRESHOLD)


@triton.jit
def _cuba_forward_step(x, i, v, count, alpha, beta, one_minus_beta, threshold, vpre, spk, mask, CAP: tl.constexpr):
    """i = alpha i + x; v_pre = beta v + (1 - beta) i; spike; v = v_pre - V_th s; v_pre and s stored under ``mask``."""
    i = alpha * i + x
    vp = beta * v + one_minus_beta * i
    tl.store(vpre, vp, mask=mask)
    fire, count = _fire(vp, threshold, count, CAP)
    tl.store(spk, fire.to(vp.dtype), mask=mask)
    return i, tl.where(fire, vp - threshold, vp), count


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
    for t in range(0, T, UNROLL):
        x0, x1, x2, x3 = _rows(cur, N, t, T, live)
        i, v, count = _cuba_forward_step(x0, i, v, count, alpha, beta, one_minus_beta, threshold, vpre, spk, live,
                                         CAP)
        i, v, count = _cuba_forward_step(x1, i, v, count, alpha, beta, one_minus_beta, threshold, vpre + N, spk + N,
                                         _live_at(live, t + 1, T), CAP)
        i, v, count = _cuba_forward_step(x2, i, v, count, alpha, beta, one_minus_beta, threshold, vpre + 2 * N,
                                         spk + 2 * N, _live_at(live, t + 2, T), CAP)
        i, v, count = _cuba_forward_step(x3, i, v, count, alpha, beta, one_minus_beta, threshold, vpre + 3 * N,
                                         spk + 3 * N, _live_at(live, t + 3, T), CAP)
        cur, vpre, spk = cur + UNROLL * N, vpre + UNROLL * N, spk + UNROLL * N


@triton.jit
def _cuba_backward_step(g_out, g_vpre, vp, spiked, gv, gi, count, alpha, beta, one_minus_beta, threshold, pi, width,
                        inv_width, half_width, one, two, out, mask, CAP: tl.constexpr, KIND: tl.constexpr):
    """gs = g_out - V_th gv; gv_pre = gv + gs m sigma' + g_vpre; dx = gi + (1 - beta) gv_pre, stored under
    ``mask``; returns gv[t-1] = beta gv_pre, gi[t-1] = alpha dx and the spikes before this step."""
    if CAP > 0:
        count -= (spiked != 0).to(tl.int32)
    gs = g_out - gv * threshold
    slope = _surrogate_grad(vp - threshold, pi, width, inv_width, half_width, one, two, KIND)
    if CAP > 0:
        slope = tl.where(count < CAP, slope, slope - slope)
    gp = gv + gs * slope
    gp += g_vpre
    g_all = gi + one_minus_beta * gp
    tl.store(out, g_all, mask=mask)
    return beta * gp, alpha * g_all, count


@triton.jit
def _cuba_backward(gs_ptr, gp_ptr, vpre_ptr, spk_ptr, spk_first, c_ptr, out_ptr, T, N, HAS_GS: tl.constexpr,
                   HAS_GP: tl.constexpr, CAP: tl.constexpr, KIND: tl.constexpr, BLOCK: tl.constexpr):
    """gs = g_out - V_th gv; gv_pre = gv + gs m sigma' [+ g_v_pre]; dx = gi + (1 - beta) gv_pre;
    gi[t-1] = alpha dx; gv[t-1] = beta gv_pre. Walks t = T-1..0 as ``_lif_backward``."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < N
    alpha, beta, one_minus_beta, threshold = _cuba_constants(c_ptr)
    pi, width, inv_width, half_width, one, two = _surrogate_constants(c_ptr)
    gv = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    gi = tl.zeros([BLOCK], dtype=vpre_ptr.dtype.element_ty)
    count = tl.zeros([BLOCK], dtype=tl.int32)
    if CAP > 0:
        count = _spike_totals(spk_first, offs, live, T, N, BLOCK)
    g_s, g_p, vpre, spk, out = gs_ptr + offs, gp_ptr + offs, vpre_ptr + offs, spk_ptr + offs, out_ptr + offs
    for t in range(0, T, UNROLL):
        v0, v1, v2, v3 = _rows(vpre, -N, t, T, live)
        s0, s1, s2, s3 = _rows(spk, -N, t, T, live)
        o0, o1, o2, o3 = _optional_rows(g_s, -N, t, T, live, v0, HAS_GS)
        p0, p1, p2, p3 = _optional_rows(g_p, -N, t, T, live, v0, HAS_GP)
        gv, gi, count = _cuba_backward_step(o0, p0, v0, s0, gv, gi, count, alpha, beta, one_minus_beta, threshold,
                                            pi, width, inv_width, half_width, one, two, out, live, CAP, KIND)
        gv, gi, count = _cuba_backward_step(o1, p1, v1, s1, gv, gi, count, alpha, beta, one_minus_beta, threshold,
                                            pi, width, inv_width, half_width, one, two, out - N,
                                            _live_at(live, t + 1, T), CAP, KIND)
        gv, gi, count = _cuba_backward_step(o2, p2, v2, s2, gv, gi, count, alpha, beta, one_minus_beta, threshold,
                                            pi, width, inv_width, half_width, one, two, out - 2 * N,
                                            _live_at(live, t + 2, T), CAP, KIND)
        gv, gi, count = _cuba_backward_step(o3, p3, v3, s3, gv, gi, count, alpha, beta, one_minus_beta, threshold,
                                            pi, width, inv_width, half_width, one, two, out - 3 * N,
                                            _live_at(live, t + 3, T), CAP, KIND)
        g_s, g_p, vpre, spk, out = (g_s - UNROLL * N, g_p - UNROLL * N, vpre - UNROLL * N, spk - UNROLL * N,
                                    out - UNROLL * N)


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
