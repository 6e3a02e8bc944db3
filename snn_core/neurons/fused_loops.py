"""Compiled (numba) forward and backward loops of the fused LIF and CUBA recurrences over ``[T, N]``.

Each loop walks t = 0..T-1 (forward) or T-1..0 (backward) with the neurons N = B x ... innermost,
so one call does the whole sequence with no per-op overhead. Spikes are 0/1 in the data's dtype (the op's
output, which the backward reads back). The equations and their derivation
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
BLOCK = 4096        # neurons walked back over t together in the backward: their rows stay in the CPU's cache


@njit(cache=True, inline="always")
def surrogate_row(v_pre, kind, c, slope):
    """slope[j] = sigma'(v_pre[j] - V_th) of ``snn_core.neurons.spike.SURROGATE_GRADIENTS``, same operation order;
    one loop per surrogate, so each is branch-free and vectorises (the scalars are read before the loops: a
    store to ``slope`` could alias ``c`` as far as the compiler knows, which would keep every load in the loop)."""
    pi, threshold, width, inv_width, one, two = c[PI], c[THRESHOLD], c[WIDTH], c[INV_WIDTH], c[ONE], c[TWO]
    zero, half_width = one - one, c[HALF_WIDTH]
    if kind == 0:                                             # (1/w) / (1 + (pi x / w)^2)
        for j in range(v_pre.shape[0]):
            r = pi * (v_pre[j] - threshold) / width
            slope[j] = inv_width / (one + r * r)
    elif kind == 1:                                           # (1/w) / (1 + 2|x|/w)^2
        for j in range(v_pre.shape[0]):
            d = one + two * abs(v_pre[j] - threshold) / width
            slope[j] = inv_width / (d * d)
    else:                                                     # a box of height 1/w
        for j in range(v_pre.shape[0]):
            slope[j] = (one if abs(v_pre[j] - threshold) < half_width else zero) / width


@njit(cache=True, inline="always")
def cap_row(spikes, cap, count, slope):
    """m_t: walk each neuron's count back past this step's spike, and zero the slope where count >= K."""
    for j in range(spikes.shape[0]):
        count[j] -= spikes[j] != 0
        if count[j] >= cap:
            slope[j] = slope[j] - slope[j]


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
            spikes[t, j] = c[ONE] if fire else c[ONE] - c[ONE]
            if fire:
                count[j] += 1
                v[j] = c[V_RESET] if hard else vp - c[THRESHOLD]
            else:
                v[j] = vp


@njit(cache=True, inline="always")
def spike_totals(spikes, start, stop, count):
    """count[j] = spikes of neuron start + j over the whole sequence (the backward walks it back step by step)."""
    count[:stop - start] = 0
    for t in range(spikes.shape[0]):
        for j in range(start, stop):
            count[j - start] += spikes[t, j] != 0


@njit(cache=True)
def lif_backward(grad_spikes, grad_v_pre, has_grad_v_pre, v_pre, spikes, c, hard, cap, kind, grad_current):
    """Reverse pass: gs = g_out + gv dv/ds; gv_pre = gv dv/dv_pre + gs m sigma'(v_pre - V_th) [+ g_v_pre];
    dI = gv_pre; gv[t-1] = beta gv_pre. Hard: dv/ds = V_reset - v_pre, dv/dv_pre = 1 - s; soft: -V_th, 1.
    Blocks of ``BLOCK`` neurons walk back over t with their state in cache; each row loop is branch-free."""
    steps, n = v_pre.shape
    beta, threshold, v_reset, one = c[BETA], c[THRESHOLD], c[V_RESET], c[ONE]
    gv = np.empty(BLOCK, v_pre.dtype)
    slope = np.empty(BLOCK, v_pre.dtype)
    count = np.zeros(BLOCK, np.int64)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        gv[:] = 0
        if cap > 0:
            spike_totals(spikes, start, stop, count)
        for t in range(steps - 1, -1, -1):
            vp, s, g_out, out = v_pre[t, start:stop], spikes[t, start:stop], grad_spikes[t, start:stop], \
                grad_current[t, start:stop]
            surrogate_row(vp, kind, c, slope)
            if cap > 0:
                cap_row(s, cap, count, slope)
            if hard:
                for j in range(stop - start):
                    gs = g_out[j] + gv[j] * (v_reset - vp[j])
                    out[j] = gv[j] * (one - s[j]) + gs * slope[j]
            else:
                for j in range(stop - start):
                    gs = g_out[j] - gv[j] * threshold
                    out[j] = gv[j] + gs * slope[j]
            if has_grad_v_pre:
                out += grad_v_pre[t, start:stop]
            for j in range(stop - start):
                gv[j] = beta * out[j]


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
            spikes[t, j] = c[ONE] if fire else c[ONE] - c[ONE]
            if fire:
                count[j] += 1
                v[j] = vp - c[THRESHOLD]
            else:
                v[j] = vp


@njit(cache=True)
def cuba_backward(grad_spikes, grad_v_pre, has_grad_v_pre, v_pre, spikes, c, cap, kind, grad_current):
    """Reverse pass: gs = g_out - V_th gv; gv_pre = gv + gs m sigma' [+ g_v_pre]; gi_all = gi + (1 - beta) gv_pre;
    dx = gi_all; gi[t-1] = alpha gi_all; gv[t-1] = beta gv_pre. Blocked as ``lif_backward``."""
    steps, n = v_pre.shape
    alpha, beta, one_minus_beta, threshold = c[ALPHA], c[BETA], c[ONE_MINUS_BETA], c[THRESHOLD]
    gv = np.empty(BLOCK, v_pre.dtype)
    gi = np.empty(BLOCK, v_pre.dtype)
    slope = np.empty(BLOCK, v_pre.dtype)
    count = np.zeros(BLOCK, np.int64)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        gv[:] = 0
        gi[:] = 0
        if cap > 0:
            spike_totals(spikes, start, stop, count)
        for t in range(steps - 1, -1, -1):
            vp, g_out, out = v_pre[t, start:stop], grad_spikes[t, start:stop], grad_current[t, start:stop]
            surrogate_row(vp, kind, c, slope)
            if cap > 0:
                cap_row(spikes[t, start:stop], cap, count, slope)
            for j in range(stop - start):
                slope[j] = gv[j] + (g_out[j] - gv[j] * threshold) * slope[j]            # now gv_pre
            if has_grad_v_pre:
                slope[:stop - start] += grad_v_pre[t, start:stop]
            for j in range(stop - start):
                g_all = gi[j] + one_minus_beta * slope[j]
                out[j] = g_all
                gi[j] = alpha * g_all
                gv[j] = beta * slope[j]
