"""Compiled (numba) forward and backward loops of the fused LIF and CUBA recurrences over ``[T, N]``.

Each loop walks t = 0..T-1 (forward) or T-1..0 (backward) with the neurons N = B x ... innermost,
so one call does the whole sequence with no per-op overhead. The equations and their derivation
are in ``snn_core.neurons.fused``; the arithmetic here mirrors the reference step functions
operation by operation (same dtype, no fast-math contraction) so the forward is bit-exact.

Every scalar comes in ``consts``, an array of the tensors' dtype (float32 or float64): a Python
float literal would promote float32 arithmetic to float64 and change the rounding.
``consts`` = [beta, threshold, v_reset, pi, width, 1 / width, width / 2, 1, 2, alpha, 1 - beta]
(LIF leaves alpha and 1 - beta unused).
Surrogate codes: 0 atan, 1 fast-sigmoid, 2 rectangular (``SURROGATE_CODES`` in ``fused``).
``cache=True`` writes the machine code next to this file (or to numba's user cache) so only the
first process on a machine pays the compile time.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BETA, THRESHOLD, V_RESET, PI, WIDTH, INV_WIDTH, HALF_WIDTH, ONE, TWO, ALPHA, ONE_MINUS_BETA = range(11)


@njit(cache=True, inline="always")
def surrogate_grad(x, kind, c):
    """sigma'(x) of ``snn_core.neurons.spike.SURROGATE_GRADIENTS`` in the same operation order."""
    if kind == 0:                                             # (1/w) / (1 + (pi x / w)^2)
        r = c[PI] * x / c[WIDTH]
        return c[INV_WIDTH] / (c[ONE] + r * r)
    if kind == 1:                                             # (1/w) / (1 + 2|x|/w)^2
        d = c[ONE] + c[TWO] * abs(x) / c[WIDTH]
        return c[INV_WIDTH] / (d * d)
    return (c[ONE] if abs(x) < c[HALF_WIDTH] else c[ONE] - c[ONE]) / c[WIDTH]     # box of height 1/w


@njit(cache=True)
def lif_forward(current, c, hard, cap, v_pre, spikes):
    """v_pre[t] = beta v[t-1] + I[t]; s[t] = (v_pre[t] - V_th >= 0) and count < K; v[t] by the reset rule."""
    steps, n = current.shape
    v = np.zeros(n, current.dtype)
    count = np.zeros(n, np.int64)
    for t in range(steps):
        for j in range(n):
            vp = c[BETA] * v[j] + current[t, j]
            v_pre[t, j] = vp
            fire = vp - c[THRESHOLD] >= 0 and (cap <= 0 or count[j] < cap)
            spikes[t, j] = fire
            if fire:
                count[j] += 1
                v[j] = c[V_RESET] if hard else vp - c[THRESHOLD]
            else:
                v[j] = vp


@njit(cache=True)
def spike_totals(spikes, cap):
    """Each neuron's spikes over the whole sequence (zeros without a cap: the backward then needs no count)."""
    steps, n = spikes.shape
    count = np.zeros(n, np.int64)
    if cap > 0:
        for t in range(steps):
            for j in range(n):
                count[j] += spikes[t, j]
    return count


@njit(cache=True)
def lif_backward(grad_spikes, grad_v_pre, has_grad_v_pre, v_pre, spikes, c, hard, cap, kind, grad_current):
    """Reverse pass: gs = g_out + gv dv/ds; gv_pre = gv dv/dv_pre + gs m sigma'(v_pre - V_th) [+ g_v_pre];
    dI = gv_pre; gv[t-1] = beta gv_pre. Hard: dv/ds = V_reset - v_pre, dv/dv_pre = 1 - s; soft: -V_th, 1."""
    steps, n = v_pre.shape
    gv = np.zeros(n, v_pre.dtype)
    count = spike_totals(spikes, cap)                         # spikes before step t, walked back from the total
    for t in range(steps - 1, -1, -1):
        for j in range(n):
            s = spikes[t, j]
            if cap > 0 and s:
                count[j] -= 1
            vp = v_pre[t, j]
            g = gv[j]
            if hard:
                gs = grad_spikes[t, j] + g * (c[V_RESET] - vp)
                gp = g - g if s else g
            else:
                gs = grad_spikes[t, j] - g * c[THRESHOLD]
                gp = g
            if cap <= 0 or count[j] < cap:
                gp += gs * surrogate_grad(vp - c[THRESHOLD], kind, c)
            if has_grad_v_pre:
                gp += grad_v_pre[t, j]
            grad_current[t, j] = gp
            gv[j] = c[BETA] * gp


@njit(cache=True)
def cuba_forward(current, c, cap, v_pre, spikes):
    """i[t] = alpha i[t-1] + x[t]; v_pre[t] = beta v[t-1] + (1 - beta) i[t]; spike as LIF; v[t] = v_pre - V_th s."""
    steps, n = current.shape
    i = np.zeros(n, current.dtype)
    v = np.zeros(n, current.dtype)
    count = np.zeros(n, np.int64)
    for t in range(steps):
        for j in range(n):
            i[j] = c[ALPHA] * i[j] + current[t, j]
            vp = c[BETA] * v[j] + c[ONE_MINUS_BETA] * i[j]
            v_pre[t, j] = vp
            fire = vp - c[THRESHOLD] >= 0 and (cap <= 0 or count[j] < cap)
            spikes[t, j] = fire
            if fire:
                count[j] += 1
                v[j] = vp - c[THRESHOLD]
            else:
                v[j] = vp


@njit(cache=True)
def cuba_backward(grad_spikes, grad_v_pre, has_grad_v_pre, v_pre, spikes, c, cap, kind, grad_current):
    """Reverse pass: gs = g_out - V_th gv; gv_pre = gv + gs m sigma' [+ g_v_pre]; gi_all = gi + (1 - beta) gv_pre;
    dx = gi_all; gi[t-1] = alpha gi_all; gv[t-1] = beta gv_pre."""
    steps, n = v_pre.shape
    gv = np.zeros(n, v_pre.dtype)
    gi = np.zeros(n, v_pre.dtype)
    count = spike_totals(spikes, cap)
    for t in range(steps - 1, -1, -1):
        for j in range(n):
            if cap > 0 and spikes[t, j]:
                count[j] -= 1
            vp = v_pre[t, j]
            gs = grad_spikes[t, j] - gv[j] * c[THRESHOLD]
            gp = gv[j]
            if cap <= 0 or count[j] < cap:
                gp += gs * surrogate_grad(vp - c[THRESHOLD], kind, c)
            if has_grad_v_pre:
                gp += grad_v_pre[t, j]
            g_all = gi[j] + c[ONE_MINUS_BETA] * gp
            grad_current[t, j] = g_all
            gi[j] = c[ALPHA] * g_all
            gv[j] = c[BETA] * gp
